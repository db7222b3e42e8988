"""Enroll 10,000 contacts in one ``enroll_many`` call, on SQLite and on PostgreSQL, side by side.

    python -m bench.bulk_enroll [--quick] [--rounds 3] [--postgres-url URL] [--output PATH]

Each round uses a fresh, empty database (a temp SQLite file; a temp PostgreSQL database that
is dropped afterwards), creates and activates a one-step sequence, and times only the
``enroll_many`` call. Prints median/min/max seconds and contacts/s per backend and the
SQLite:PostgreSQL ratio of the medians; writes ``bench/results/bulk_enroll.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg

from domain.clock import ManualClock
from dripline.bootstrap import bootstrap
from dripline.settings import Settings

DEFAULT_ADMIN_URL = os.environ.get(
    "DRIPLINE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RESULTS = Path(__file__).parent / "results" / "bulk_enroll.json"
TENANT = "bench"
SEQUENCE = {
    "name": "bench: bulk enroll",
    "steps": [{"order": 0, "name": "hello", "delay_amount": 1, "delay_unit": "days",
               "message_template": {"type": "text", "content": "Hi {{contact.name}}"}}],
}


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="dripline-bench-") as tmp:
        yield f"sqlite:///{tmp}/bench.db"


def postgres_database(admin_url: str) -> Callable[[], Any]:
    @contextmanager
    def make() -> Iterator[str]:
        name = f"dripline_bench_{uuid4().hex[:12]}"
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
        finally:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return make


def one_round(url: str, contacts: int) -> float:
    """Seconds taken by one ``enroll_many`` of ``contacts`` new contacts on ``url``."""
    runtime = bootstrap(Settings(database_url=url),
                        clock=ManualClock(datetime(2026, 11, 29, 9, 0, tzinfo=UTC)))
    try:
        app = runtime.app
        sequence = app.create_sequence(TENANT, SEQUENCE)
        app.activate_sequence(TENANT, sequence.id)
        ids = [f"contact-{i:05d}" for i in range(contacts)]
        started = time.perf_counter()
        result = app.enroll_many(TENANT, sequence.id, ids)
        seconds = time.perf_counter() - started
    finally:
        runtime.close()
    if len(result.enrolled) != contacts or result.skipped:
        raise SystemExit(f"expected {contacts} enrolled, got {len(result.enrolled)} "
                         f"(skipped {len(result.skipped)}): the benchmark is not measuring "
                         "what it says")
    return seconds


def measure(name: str, database: Callable[[], Any], contacts: int, rounds: int
            ) -> dict[str, Any]:
    times = []
    for number in range(1, rounds + 1):
        with database() as url:
            seconds = one_round(url, contacts)
        times.append(seconds)
        print(f"  {name:<10} round {number}: {seconds:7.2f} s")
    median = statistics.median(times)
    return {"seconds": times, "median": median, "min": min(times), "max": max(times),
            "contacts_per_second": contacts / median}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="1,000 contacts instead of 10,000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres-url", default=DEFAULT_ADMIN_URL,
                        help="an admin URL allowed to create and drop databases")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    contacts = 1_000 if args.quick else 10_000

    print(f"enroll_many of {contacts:,} contacts, {args.rounds} rounds per backend")
    sqlite = measure("sqlite", sqlite_database, contacts, args.rounds)
    postgres = measure("postgresql", postgres_database(args.postgres_url), contacts,
                       args.rounds)
    ratio = sqlite["median"] / postgres["median"]

    print(f"\n{'backend':<12}{'median s':>10}{'min s':>9}{'max s':>9}{'contacts/s':>12}")
    for name, row in (("sqlite", sqlite), ("postgresql", postgres)):
        print(f"{name:<12}{row['median']:>10.2f}{row['min']:>9.2f}{row['max']:>9.2f}"
              f"{row['contacts_per_second']:>12,.0f}")
    print(f"SQLite:PostgreSQL time ratio (medians) = {ratio:.2f}")

    report = {
        "benchmark": "bulk_enroll", "contacts": contacts, "rounds": args.rounds,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(), "eventsourcing": version("eventsourcing"),
        "psycopg": version("psycopg"), "cpus": os.cpu_count(),
        "sqlite": sqlite, "postgresql": postgres, "sqlite_to_postgresql_ratio": ratio,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
