"""Stores the replay and scheduler-memory workloads keep across runs: building a million
events or enrollments through the engine takes minutes, so a store is made once per name
(a PostgreSQL database ``bench_store_<name>``, a SQLite file ``<dir>/<name>.db``), filled
in resumable steps that note their progress in a table of its own (``bench_store``), and
reused by later runs until ``--fresh`` drops it."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import psycopg

from projections.storage.urls import sqlite_path

STORE_DIR = Path(os.environ.get("BENCH_STORE_DIR",
                                str(Path.home() / ".cache" / "dripline-bench")))
BACKENDS = ("sqlite", "postgres")


def store_url(backend: str, name: str, admin_url: str, store_dir: Path = STORE_DIR,
              fresh: bool = False) -> str:
    """The store's database URL, made empty if it does not exist yet (or ``fresh``)."""
    if backend == "sqlite":
        store_dir.mkdir(parents=True, exist_ok=True)
        path = store_dir / f"{name}.db"
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    database = f"bench_store_{name}".replace("-", "_")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        if fresh:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              [database]).fetchone()
        if not found:
            admin.execute(f'CREATE DATABASE "{database}"')
    return f"{admin_url.rsplit('/', 1)[0]}/{database}"


class Progress:
    """Key-value notes of a store's building, in the store's own database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._run("CREATE TABLE IF NOT EXISTS bench_store (key TEXT PRIMARY KEY, "
                  "value TEXT NOT NULL)")

    def get(self, key: str) -> str | None:
        rows = self._run("SELECT value FROM bench_store WHERE key = {p}", key)
        return str(rows[0][0]) if rows else None

    def set(self, key: str, value: object) -> None:
        self._run("INSERT INTO bench_store (key, value) VALUES ({p}, {p}) "
                  "ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, str(value))

    def _run(self, sql: str, *params: str) -> list[tuple[object, ...]]:
        if self.url.startswith("sqlite"):
            with sqlite3.connect(sqlite_path(self.url)) as lite:
                return lite.execute(sql.format(p="?"), params).fetchall()
        with psycopg.connect(self.url) as conn:
            query: Any = sql.format(p="%s")  # fixed text, values passed apart
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []
