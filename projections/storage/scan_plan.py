"""Filling the write-side due index at scale and explaining the scheduler's scan over it:
shared by the EXPLAIN test and the due-scan benchmark."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

import psycopg

from projections.storage import tables as t
from projections.storage.urls import is_postgres, postgres_params, sqlite_path

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
SEQUENCE = "00000000-0000-4000-8000-000000000001"
INDEX = f"{t.ENROLLMENTS}_due"


def _pg(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(psycopg.conninfo.make_conninfo(**postgres_params(url)),
                           autocommit=True)


def fill_index(url: str, rows: int) -> None:
    """``rows`` open enrollments, one in ten paused (no due time), one due per second from
    EPOCH on: the shape the scheduler scans, written straight into the index of a store
    whose tables exist."""
    if is_postgres(url):
        with _pg(url) as conn:
            conn.execute(
                f"INSERT INTO {t.ENROLLMENTS} SELECT "
                "(md5(g::text)::uuid)::text, 'acme', %s, 'c-' || g, "
                "CASE WHEN g %% 10 = 0 THEN 'paused' ELSE 'active' END, "
                "CASE WHEN g %% 10 = 0 THEN NULL ELSE %s + g * interval '1 second' END "
                "FROM generate_series(1, %s) g", [SEQUENCE, EPOCH, rows])
            conn.execute(f"ANALYZE {t.ENROLLMENTS}")
        return
    with sqlite3.connect(sqlite_path(url)) as conn:
        conn.execute(
            f"WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?) "
            f"INSERT INTO {t.ENROLLMENTS} SELECT "
            "printf('00000000-0000-4000-8000-%012d', n), 'acme', ?, 'c-' || n, "
            "CASE WHEN n % 10 = 0 THEN 'paused' ELSE 'active' END, "
            "CASE WHEN n % 10 = 0 THEN NULL ELSE "
            "strftime('%Y-%m-%dT%H:%M:%f000+00:00', '2026-01-01', '+' || n || ' seconds') END "
            "FROM g", [rows, SEQUENCE])
        conn.execute(f"ANALYZE {t.ENROLLMENTS}")


def explain_scan(url: str, now: datetime, limit: int = 500) -> str:
    """The scan's plan as text (PostgreSQL: EXPLAIN; SQLite: EXPLAIN QUERY PLAN)."""
    if is_postgres(url):
        with _pg(url) as conn, psycopg.ClientCursor(conn) as cur:
            cur.execute("EXPLAIN " + t.due_scan("%s"), [now, limit, 0])
            return "\n".join(str(r[0]) for r in cur.fetchall())
    with sqlite3.connect(sqlite_path(url)) as lite:
        found = lite.execute("EXPLAIN QUERY PLAN " + t.due_scan("?"),
                             [now.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"), limit, 0])
        return "\n".join(str(r[3]) for r in found.fetchall())
