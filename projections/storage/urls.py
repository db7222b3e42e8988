"""Turning ``DRIPLINE_DATABASE_URL`` into the event store's configuration: the parts of a
database URL, the ``eventsourcing`` environment it stands for, and the lock held while
tables are created. Here, below every user of the store, so that the read side, the Kafka
roles and the API read a URL the same way without importing the wiring."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import unquote, urlsplit

import psycopg

from projections.storage.env import POSTGRES_STORE, SQLITE_STORE

# Any constant: the advisory lock that serialises schema creation across processes.
_SCHEMA_LOCK = 726_473_000


class DatabaseUrlError(ValueError):
    pass


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def sqlite_path(url: str) -> str:
    """``sqlite:///./dripline.db`` → ``./dripline.db``; ``sqlite:////abs/x.db`` → ``/abs/x.db``."""
    path = url[len("sqlite:///"):]
    if not path:
        raise DatabaseUrlError("a sqlite URL needs a file name, e.g. sqlite:///./dripline.db")
    return path


def postgres_params(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    dbname = parts.path.lstrip("/")
    if not dbname:
        raise DatabaseUrlError(
            "a postgresql URL needs a database name, e.g. postgresql://user@host:5432/dripline")
    return {
        "dbname": unquote(dbname),
        "host": parts.hostname or "127.0.0.1",
        "port": str(parts.port or 5432),
        "user": unquote(parts.username or "postgres"),
        "password": unquote(parts.password or ""),
    }


def eventsourcing_env(url: str, *, pool_size: int = 2, max_overflow: int = 8,
                      ) -> dict[str, str]:
    """The environment the ``eventsourcing`` library reads to build the event store.
    ``pool_size`` and ``max_overflow`` size its PostgreSQL pool (the settings
    ``DRIPLINE_POSTGRES_POOL_SIZE`` and ``DRIPLINE_POSTGRES_MAX_OVERFLOW``).

    Tables are created on first use (the library's ``CREATE_TABLE``, on by default).
    """
    if url.startswith("sqlite:///"):
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": sqlite_path(url),
            # Writers wait for each other instead of failing at once when the file is busy.
            "SQLITE_LOCK_TIMEOUT": "30",
            "PROCESS_RECORDER_TOPIC": SQLITE_STORE,
        }
    if is_postgres(url):
        p = postgres_params(url)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": p["dbname"],
            "POSTGRES_HOST": p["host"],
            "POSTGRES_PORT": p["port"],
            "POSTGRES_USER": p["user"],
            "POSTGRES_PASSWORD": p["password"],
            # Connections kept open per process: several copies of each role share one
            # server (max_connections is often 100); bursts borrow up to the overflow and
            # give it back. (The library also reads these two variables from the process
            # environment, with the application's name as prefix: the same settings.)
            "POSTGRES_POOL_SIZE": str(pool_size),
            "POSTGRES_MAX_OVERFLOW": str(max_overflow),
            "POSTGRES_LOCK_TIMEOUT": "10",
            "PROCESS_RECORDER_TOPIC": POSTGRES_STORE,
        }
    raise DatabaseUrlError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql://")


@contextmanager
def schema_lock(url: str) -> Iterator[None]:
    """Held while a process creates (or checks) its tables. The event store re-runs its
    CREATE TABLE / CREATE FUNCTION statements whenever an application is built, and several
    processes starting at once on PostgreSQL fail with "tuple concurrently updated" without
    this. SQLite serialises schema changes itself."""
    if not is_postgres(url):
        yield
        return
    p = postgres_params(url)
    with psycopg.connect(psycopg.conninfo.make_conninfo(**p), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", [_SCHEMA_LOCK])
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", [_SCHEMA_LOCK])
