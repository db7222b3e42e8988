"""The pace workload: steps fall due at a steady rate (default 1,000 a second for 30 s;
``--quick`` 10 s), and every engine must execute each one when it falls due. It answers what
the drip burst cannot: lateness when an engine is asked to keep up with a rate, not to drain
a backlog. The aim: lateness p99 under 250 ms while keeping up (the last step executed within
1 s of the last due time, none missing, none twice).

How a round is set up, the same for every engine: rate x duration contacts, each in a
one-step sequence, are all enrolled first (enrolling is timed on its own); contact i's step
falls due at T0 + (i // group) * group / rate, T0 a moment after the enrolling and the
engine's start-up, ``group`` contacts sharing each due moment (default: 5 ms worth, 5 at
1,000/s; ``--group 1`` spreads every step). Lateness is the durable write's time minus the
step's due time: the ``sends`` row's ``sent_at`` for the floor and the peers; for Dripline,
when the recorded ``MessageRequested`` was first seen committed (polled every 20 ms; see
``bench/drip_engine.py:analyse``), all on this machine's clock.
Steps/s is the steps executed over T0 to the last one. An engine still short of steps
``--timeout`` seconds after the last due time is reported as a timeout: its missing steps
count as that late at least, and its percentiles are then lower bounds (marked >=).

Rounds are round-robin (round 1: every engine, round 2: every engine, ...); medians (min-max)
of the rounds. Writes ``bench/results/pace.json`` (``pace-quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from bench.equal_floor import EqualWorkFloor
from bench.floor import Floor
from bench.harness import Plan, machine_facts, table, write_report
from bench.peers.base import Engine
from bench.peers.celery_peer import CeleryRedis
from bench.peers.compare import (
    aggregate,
    choose,
    common_arguments,
    engine_facts,
    engine_rss,
    gap_split,
    median,
    render_split,
    round_robin,
    span,
)
from bench.peers.dbos_peer import Dbos
from bench.peers.dripline_peer import Dripline
from bench.peers.procrastinate_peer import Procrastinate
from bench.peers.temporal_peer import Temporal

AIM_P99_MS = 250.0
AIM_LAST_AFTER_DUE_S = 1.0
GROUP_SECONDS = 0.005  # default spacing of due moments
SUMMARISED = ("wall_s", "steps_per_s", "lateness_p50_ms", "lateness_p95_ms",
              "lateness_p99_ms", "lateness_max_ms", "last_after_due_s", "enroll_s")


def engines() -> list[Engine]:
    return [Dripline("pg-1"), Dripline("sqlite"), Floor(), EqualWorkFloor(), CeleryRedis(),
            Procrastinate(), Dbos(), Temporal()]


def met_aim(r: dict[str, Any]) -> bool:
    """p99 under 250 ms while keeping up: every step executed once and none before its due
    time, the last within 1 s of the last due time."""
    return (r.get("status") == "ok" and r.get("missing") == 0 and r.get("duplicates") == 0
            and r.get("early") == 0
            and r.get("lateness_p99_ms", float("inf")) < AIM_P99_MS
            and r.get("last_after_due_s", float("inf")) <= AIM_LAST_AFTER_DUE_S)


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out = aggregate(runs, SUMMARISED)
    out["met_aim"] = sum(met_aim(r) for r in runs)
    out["lower_bound"] = any(r.get("lateness_lower_bound") for r in runs)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench pace", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10 s of due steps, not 30")
    parser.add_argument("--rate", type=float, default=1000.0, help="steps due per second")
    parser.add_argument("--duration", type=float,
                        help="seconds over which steps fall due (default 30; --quick 10)")
    parser.add_argument("--group", type=int,
                        help="contacts sharing each due moment (default: rate x 5 ms, at "
                             "least 1)")
    common_arguments(parser, "seconds past the last due time an engine may take for its "
                             "last steps (default 30 quick, 60 full); then the round is a "
                             "timeout, with the missing steps counted that late at least")
    args = parser.parse_args(argv)
    duration = args.duration or (10.0 if args.quick else 30.0)
    group = args.group or max(1, round(args.rate * GROUP_SECONDS))
    plan = Plan(contacts=round(args.rate * duration), steps=1, rate=args.rate, group=group)
    timeout = args.timeout or (30.0 if args.quick else 60.0)
    print(f"pace: {plan.contacts:,} one-step contacts due at {args.rate:,.0f}/s over "
          f"{plan.span:.1f} s ({group} per due moment, every {group / args.rate * 1000:g} ms)")
    run_paced("pace", plan, choose(engines(), args.only), args, timeout,
              {"rate_per_s": args.rate, "duration_s": duration})


def run_paced(name: str, plan: Plan, chosen: list[Engine], args: argparse.Namespace,
              timeout: float, settings: dict[str, Any]) -> None:
    """Round-robin rounds of ``plan`` for every engine chosen; the table, the gap split
    (lateness p99) and ``bench/results/<name>[-quick].json``. Shared by pace and delayed."""
    facts = machine_facts(args.postgres_url)
    print(f"{args.rounds} rounds round-robin, {facts['nproc']} cores")
    started = time.monotonic()
    runs = round_robin(chosen, args.rounds,
                       lambda engine: engine.run_plan(plan, timeout, args.postgres_url), line)
    results = {engine: summarise(rs) for engine, rs in runs.items()}
    split = gap_split(results, "lateness_p99_ms")
    print()
    print(render(results, plan))
    print(render_split(split, "median lateness p99"))
    path = write_report(f"{name}-quick" if args.quick else name, {
        "mode": "quick" if args.quick else "full", **settings,
        "contacts": plan.contacts, "steps_per_contact": plan.steps, "steps": plan.total,
        "gap_s": plan.gap, "group": plan.group, "due_span_s": plan.span,
        "rounds": args.rounds, "timeout_s": timeout,
        "aim": {"lateness_p99_ms_below": AIM_P99_MS,
                "last_step_within_s_of_last_due": AIM_LAST_AFTER_DUE_S,
                "missing": 0, "duplicates": 0},
        "run_seconds": round(time.monotonic() - started), "machine": facts,
        "how_timed": "every contact enrolled before T0; contact i's first step "
                     "due at T0 + (i // group) * group / rate (step k: + k * gap_s); "
                     "lateness = the durable "
                     "write's time (sends.sent_at; Dripline: the request first seen "
                     "committed, polled every 20 ms) minus "
                     "the due time; steps/s = steps executed / (last execution - T0); "
                     "last_after_due_s = last execution minus the last due time; a round "
                     "short of steps timeout_s after the last due time counts its missing "
                     "steps that late at least (lateness_lower_bound)",
        "engines": engine_facts(chosen), "results": results, "gap_split": split,
        "runs": runs}, args.output)
    print(f"wrote {path}")


def line(r: dict[str, Any]) -> str:
    if "steps_per_s" not in r:
        return f"{r['status'].upper()}: {r.get('reason', '?')}".splitlines()[0][:160]
    bound = ">=" if r.get("lateness_lower_bound") else ""
    text = (f"{r['steps_per_s']:7,.0f} steps/s  lateness p50 {bound}"
            f"{r['lateness_p50_ms']:6.0f} p99 {bound}{r['lateness_p99_ms']:6.0f} max "
            f"{bound}{r['lateness_max_ms']:6.0f} ms  last +{r['last_after_due_s']:.2f} s  "
            f"dup {r['duplicates']} missing {r['missing']}  enroll {r.get('enroll_s') or 0:.1f}"
            f" s  aim {'met' if met_aim(r) else 'missed'}")
    return text if r["status"] == "ok" else f"{text}  {r['status'].upper()}: {r['reason']}"


def gap_text(plan: Plan) -> str:
    return f" {plan.gap:g} s apart" if plan.gap else ""


def render(results: dict[str, dict[str, Any]], plan: Plan) -> str:
    head = ["engine", "steps/s (min-max)", "p50 ms", "p95 ms", "p99 ms (min-max)", "max ms",
            "last-due s", "dups", "missing", "enroll s", "RSS MB", "aim met", "status"]
    rows = []
    for name, r in results.items():
        measured = median(r, "steps_per_s") is not None
        statuses = ", ".join(s for s in r["statuses"] if s != "ok") or "ok"
        if not measured:
            rows.append([name, *["-"] * (len(head) - 2),
                         f"{r['statuses'][-1]}: {r.get('reason', '?')}"[:70]])
            continue
        bound = ">=" if r["lower_bound"] else ""
        rounds = len(r["statuses"])
        rows.append([
            name, span(r["steps_per_s"], "{:,.0f}"),
            *[bound + f"{median(r, f'lateness_{k}_ms') or 0:,.0f}" for k in ("p50", "p95")],
            bound + span(r["lateness_p99_ms"], "{:,.0f}"),
            bound + f"{median(r, 'lateness_max_ms') or 0:,.0f}",
            f"{median(r, 'last_after_due_s') or 0:+.2f}",
            r["duplicates"], r["missing_max"], f"{median(r, 'enroll_s') or 0:.1f}",
            f"{engine_rss(name, r['peak_rss_mb']):,.0f}",
            f"{'yes' if r['met_aim'] == rounds else 'no'} ({r['met_aim']}/{rounds})",
            statuses if statuses == "ok" else f"{statuses}: {r.get('reason', '?')}"[:70]])
    return "\n".join([
        table(head, rows), "",
        f"{plan.contacts:,} contacts x {plan.steps} step(s){gap_text(plan)}, first steps due "
        f"at {plan.rate or 0:,.0f}/s; last due {plan.span:.1f} s after T0; "
        "medians of the rounds (min-max); last-due s = last execution minus last due time; "
        "missing = most in a round; >= = lower bound (a round timed out: its missing steps "
        f"counted as late as the wait); aim = p99 < {AIM_P99_MS:.0f} ms, every step once, "
        f"the last within {AIM_LAST_AFTER_DUE_S:.0f} s of its due time (rounds that met it); "
        "RSS MB as in drip"])
