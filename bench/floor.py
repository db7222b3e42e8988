"""The bare floor: the least a PostgreSQL-based drip engine must do, as a minimal loop over
one table (one row per contact, with its step, due time and number of steps). Each worker
claims up to 500 due rows with ``FOR UPDATE SKIP LOCKED``, inserts their sends and advances
the rows, in one statement and one transaction per batch. Nothing else: no events, no read
models, no conditions, no templates. The speed limit a Postgres engine can approach here;
``bench/equal_floor.py`` is the floor that makes Dripline's durable writes.

    python -m bench.floor worker URL     (started by ``python -m bench drip``)
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg

from bench.harness import Children, Plan, python_argv
from bench.peers.base import Engine

BATCH = 500
WORKERS = 2
IDLE_S = 0.01
SCHEMA = """
CREATE TABLE drip (
    contact_id integer PRIMARY KEY,
    step integer NOT NULL,
    steps integer NOT NULL,
    gap_s float8 NOT NULL DEFAULT 0,
    due_at timestamptz,
    done boolean NOT NULL DEFAULT false
);
CREATE INDEX drip_due ON drip (due_at) WHERE NOT done;
"""
# One statement, one transaction: claim, send, advance (with zero delays the next step is
# due when this one was sent; with a gap, at this one's due time + the gap; the last step
# marks the row done).
TICK = f"""
WITH due AS (
    SELECT contact_id, step, due_at, gap_s FROM drip
    WHERE NOT done AND due_at <= clock_timestamp()
    ORDER BY due_at LIMIT {BATCH} FOR UPDATE SKIP LOCKED
), sent AS (
    INSERT INTO sends (contact_id, step, due_at)
    SELECT contact_id, step, due_at FROM due
    RETURNING contact_id, step, due_at, sent_at
)
UPDATE drip d SET step = s.step + 1, done = s.step + 1 >= d.steps,
    due_at = CASE WHEN d.gap_s > 0 THEN s.due_at + d.gap_s * interval '1 second'
                  ELSE s.sent_at END
FROM sent s WHERE d.contact_id = s.contact_id
"""
ENROLL = ("INSERT INTO drip (contact_id, step, steps, gap_s, due_at) "
          "SELECT i - 1, 0, %s, %s, to_timestamp(d) "
          "FROM unnest(%s::float8[]) WITH ORDINALITY AS u(d, i)")


class Floor(Engine):
    name = "floor (PG loop)"
    enroll_rate = 50_000.0
    tuning = {  # noqa: RUF012 - read only
        "worker_processes": WORKERS, "batch": BATCH, "idle_sleep_s": IDLE_S,
        "writes_per_step": "one sends row, one update of the due row (one statement)",
        "why": "one worker process per core"}

    def start(self, children: Children, url: str, workdir: Path) -> dict[str, int]:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(SCHEMA)
        for i in range(WORKERS):
            children.start(f"floor worker {i + 1}", python_argv("bench.floor", "worker", url))
        return {}

    def enroll(self, url: str, dues: Sequence[float], steps: int) -> None:
        with psycopg.connect(url) as conn:
            conn.execute(ENROLL, (steps, 0.0, list(dues)))

    def enroll_plan(self, url: str, plan: Plan, t0: float) -> None:
        with psycopg.connect(url) as conn:
            conn.execute(ENROLL, (plan.steps, plan.gap, plan.dues(t0)))


def worker(url: str) -> None:
    stopping: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    conn: psycopg.Connection[Any] = psycopg.connect(url, autocommit=True)
    while not stopping:
        if conn.execute(TICK).rowcount == 0:
            time.sleep(IDLE_S)
    conn.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker(sys.argv[2])
    else:
        raise SystemExit(__doc__)
