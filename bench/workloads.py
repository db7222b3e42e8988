"""Workloads made of cases run in rounds: round 1 every case, round 2 every case, ...;
medians and min/max per case, machine facts, settings; one JSON each,
``bench/results/<name>[-quick].json``. due-scan and bulk-enroll are here; intake, replay and
scheduler-memory bring their own cases (``bench/intake.py``, ``bench/replay_store.py``,
``bench/scheduler_memory.py``)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import harness
from bench.harness import ADMIN_URL, machine_facts, summary, table, write_report

Case = tuple[str, Callable[[], dict[str, Any]]]


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

    def case(make: Callable[[], Any], via: str) -> Callable[[], dict[str, Any]]:
        def run() -> dict[str, Any]:
            with make() as url:
                seconds = bulk_enroll.one_round(url, contacts, via)
            return {"seconds": seconds, "contacts_per_s": contacts / seconds}
        return run

    def postgres() -> Any:
        return harness.postgres_database(admin_url, "dripline_bench")
    return ([(f"{backend}/{via}", case(make, via)) for via in ("core", "http")
             for backend, make in (("sqlite", harness.sqlite_database),
                                   ("postgres", postgres))],
            {"contacts": contacts,
             "call": "core: DriplineApp.enroll_many, one call; http: POST "
                     ".../enroll/bulk through the API app in process (JSON, validation and "
                     "the response included)"})


def bulk_enroll_ratios(results: dict[str, Any]) -> dict[str, float]:
    """Time ratios of the medians: SQLite to PostgreSQL, HTTP to the core call."""
    def seconds(case: str) -> float:
        return median_of(results, case, "seconds")
    return {"sqlite/core : postgres/core (time)": seconds("sqlite/core") / seconds(
                "postgres/core"),
            **{f"{b}/http : {b}/core (time)": seconds(f"{b}/http") / seconds(f"{b}/core")
               for b in ("sqlite", "postgres")}}


def due_scan_ratios(results: dict[str, Any]) -> dict[str, float]:
    """Median latency at the larger size over the smaller, per backend."""
    sizes = sorted({int(c.split()[1].replace(",", "")) for c in results})
    if len(sizes) < 2:
        return {}
    small, large = sizes[0], sizes[-1]
    return {f"{b}: {large:,} rows : {small:,} rows": median_of(
                results, f"{b} {large:,} rows", "median_ms") / median_of(
                results, f"{b} {small:,} rows", "median_ms") for b in ("sqlite", "postgres")}


WORKLOADS = {"due-scan": (due_scan_cases, due_scan_ratios),
             "bulk-enroll": (bulk_enroll_cases, bulk_enroll_ratios)}


def case_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres-url", default=ADMIN_URL)
    parser.add_argument("--output", type=Path)


def workloads_main(name: str, argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m bench {name}")
    case_arguments(parser)
    args = parser.parse_args(argv)
    make_cases, ratios = WORKLOADS[name]
    cases, settings = make_cases(args.quick, args.postgres_url)
    run_cases(name, cases, settings, args, ratios)


def run_cases(name: str, cases: list[Case], settings: dict[str, Any],
              args: argparse.Namespace,
              ratios: Callable[[dict[str, Any]], dict[str, float]] | None = None) -> None:
    """Every case once per round, round-robin; the table, ``ratios`` (of the medians, side
    by side) and the JSON."""
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
    side_by_side = ratios(results) if ratios else {}
    for label, ratio in side_by_side.items():
        print(f"  {label}: {ratio:.2f}")
    path = write_report(f"{name}-quick" if args.quick else name, {
        "mode": "quick" if args.quick else "full", "rounds": args.rounds,
        "settings": settings, "run_seconds": round(time.monotonic() - started),
        "machine": facts, "results": results, "ratios": side_by_side, "runs": runs},
        args.output)
    print(f"wrote {path}")


def median_of(results: dict[str, Any], case: str, key: str) -> float:
    return float(results[case][key]["median"])


def _short(value: object) -> str:
    return f"{value:,.2f}" if isinstance(value, float) else str(value)


def _cell(value: object) -> str:
    if isinstance(value, dict):
        fmt = "{:,.0f}" if value["median"] >= 100 else "{:.2f}"
        return (f"{fmt.format(value['median'])} ({fmt.format(value['min'])}-"
                f"{fmt.format(value['max'])})")
    return ",".join(value) if isinstance(value, list) else str(value)
