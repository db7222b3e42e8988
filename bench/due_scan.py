"""Latency of the scheduler's due scan ("due now, oldest first, 500 at a time") at 100,000
and 1,000,000 open enrollments, on SQLite and PostgreSQL: one case of the due-scan workload
(``python -m bench due-scan``, cases in ``bench/workloads.py``).

Each size gets a fresh database; the write-side due index (``dripline_enrollment_index``,
written with the events that move it) is filled directly (one row per second of due time,
one in ten paused), then the scan the scheduler runs is timed: through the event store's
``due_enrollments`` (query, 500 ``EnrollmentRow``s) and as the bare SQL.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import psycopg

from bench import harness
from dripline.bootstrap import bootstrap
from dripline.settings import Settings
from projections.storage.scan_plan import EPOCH, INDEX, explain_scan, fill_index
from projections.storage.tables import due_scan
from projections.storage.urls import is_postgres, postgres_params, sqlite_path

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
        fill_index(url, rows)
        now = EPOCH + timedelta(days=3)  # a quarter of a million rows are due by then
        plan = explain_scan(url, now)
        store = runtime.app.store
        store.due_enrollments(now, 500)  # warm the connection, as a running scheduler has
        bare, close = _bare_scan(url)
        timings, raw = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            due = store.due_enrollments(now, 500)
            timings.append((time.perf_counter() - started) * 1000)
            if len(due) != 500:
                raise RuntimeError(f"the scan found {len(due)} rows, not 500")
            started = time.perf_counter()
            bare(now)
            raw.append((time.perf_counter() - started) * 1000)
        close()
        timings.sort()
        return {"median_ms": statistics.median(timings),
                "p95_ms": timings[int(len(timings) * 0.95) - 1],
                "sql_ms": statistics.median(raw),
                "uses_index": "yes" if INDEX in plan else "NO"}
    finally:
        runtime.close()


def _bare_scan(url: str) -> tuple[Callable[[datetime], object], Callable[[], None]]:
    """The scan's SQL alone, on a connection kept open; and how to close it."""
    if is_postgres(url):
        conn = psycopg.connect(psycopg.conninfo.make_conninfo(**postgres_params(url)),
                               autocommit=True)
        return (lambda now: conn.execute(due_scan("%s"), [now, 500, 0]).fetchall(),
                conn.close)
    lite = sqlite3.connect(sqlite_path(url))
    return (lambda now: lite.execute(due_scan("?"), [
        now.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"), 500, 0]).fetchall(), lite.close)
