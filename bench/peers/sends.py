"""The sends table every non-Dripline engine writes to, one row per executed step, with no
unique constraint so that duplicates stay countable; and the measurement read off it.

``due_at`` is when the step fell due (the due time it was enrolled with for the first step,
the previous send's ``sent_at`` plus the zero delay after that); ``sent_at`` is the database's
clock at the insert, one clock for every engine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg

from bench.harness import Plan, lateness_summary

STEPS = 3  # per contact in the drip workload (pace: 1); passed to every step task
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


def measure(url: str, plan: Plan, started: float, ended: float | None = None
            ) -> dict[str, Any]:
    """Wall time (T0 to the last send), steps/s, lateness and duplicates. ``ended``: when
    the bench stopped waiting, for a paced round that timed out: its missing steps count as
    at least ``ended`` minus the last due time late (the percentiles become lower bounds)."""
    with psycopg.connect(url) as conn:
        row = conn.execute("""
            SELECT count(*), count(DISTINCT (contact_id, step)),
                   extract(epoch FROM max(sent_at))::float8,
                   array_agg(extract(epoch FROM sent_at - due_at)::float8)
            FROM sends""").fetchone()
    assert row is not None
    total, distinct, last, lateness = row
    missing = plan.total - int(distinct)
    censored = missing if ended is not None else 0
    late = lateness_summary(lateness or [], censored,
                            (ended or 0.0) - (started + plan.span))
    wall = float(last) - started
    return {"steps": int(distinct), "sends_written": int(total),
            "duplicates": int(total) - int(distinct), "missing": missing,
            "wall_s": wall, "steps_per_s": int(distinct) / wall,
            **{f"lateness_{k}_ms": v * 1000 for k, v in late.items()},
            "lateness_lower_bound": censored > 0,
            "early": sum(1 for x in lateness or [] if x < 0),
            "last_after_due_s": float(last) - (started + plan.span)}
