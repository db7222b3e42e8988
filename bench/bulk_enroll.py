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
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench import harness
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


def postgres_database(admin_url: str) -> Callable[[], Any]:
    """A factory of fresh PostgreSQL databases, each dropped afterwards."""
    return lambda: harness.postgres_database(admin_url, "dripline_bench")


def one_round(url: str, contacts: int, via: str = "core") -> float:
    """Seconds taken to enroll ``contacts`` new contacts on ``url`` in one call: the core's
    ``enroll_many`` (``via="core"``), or ``POST .../enroll/bulk`` through the HTTP API app
    in process (``via="http"``: JSON parsing, validation and the response included)."""
    runtime = bootstrap(Settings(database_url=url),
                        clock=ManualClock(datetime(2026, 11, 29, 9, 0, tzinfo=UTC)))
    try:
        app = runtime.app
        sequence = app.create_sequence(TENANT, SEQUENCE)
        app.activate_sequence(TENANT, sequence.id)
        ids = [f"contact-{i:05d}" for i in range(contacts)]
        if via == "http":
            enrolled, skipped, seconds = _through_http(runtime, str(sequence.id), ids)
        else:
            started = time.perf_counter()
            result = app.enroll_many(TENANT, sequence.id, ids)
            seconds = time.perf_counter() - started
            enrolled, skipped = len(result.enrolled), len(result.skipped)
    finally:
        runtime.close()
    if enrolled != contacts or skipped:
        raise SystemExit(f"expected {contacts} enrolled, got {enrolled} (skipped {skipped}): "
                         "the benchmark is not measuring what it says")
    return seconds


def _through_http(runtime: Any, sequence_id: str, ids: list[str]) -> tuple[int, int, float]:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.auth import ApiKeys

    client = TestClient(create_app(runtime, api_keys=ApiKeys.parse(f"{TENANT}:bench-key")))
    started = time.perf_counter()
    answer = client.post(f"/api/v1/automation/sequences/{sequence_id}/enroll/bulk",
                         json={"contact_ids": ids},
                         headers={"Authorization": "Bearer bench-key"})
    seconds = time.perf_counter() - started
    answer.raise_for_status()
    body = answer.json()
    return int(body["enrolled_count"]), int(body["skipped_count"]), seconds


def measure(name: str, database: Callable[[], Any], contacts: int, rounds: int,
            via: str = "core") -> dict[str, Any]:
    times = []
    for number in range(1, rounds + 1):
        with database() as url:
            seconds = one_round(url, contacts, via)
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

    print(f"enroll {contacts:,} contacts in one call, {args.rounds} rounds per backend and "
          "path (core: enroll_many; http: POST .../enroll/bulk through the API app)")
    backends = {"sqlite": harness.sqlite_database,
                "postgresql": postgres_database(args.postgres_url)}
    rows: dict[str, dict[str, Any]] = {}
    for via in ("core", "http"):
        for name, database in backends.items():
            rows[f"{name}/{via}"] = measure(f"{name}/{via}", database, contacts, args.rounds,
                                            via)

    print(f"\n{'backend/path':<18}{'median s':>10}{'min s':>9}{'max s':>9}{'contacts/s':>12}")
    for name, row in rows.items():
        print(f"{name:<18}{row['median']:>10.2f}{row['min']:>9.2f}{row['max']:>9.2f}"
              f"{row['contacts_per_second']:>12,.0f}")
    ratio = rows["sqlite/core"]["median"] / rows["postgresql/core"]["median"]
    http_cost = {name: rows[f"{name}/http"]["median"] / rows[f"{name}/core"]["median"]
                 for name in backends}
    print(f"SQLite:PostgreSQL time ratio (core, medians) = {ratio:.2f}")
    for name, cost in http_cost.items():
        print(f"{name}: http/core time ratio = {cost:.2f}")

    report = {
        "benchmark": "bulk_enroll", "contacts": contacts, "rounds": args.rounds,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(), "eventsourcing": version("eventsourcing"),
        "psycopg": version("psycopg"), "cpus": os.cpu_count(),
        "results": rows, "sqlite_to_postgresql_ratio": ratio, "http_to_core_ratio": http_cost,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
