"""The read models' own connection to the database, for SQLite and PostgreSQL alike.

SQL is written once with ``%s`` placeholders and PostgreSQL types; for SQLite the
placeholders and the few type names that differ are rewritten here, and datetimes travel as
fixed-width UTC ISO strings (fixed width so that text order equals time order).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from projections.cursors import PgTx, Row, SqliteTx
from projections.storage.pg_store import NO_JIT
from projections.storage.urls import is_postgres, postgres_params, sqlite_path

_SQLITE_TYPES = {"TIMESTAMPTZ": "TEXT", "BIGINT": "INTEGER", "BOOLEAN": "INTEGER"}


def as_datetime(value: object) -> datetime | None:
    """A timestamp read back from either database as an aware datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(str(value))


class Tx(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...


class BulkTx(Tx, Protocol):
    """A transaction that also writes a batch's rows in bulk (``projections.cursors``)."""

    def upsert(self, table: str, key: str, rows: Sequence[Row]) -> None: ...

    def add(self, table: str, keys: Sequence[str], counters: Sequence[str],
            rows: Sequence[Row], *, create: bool) -> None: ...

    def delete(self, table: str, key: str, keys: Sequence[str]) -> None: ...

    def rows_by_key(self, table: str, key: str, keys: Sequence[str]) -> list[Row]: ...

    def execute_all(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None: ...


class ReadDb:
    """One pool (PostgreSQL) or one serialised connection (SQLite) for all read models."""

    def __init__(self, url: str, *, pool_size: int = 4) -> None:
        self.url = url
        self.is_postgres = is_postgres(url)
        self._lock = threading.RLock()
        self.conninfo = ""
        if self.is_postgres:
            p = postgres_params(url)
            self.conninfo = psycopg.conninfo.make_conninfo(**p)
            self._pool: ConnectionPool[psycopg.Connection[Row]] | None = ConnectionPool(
                self.conninfo, min_size=1, max_size=pool_size, open=True,
                kwargs={"row_factory": dict_row, "options": NO_JIT},
                connection_class=psycopg.Connection[Row])
            self._sqlite: sqlite3.Connection | None = None
        else:
            self._pool = None
            # Two connections: queries read committed data on their own, while a batch
            # writes on the other (WAL lets readers and the one writer work side by side;
            # the busy timeout makes writers queue instead of failing).
            self._sqlite = _sqlite_connect(sqlite_path(url))
            self._sqlite_reader = _sqlite_connect(sqlite_path(url))
            self._read_lock = threading.Lock()

    @contextmanager
    def transaction(self) -> Iterator[BulkTx]:
        """One atomic unit: everything executed inside commits together or not at all."""
        if self._pool is not None:
            with self._pool.connection() as conn, conn.transaction():
                yield PgTx(conn)
            return
        if self._sqlite is None:
            raise RuntimeError("this read database is closed")
        with self._lock:
            # IMMEDIATE takes the write lock up front, so two processes projecting the same
            # file serialise at BEGIN rather than failing at their first write.
            self._sqlite.execute("BEGIN IMMEDIATE")
            try:
                yield SqliteTx(self._sqlite)
            except BaseException:
                self._sqlite.execute("ROLLBACK")
                raise
            self._sqlite.execute("COMMIT")

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        if self._pool is not None:
            with self._pool.connection() as conn:
                return PgTx(conn).execute(sql, params)
        with self._read_lock:
            return SqliteTx(self._sqlite_reader).execute(sql, params)

    def ddl(self, sql: str) -> str:
        if self.is_postgres:
            return sql
        for pg_type, sqlite_type in _SQLITE_TYPES.items():
            sql = sql.replace(pg_type, sqlite_type)
        return sql

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite_reader.close()


def _sqlite_connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn
