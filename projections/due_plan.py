"""Filling and explaining the due scan at scale: shared by the EXPLAIN test and the bench."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg

from projections import generations as gens
from projections.db import ReadDb
from projections.models.base import table_name
from projections.sql_queries import due_query

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
SEQUENCE = "00000000-0000-4000-8000-000000000001"


def live_due_table(db: ReadDb) -> str:
    return table_name("due", gens.live_generation(db, "due_enrollments").generation)


def fill_due(db: ReadDb, rows: int) -> None:
    """``rows`` open enrollments, one in ten paused (no due time), one due per second from
    EPOCH on: the shape the scheduler sees, written straight into the live table."""
    table = live_due_table(db)
    if db.is_postgres:
        sql = (f"INSERT INTO {table} SELECT md5(g::text), 'acme', '{SEQUENCE}', 'c-' || g, 0, "
               "CASE WHEN g % 10 = 0 THEN NULL ELSE %s + g * interval '1 second' END, "
               "'active', NULL, NULL, NULL FROM generate_series(1, %s) g")
        with psycopg.connect(db.conninfo, autocommit=True) as conn:
            conn.execute(sql.replace("g % 10", "g %% 10"), [EPOCH, rows])
            conn.execute(f"ANALYZE {table}")
        return
    sql = (f"WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < %s) "
           f"INSERT INTO {table} SELECT printf('%%032d', n), 'acme', '{SEQUENCE}', 'c-' || n, 0, "
           "CASE WHEN n % 10 = 0 THEN NULL ELSE "
           "strftime('%Y-%m-%dT%H:%M:%f000+00:00', '2026-01-01', '+' || n || ' seconds') END, "
           "'active', NULL, NULL, NULL FROM g")
    with db.transaction() as tx:
        tx.execute(sql.replace("%%032d", "%032d"), [rows])
    db.read(f"ANALYZE {table}")


def explain_due(db: ReadDb, now: datetime, limit: int = 500) -> str:
    """The due scan's plan as text (PostgreSQL: EXPLAIN; SQLite: EXPLAIN QUERY PLAN)."""
    sql = due_query(live_due_table(db))
    if db.is_postgres:
        with psycopg.ClientCursor(psycopg.connect(db.conninfo)) as cur:
            cur.execute("EXPLAIN " + sql, [now, limit, 0])
            rows: list[Any] = cur.fetchall()
            cur.connection.close()
        return "\n".join(str(r[0]) for r in rows)
    found = db.read("EXPLAIN QUERY PLAN " + sql, [now, limit, 0])
    return "\n".join(str(r["detail"]) for r in found)
