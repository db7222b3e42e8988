"""The two ``Tx`` implementations: one SQL text (``%s`` placeholders) for both databases,
with ids sent as text and, on SQLite, datetimes as fixed-width UTC strings."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg

Row = dict[str, Any]


def to_sqlite_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def _pg_param(value: Any) -> Any:
    return str(value) if isinstance(value, UUID) else value


def _sqlite_param(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return to_sqlite_time(value)
    return value


class PgTx:
    def __init__(self, conn: psycopg.Connection[Row]) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cur = self.conn.execute(sql, [_pg_param(p) for p in params])
        return cur.fetchall() if cur.description else []

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(sql, [[_pg_param(p) for p in r] for r in rows])


class SqliteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cur = self.conn.execute(sql.replace("%s", "?"), [_sqlite_param(p) for p in params])
        return [dict(r) for r in cur.fetchall()] if cur.description else []

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql.replace("%s", "?"),
                              [[_sqlite_param(p) for p in r] for r in rows])
