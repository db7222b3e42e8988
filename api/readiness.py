"""Is the database reachable? Checked over a connection of its own with a short timeout:
asking through the event store's pool would wait out the pool's timeouts and retries (minutes)
and tie up a worker thread per probe while the database is down."""

from __future__ import annotations

import socket
import sqlite3

import psycopg
from psycopg.conninfo import make_conninfo

from projections.storage.urls import is_postgres, postgres_params, sqlite_path

TIMEOUT_SECONDS = 2


def database_problem(url: str) -> str | None:
    """None when the database answers a query, else why not."""
    try:
        if is_postgres(url):
            _ask_postgres(url)
        else:
            _ask_sqlite(url)
    except (psycopg.Error, sqlite3.Error, OSError, ValueError) as error:
        return f"{type(error).__name__}: {error}"
    return None


def _ask_postgres(url: str) -> None:
    conninfo = make_conninfo(**postgres_params(url), connect_timeout=TIMEOUT_SECONDS,
                             options=f"-c statement_timeout={TIMEOUT_SECONDS * 1000}")
    with psycopg.connect(conninfo) as connection:
        connection.execute("SELECT 1")


def _ask_sqlite(url: str) -> None:
    # mode=rw: a missing file is "not reachable", not silently created empty.
    uri = f"file:{sqlite_path(url)}?mode=rw"
    connection = sqlite3.connect(uri, uri=True, timeout=TIMEOUT_SECONDS)
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    finally:
        connection.close()


def broker_problem(bootstrap_servers: str | None) -> str | None:
    """None when Kafka is off or one of its bootstrap servers accepts a connection."""
    if not bootstrap_servers:
        return None
    errors = []
    for server in (s.strip() for s in bootstrap_servers.split(",") if s.strip()):
        host, _, port = server.rpartition(":")
        try:
            with socket.create_connection((host or server, int(port or 9092)),
                                          timeout=TIMEOUT_SECONDS):
                return None
        except (OSError, ValueError) as error:
            errors.append(f"{server}: {error}")
    return "; ".join(errors) or "no bootstrap server given"
