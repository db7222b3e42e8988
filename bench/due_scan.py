"""Latency of the scheduler's due scan ("due now, oldest first, 500 at a time") at 100,000
and 1,000,000 open enrollments, on SQLite and PostgreSQL: one case of the due-scan workload
(``python -m bench due-scan``, cases in ``bench/workloads.py``).

Each size gets a fresh database; the ``due_enrollments`` table is filled directly (one row
per second of due time, one in ten paused), then the query the scheduler runs is timed:
through ``Queries.due_enrollments`` (generation lookup, query, 500 ``DueEnrollment``s) and
as the bare SQL.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from bench import harness
from dripline.bootstrap import bootstrap
from dripline.settings import Settings
from projections.due_plan import EPOCH, explain_due, fill_due, live_due_table
from projections.sql_queries import due_query

ADMIN_URL = os.environ.get("DRIPLINE_TEST_POSTGRES_URL",
                           "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def database(backend: str, admin_url: str = ADMIN_URL) -> Iterator[str]:
    """A fresh, empty database of the backend, removed afterwards."""
    if backend == "sqlite":
        with harness.sqlite_database() as url:
            yield url
        return
    with harness.postgres_database(admin_url, "dripline_bench") as url:
        yield url


def measure(url: str, rows: int, repeats: int) -> dict[str, float | str]:
    runtime = bootstrap(Settings(database_url=url), catch_up_lookups=False)
    try:
        fill_due(runtime.read_models.db, rows)
        now = EPOCH + timedelta(days=3)  # a quarter of a million rows are due by then
        plan = explain_due(runtime.read_models.db, now)
        runtime.queries.due_enrollments(now)  # warm the cache, as a running scheduler has
        sql, db = due_query(live_due_table(runtime.read_models.db)), runtime.read_models.db
        timings, raw = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            due = runtime.queries.due_enrollments(now, limit=500)
            timings.append((time.perf_counter() - started) * 1000)
            assert len(due) == 500
            started = time.perf_counter()
            db.read(sql, [now, 500, 0])
            raw.append((time.perf_counter() - started) * 1000)
        timings.sort()
        return {"median_ms": statistics.median(timings),
                "p95_ms": timings[int(len(timings) * 0.95) - 1],
                "sql_ms": statistics.median(raw),
                "uses_index": "yes" if "_by_due_at" in plan else "NO"}
    finally:
        runtime.close()
