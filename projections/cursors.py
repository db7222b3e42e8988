"""The two ``Tx`` implementations: one SQL text (``%s`` placeholders) for both databases,
with ids sent as text and, on SQLite, datetimes as fixed-width UTC strings.

A batch's rows are written in bulk (``upsert``, ``add``, ``delete``): on PostgreSQL as one
statement over a JSON array of rows (``jsonb_populate_recordset``, typed by the table
itself), a tenth of the round trips and Python work of a pipelined ``executemany``; on
SQLite, in process, ``executemany`` is already the fast way."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
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


def _upsert_sql(table: str, key: str, columns: Sequence[str], source: str) -> str:
    names = ", ".join(columns)
    sets = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
    return (f"INSERT INTO {table} ({names}) {source} "
            f"ON CONFLICT ({key}) DO UPDATE SET {sets}")


def _add_sql(table: str, keys: Sequence[str], counters: Sequence[str], source: str) -> str:
    names = ", ".join([*keys, *counters])
    adds = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counters)
    return (f"INSERT INTO {table} ({names}) {source} "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {adds}")


def _json_rows(rows: Sequence[Row]) -> str:
    return orjson.dumps(rows, default=str).decode()


class PgTx:
    def __init__(self, conn: psycopg.Connection[Row]) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cur = self.conn.execute(sql, [_pg_param(p) for p in params])
        return cur.fetchall() if cur.description else []

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(sql, [[_pg_param(p) for p in r] for r in rows])

    def upsert(self, table: str, key: str, rows: Sequence[Row]) -> None:
        """Insert the rows, or replace the rows with their keys (every row has the same
        columns; no key twice)."""
        columns = list(rows[0])
        source = (f"SELECT {', '.join(columns)} "
                  f"FROM jsonb_populate_recordset(NULL::{table}, %s::jsonb)")
        self.conn.execute(_upsert_sql(table, key, columns, source), [_json_rows(rows)])

    def add(self, table: str, keys: Sequence[str], counters: Sequence[str],
            rows: Sequence[Row], *, create: bool) -> None:
        """Add each row's counters to the row with its keys; ``create``: a missing row starts
        at these counters (otherwise it must exist)."""
        source = f"jsonb_populate_recordset(NULL::{table}, %s::jsonb)"
        if create:
            sql = _add_sql(table, keys, counters,
                           f"SELECT {', '.join([*keys, *counters])} FROM {source}")
        else:
            adds = ", ".join(f"{c} = {table}.{c} + x.{c}" for c in counters)
            where = " AND ".join(f"{table}.{k} = x.{k}" for k in keys)
            sql = f"UPDATE {table} SET {adds} FROM {source} AS x WHERE {where}"
        self.conn.execute(sql, [_json_rows(rows)])

    def delete(self, table: str, key: str, keys: Sequence[str]) -> None:
        self.conn.execute(f"DELETE FROM {table} WHERE {key} = ANY(%b::text[])", [list(keys)])

    def execute_all(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Writes in order, pipelined: sent without waiting for each answer."""
        with self.conn.pipeline():
            for sql, params in statements:
                self.conn.execute(sql, [_pg_param(p) for p in params])

    def rows_by_key(self, table: str, key: str, keys: Sequence[str]) -> list[Row]:
        """The rows with these (text) keys, in one statement."""
        return self.conn.execute(f"SELECT * FROM {table} WHERE {key} = ANY(%b::text[])",
                                 [list(keys)]).fetchall()


class SqliteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cur = self.conn.execute(sql.replace("%s", "?"), [_sqlite_param(p) for p in params])
        return [dict(r) for r in cur.fetchall()] if cur.description else []

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql.replace("%s", "?"),
                              [[_sqlite_param(p) for p in r] for r in rows])

    def upsert(self, table: str, key: str, rows: Sequence[Row]) -> None:
        columns = list(rows[0])
        source = f"VALUES ({', '.join(['%s'] * len(columns))})"
        self.executemany(_upsert_sql(table, key, columns, source),
                         [[r[c] for c in columns] for r in rows])

    def add(self, table: str, keys: Sequence[str], counters: Sequence[str],
            rows: Sequence[Row], *, create: bool) -> None:
        if create:
            source = f"VALUES ({', '.join(['%s'] * (len(keys) + len(counters)))})"
            self.executemany(_add_sql(table, keys, counters, source),
                             [[r[c] for c in (*keys, *counters)] for r in rows])
        else:
            adds = ", ".join(f"{c} = {c} + %s" for c in counters)
            where = " AND ".join(f"{k} = %s" for k in keys)
            self.executemany(f"UPDATE {table} SET {adds} WHERE {where}",
                             [[*(r[c] for c in counters), *(r[k] for k in keys)]
                              for r in rows])

    def delete(self, table: str, key: str, keys: Sequence[str]) -> None:
        self.executemany(f"DELETE FROM {table} WHERE {key} = %s", [[k] for k in keys])

    def rows_by_key(self, table: str, key: str, keys: Sequence[str]) -> list[Row]:
        found: list[Row] = []
        for start in range(0, len(keys), 500):  # SQLite's limit on parameters is lower
            chunk = keys[start:start + 500]
            found += self.execute(f"SELECT * FROM {table} WHERE {key} IN "
                                  f"({', '.join(['%s'] * len(chunk))})", chunk)
        return found

    def execute_all(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        for sql, params in statements:
            self.execute(sql, params)
