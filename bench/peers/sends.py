"""The sends table every non-Dripline engine writes to, one row per executed step, with no
unique constraint so that duplicates stay countable; and the measurement read off it.

``due_at`` is when the step fell due (enrollment time for the first step, the previous send's
``sent_at`` plus the zero delay after that); ``sent_at`` is the database's clock at the insert,
one clock for every engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg

STEPS = 3
DDL = """
CREATE TABLE IF NOT EXISTS sends (
    contact_id integer NOT NULL,
    step integer NOT NULL,
    due_at timestamptz NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT clock_timestamp()
)"""
INSERT = ("INSERT INTO sends (contact_id, step, due_at) VALUES (%s, %s, to_timestamp(%s)) "
          "RETURNING extract(epoch FROM sent_at)::float8")


def create(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(DDL)


def record(conn: psycopg.Connection[Any], contact: int, step: int, due: float) -> float:
    """Write one send (its own committed transaction on an autocommit connection); returns
    ``sent_at`` as epoch seconds: the next step's due time, the delays being zero."""
    row = conn.execute(INSERT, (contact, step, due)).fetchone()
    assert row is not None
    return float(row[0])


async def record_async(conn: psycopg.AsyncConnection[Any], contact: int, step: int,
                       due: float) -> float:
    cursor = await conn.execute(INSERT, (contact, step, due))
    row = await cursor.fetchone()
    assert row is not None
    return float(row[0])


def distinct_sent(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM (SELECT DISTINCT contact_id, step FROM sends)"
                           " s").fetchone()
        return int(row[0]) if row else 0


def wait_until_sent(count_fn: Callable[[], int], expected: int, timeout: float,
                    alive: Callable[[], None]) -> int:
    """Poll until ``expected`` distinct sends exist; raises TimeoutError with the count."""
    deadline = time.monotonic() + timeout
    while (done := count_fn()) < expected:
        alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {done:,} of {expected:,} steps sent in {timeout:.0f} s "
                               "(the numbers are for those)")
        time.sleep(0.2)
    return done


def measure(url: str, contacts: int, started: float) -> dict[str, Any]:
    """Wall time (enrollment start to the last send), steps/s, lateness and duplicates."""
    with psycopg.connect(url) as conn:
        row = conn.execute("""
            SELECT count(*), count(DISTINCT (contact_id, step)),
                   extract(epoch FROM max(sent_at))::float8,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY
                       extract(epoch FROM sent_at - due_at)),
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY
                       extract(epoch FROM sent_at - due_at))
            FROM sends""").fetchone()
    assert row is not None
    total, distinct, last, p50, p99 = row
    wall = float(last) - started
    return {"steps": int(distinct), "sends_written": int(total),
            "duplicates": int(total) - int(distinct),
            "missing": contacts * STEPS - int(distinct),
            "wall_s": wall, "steps_per_s": int(distinct) / wall,
            "lateness_p50_ms": float(p50) * 1000, "lateness_p99_ms": float(p99) * 1000}
