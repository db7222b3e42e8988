"""Latency of the scheduler's due scan ("due now, oldest first, 500 at a time") at 100,000
and 1,000,000 open enrollments, on SQLite and PostgreSQL, side by side.

    python -m bench.due_scan [--sizes 100000 1000000] [--repeats 50] [--postgres-url URL]

Each size gets a fresh database; the ``due_enrollments`` table is filled directly (one row
per second of due time, one in ten paused), then the query the scheduler runs is timed:
through ``Queries.due_enrollments`` (generation lookup, query, 500 ``DueEnrollment``s) and
as the bare SQL.
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--postgres-url", default=ADMIN_URL)
    args = parser.parse_args()
    print(f"{'rows':>10} {'backend':>9} {'median ms':>10} {'p95 ms':>8} {'SQL only ms':>12} "
          f"{'index':>6}")
    results: dict[tuple[int, str], dict[str, float | str]] = {}
    for rows in args.sizes:
        for backend in ("sqlite", "postgres"):
            with database(backend, args.postgres_url) as url:
                r = results[rows, backend] = measure(url, rows, args.repeats)
            print(f"{rows:>10,} {backend:>9} {r['median_ms']:>10.2f} {r['p95_ms']:>8.2f} "
                  f"{r['sql_ms']:>12.2f} {r['uses_index']:>6}")
    if len(args.sizes) > 1:
        small, large = min(args.sizes), max(args.sizes)
        for backend in ("sqlite", "postgres"):
            ratio = (float(results[large, backend]["median_ms"])
                     / float(results[small, backend]["median_ms"]))
            print(f"{backend}: median at {large:,} rows / at {small:,} rows = {ratio:.2f}x")


if __name__ == "__main__":
    main()
