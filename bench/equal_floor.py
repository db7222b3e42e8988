"""The equal-work floor: hand-written SQL on PostgreSQL that makes, per executed step, the
durable writes Dripline's write path makes once every writer goes through one unit of work
(one event per executed step, the due index written with the events), and nothing else:

- claim a batch of due rows (``FOR UPDATE SKIP LOCKED``, oldest first, up to 500);
- in the same transaction, as the event store does: ``LOCK TABLE events IN EXCLUSIVE MODE``
  (insert order = commit order for readers of the global order), ``NOTIFY``, and ONE event
  row per step (``notification_id`` bigserial, unique (originator, version), its state about
  480 bytes of JSON holding the request, bytea as the store keeps it; Dripline's
  ``MessageRequested`` is about 740 today);
- the due row updated to its next due time, or deleted after the last step;
- one message row (the request, about 340 bytes of JSON; ``message_id`` its primary key, as
  in Dripline's ``messages`` table, which also has three secondary indexes this one lacks);
- one stats counter row per (sequence, step) upserted (grouped per batch: one row cannot be
  upserted twice in one statement).

The JSON is built inside PostgreSQL: no Python per step. The bare floor (``bench/floor.py``)
beside it makes one row per step; the gap between the two is what the design's writes cost,
the gap between this one and Dripline what its implementation costs.

    python -m bench.equal_floor worker URL     (started by the drip, pace and delayed workloads)
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
# ``sends`` (made by the bench for every engine) becomes a view of the message rows, so that
# the bench measures this floor off the same columns as every other engine.
SCHEMA = """
DROP TABLE sends;
CREATE TABLE due (
    contact_id integer PRIMARY KEY,
    sequence_id integer NOT NULL,
    step integer NOT NULL,
    steps integer NOT NULL,
    gap_s float8 NOT NULL,
    due_at timestamptz NOT NULL
);
CREATE INDEX due_by_time ON due (due_at);
CREATE TABLE events (
    originator_id uuid NOT NULL,
    originator_version integer NOT NULL,
    topic text NOT NULL,
    state bytea NOT NULL,
    notification_id bigserial,
    PRIMARY KEY (originator_id, originator_version)
);
CREATE UNIQUE INDEX events_by_notification ON events (notification_id);
CREATE TABLE messages (
    message_id text PRIMARY KEY,
    contact_id integer NOT NULL,
    step integer NOT NULL,
    due_at timestamptz NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    request jsonb NOT NULL
);
CREATE TABLE step_stats (
    sequence_id integer NOT NULL,
    step integer NOT NULL,
    requested bigint NOT NULL,
    PRIMARY KEY (sequence_id, step)
);
CREATE VIEW sends AS SELECT contact_id, step, due_at, sent_at FROM messages;
"""
CLAIM = f"""
SELECT contact_id FROM due WHERE due_at <= clock_timestamp()
ORDER BY due_at LIMIT {BATCH} FOR UPDATE SKIP LOCKED
"""
# The claimed rows, their ids and the request as a Dripline request carries it.
WRITE = """
WITH claimed AS (
    SELECT d.*, clock_timestamp() AS now,
           md5('enrollment:' || d.contact_id)::uuid AS enrollment_id,
           md5('enrollment:' || d.contact_id)::text || ':' || d.step || ':1' AS message_id
    FROM due d WHERE d.contact_id = ANY(%(ids)s)
), requested AS (
    SELECT c.*, jsonb_build_object(
        'message_id', c.message_id, 'tenant_id', 'bench',
        'contact_id', 'contact-' || lpad(c.contact_id::text, 5, '0'),
        'sequence_id', md5('sequence:' || c.sequence_id)::uuid,
        'step_order', c.step, 'channel', 'default', 'type', 'text',
        'content', 'Hi there #' || c.step, 'due_at', c.due_at, 'created_at', c.now)
        AS request
    FROM claimed c
), event AS (
    INSERT INTO events (originator_id, originator_version, topic, state)
    SELECT enrollment_id, step + 2, 'enrollment.step_executed', convert_to(jsonb_build_object(
        'timestamp', now, 'step_order', step, 'attempt', 1, 'outcome', 'requested',
        'next_step_order', CASE WHEN step + 1 < steps THEN step + 1 END,
        'request', request)::text, 'UTF8')
    FROM requested
), message AS (
    INSERT INTO messages (message_id, contact_id, step, due_at, request)
    SELECT message_id, contact_id, step, due_at, request FROM requested
), counted AS (
    INSERT INTO step_stats AS s (sequence_id, step, requested)
    SELECT sequence_id, step, count(*) FROM claimed GROUP BY sequence_id, step
    ON CONFLICT (sequence_id, step) DO UPDATE SET requested = s.requested + excluded.requested
), finished AS (
    DELETE FROM due d USING claimed c
    WHERE d.contact_id = c.contact_id AND c.step + 1 >= c.steps
)
UPDATE due d SET step = c.step + 1,
    due_at = CASE WHEN c.gap_s > 0 THEN c.due_at + c.gap_s * interval '1 second'
                  ELSE c.now END
FROM claimed c WHERE d.contact_id = c.contact_id AND c.step + 1 < c.steps
"""
ENROLL = ("INSERT INTO due (contact_id, sequence_id, step, steps, gap_s, due_at) "
          "SELECT i - 1, 1, 0, %s, %s, to_timestamp(d) "
          "FROM unnest(%s::float8[]) WITH ORDINALITY AS u(d, i)")


class EqualWorkFloor(Engine):
    name = "equal-work floor (PG)"
    enroll_rate = 50_000.0
    tuning = {  # noqa: RUF012 - read only
        "worker_processes": WORKERS, "batch": BATCH, "idle_sleep_s": IDLE_S,
        "writes_per_step": "one event row (global order, EXCLUSIVE table lock and NOTIFY per "
                           "transaction, ~480-byte JSON state), the due row updated or "
                           "deleted, one message row (~340-byte request), a stats counter "
                           "upserted per (sequence, step) and batch",
        "why": "the durable writes of the redesigned write path, in SQL: one worker per core"}

    def start(self, children: Children, url: str, workdir: Path) -> dict[str, int]:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(SCHEMA)
        for i in range(WORKERS):
            children.start(f"equal-work floor worker {i + 1}",
                           python_argv("bench.equal_floor", "worker", url))
        return {}

    def enroll(self, url: str, dues: Sequence[float], steps: int) -> None:
        with psycopg.connect(url) as conn:
            conn.execute(ENROLL, (steps, 0.0, list(dues)))

    def enroll_plan(self, url: str, plan: Plan, t0: float) -> None:
        with psycopg.connect(url) as conn:
            conn.execute(ENROLL, (plan.steps, plan.gap, plan.dues(t0)))


def tick(conn: psycopg.Connection[Any]) -> int:
    """One batch in one transaction; how many steps it executed."""
    with conn.transaction():
        ids = [row[0] for row in conn.execute(CLAIM).fetchall()]
        if not ids:
            return 0
        conn.execute("LOCK TABLE events IN EXCLUSIVE MODE")
        conn.execute("NOTIFY events")
        conn.execute(WRITE, {"ids": ids})
    return len(ids)


def worker(url: str) -> None:
    stopping: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    conn: psycopg.Connection[Any] = psycopg.connect(url, autocommit=True)
    while not stopping:
        if tick(conn) == 0:
            time.sleep(IDLE_S)
    conn.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker(sys.argv[2])
    else:
        raise SystemExit(__doc__)
