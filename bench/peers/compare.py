"""The drip workload, every engine side by side in one round-robin run (round 1: every
engine, round 2: every engine, ...), so that a slow minute on the shared machine hits all of
them alike. Prints the table and the ratios; writes ``bench/results/drip.json``.

The round-robin run, the choice of engines, the aggregation over rounds and the report's
engine facts are shared with the pace workload (``bench/pace.py``)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.equal_floor import EqualWorkFloor
from bench.floor import Floor
from bench.harness import ADMIN_URL, machine_facts, summary, table, write_report
from bench.peers.base import Engine
from bench.peers.celery_peer import CeleryRedis
from bench.peers.dbos_peer import Dbos
from bench.peers.dripline_peer import Dripline
from bench.peers.procrastinate_peer import Procrastinate
from bench.peers.temporal_peer import Temporal

FLOOR = Floor.name
EQUAL_FLOOR = EqualWorkFloor.name


def engines() -> list[Engine]:
    return [Dripline("pg-1"), Dripline("pg-1+caps"), Dripline("pg-2"), Dripline("sqlite"),
            Dripline("sqlite+caps"), Floor(), EqualWorkFloor(),
            CeleryRedis(), Procrastinate(), Dbos(), Temporal()]


SUMMARISED = ("wall_s", "steps_per_s", "lateness_p50_ms", "lateness_p99_ms", "enroll_s")


def choose(candidates: list[Engine], only: Sequence[str] | None) -> list[Engine]:
    """The engines named by ``--only`` (substring match, any case), or all of them."""
    return [e for e in candidates
            if not only or any(o.lower() in e.name.lower() for o in only)]


def round_robin(chosen: list[Engine], rounds: int, run: Callable[[Engine], dict[str, Any]],
                line: Callable[[dict[str, Any]], str]) -> dict[str, list[dict[str, Any]]]:
    """Round 1: every engine, round 2: every engine, ... Each round's result by engine."""
    runs: dict[str, list[dict[str, Any]]] = {e.name: [] for e in chosen}
    for number in range(1, rounds + 1):
        for engine in chosen:
            try:
                r = run(engine)
            except Exception as error:  # one engine's bug must not lose the others' rounds
                r = {"status": "failed", "reason": f"{type(error).__name__}: {error}"}
            r["round"] = number
            runs[engine.name].append(r)
            print(f"  round {number} {engine.name:<28} {line(r)}", flush=True)
    return runs


def engine_facts(chosen: list[Engine]) -> dict[str, dict[str, Any]]:
    return {e.name: {"tuning": e.tuning, "versions": _versions(e)} for e in chosen}


def aggregate(runs: list[dict[str, Any]], keys: Sequence[str] = SUMMARISED
              ) -> dict[str, Any]:
    measured = [r for r in runs if "steps_per_s" in r]
    out: dict[str, Any] = {"statuses": [r["status"] for r in runs]}
    if not measured:
        out["reason"] = runs[-1].get("reason", "?")
        return out
    for key in keys:
        out[key] = summary([r[key] for r in measured if r.get(key) is not None])
    out["duplicates"] = sum(r["duplicates"] for r in measured)
    out["missing_max"] = max(r["missing"] for r in measured)
    rss: dict[str, float] = {}
    for r in measured:
        for role, mb in r.get("peak_rss_mb", {}).items():
            rss[role] = max(rss.get(role, 0.0), mb)
    out["peak_rss_mb"] = rss
    failed = [r for r in runs if r["status"] != "ok"]
    if failed:
        out["reason"] = failed[-1].get("reason", "?")
    return out


def common_arguments(parser: argparse.ArgumentParser, timeout_help: str) -> None:
    """The options drip and pace share (after their own sizes)."""
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, help=timeout_help)
    parser.add_argument("--only", nargs="+", help="engine names to run (substring match)")
    parser.add_argument("--postgres-url", default=ADMIN_URL)
    parser.add_argument("--output", type=Path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench drip", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 contacts, not 10,000")
    parser.add_argument("--contacts", type=int)
    common_arguments(parser, "seconds one engine may take for one round (default 180 quick, "
                             "600 full); past it the round is reported as a timeout with the "
                             "steps done so far")
    args = parser.parse_args(argv)
    contacts = args.contacts or (1_000 if args.quick else 10_000)
    timeout = args.timeout or (180.0 if args.quick else 600.0)
    chosen = choose(engines(), args.only)
    facts = machine_facts(args.postgres_url)
    print(f"drip: {contacts:,} contacts x 3 zero-delay steps = {contacts * 3:,} sends per "
          f"engine, {args.rounds} rounds round-robin, {facts['nproc']} cores")
    started = time.monotonic()
    runs = round_robin(chosen, args.rounds,
                       lambda engine: engine.run(contacts, timeout, args.postgres_url), _line)
    results = {name: aggregate(rs) for name, rs in runs.items()}
    print()
    print(render(results, contacts))
    path = write_report("drip-quick" if args.quick else "drip", {
        "mode": "quick" if args.quick else "full", "contacts": contacts,
        "steps": contacts * 3, "rounds": args.rounds, "timeout_s": timeout,
        "run_seconds": round(time.monotonic() - started), "machine": facts,
        "how_timed": "T0 = the instant every first step falls due, after all contacts are "
                     "enrolled (enrolling is timed on its own as enroll_s); wall = T0 to the "
                     "last send; lateness = send time minus due time (a later step falls due "
                     "when the one before it was sent); duplicates = sends beyond one per "
                     "(contact, step)",
        "engines": engine_facts(chosen),
        "results": results, "ratios": ratios(results), "gap_split": gap_split(results),
        "runs": runs}, args.output)
    print(f"wrote {path}")


def _versions(engine: Engine) -> dict[str, str]:
    try:
        return engine.versions()
    except Exception as error:  # a peer that cannot run cannot say its version either
        return {"error": str(error)}


def _line(r: dict[str, Any]) -> str:
    if "steps_per_s" not in r:
        return f"{r['status'].upper()}: {r.get('reason', '?')}".splitlines()[0][:160]
    text = (f"{r['wall_s']:7.2f} s {r['steps_per_s']:8,.0f} steps/s  lateness p50 "
            f"{r['lateness_p50_ms']:8.0f} ms p99 {r['lateness_p99_ms']:8.0f} ms  "
            f"dup {r['duplicates']}  enroll {r.get('enroll_s') or 0:.1f} s")
    return text if r["status"] == "ok" else f"{text}  {r['status'].upper()}: {r['reason']}"


def median(row: dict[str, Any], key: str) -> float | None:
    value = row.get(key, {}).get("median")
    return float(value) if value is not None else None


def ratios(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Throughput of each engine (row) divided by each other's (column), medians."""
    speeds = {n: s for n, r in results.items() if (s := median(r, "steps_per_s"))}
    return {a: {b: round(sa / sb, 2) for b, sb in speeds.items()} for a, sa in speeds.items()}


def gap_split(results: dict[str, dict[str, Any]], key: str = "steps_per_s"
              ) -> dict[str, float]:
    """The gap between the bare floor and each Dripline row, split in two (medians of
    ``key``; each factor > 1 means the second is worse): design = the bare floor against
    the equal-work floor (what the durable writes cost), implementation = the equal-work
    floor against Dripline (what the rest costs). Throughput divides the better by the
    worse; lateness the worse by the better."""
    values = {n: v for n, r in results.items() if (v := median(r, key))}
    lower_is_better = key.startswith("lateness")

    def worse(better: str, other: str) -> float | None:
        if better not in values or other not in values:
            return None
        a, b = values[better], values[other]
        return round(b / a if lower_is_better else a / b, 2)

    out: dict[str, float] = {}
    if (design := worse(FLOOR, EQUAL_FLOOR)) is not None:
        out["design: bare floor vs equal-work floor"] = design
    for name in values:
        if name.startswith("Dripline") and (cost := worse(EQUAL_FLOOR, name)) is not None:
            out[f"implementation: equal-work floor vs {name}"] = cost
    return out


def render_split(split: dict[str, float], what: str) -> str:
    if not split:
        return ""
    lines = [f"the gap split ({what}, x = how many times worse the second is):"]
    lines += [f"  {label}: {factor:.2f}x" for label, factor in split.items()]
    return "\n".join(lines)


def render(results: dict[str, dict[str, Any]], contacts: int) -> str:
    speeds = {n: s for n, r in results.items() if (s := median(r, "steps_per_s"))}
    floor = speeds.get(FLOOR)
    rows = []
    for name, r in results.items():
        if name not in speeds:
            rows.append([name, "-", "-", "-", "-", "-", "-", "-", "-",
                         f"{r['statuses'][-1]}: {r.get('reason', '?')}"[:70]])
            continue
        rss = r["peak_rss_mb"]
        rows.append([
            name, span(r["wall_s"]), span(r["steps_per_s"], "{:,.0f}"),
            f"{median(r, 'lateness_p50_ms') or 0:,.0f}",
            f"{median(r, 'lateness_p99_ms') or 0:,.0f}", r["duplicates"],
            f"{median(r, 'enroll_s') or 0:.1f}",
            f"{engine_rss(name, rss):,.0f}", f"{speeds[name] / floor:.2f}" if floor else "-",
            ", ".join(s for s in r["statuses"] if s != "ok") or "ok"])
    head = ["engine", "wall s (min-max)", "steps/s (min-max)", "p50 ms", "p99 ms", "dups",
            "enroll s", "RSS MB", "x floor", "status"]
    out = [table(head, rows), "",
           f"{contacts:,} contacts; medians of the rounds; RSS MB = peak resident memory "
           "summed over the engine's processes and the PostgreSQL backends of its database "
           "(the bench driver, which only enrolls, is in the JSON; it counts only where the "
           "engine runs inside it, Dripline SQLite)",
           "", "throughput ratios (row / column, median steps/s):"]
    names = list(speeds)
    short = [n.split(" (")[0][:12] if not n.startswith("Dripline") else
             n.replace("Dripline ", "DL ").replace(" scheduler", "s")[:12] for n in names]
    matrix = [[n, *[f"{speeds[n] / speeds[m]:.2f}" for m in names]] for n in names]
    out.append(table(["", *short], matrix))
    out += ["", render_split(gap_split(results), "median steps/s")]
    return "\n".join(out)


def engine_rss(name: str, rss: dict[str, float]) -> float:
    in_driver = "SQLite" in name  # drip_engine runs the embedded default in-process
    return sum(mb for role, mb in rss.items() if in_driver or role != "bench driver")


def span(s: dict[str, float], fmt: str = "{:.2f}") -> str:
    """median (min-max)"""
    return f"{fmt.format(s['median'])} ({fmt.format(s['min'])}-{fmt.format(s['max'])})"
