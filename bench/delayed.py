"""The delayed workload: the drip workload's N contacts x 3 steps, but with the steps 1 s
apart, so no zero-delay chain executes several steps in one execution: every step is its
own due moment, as in real sequences. The issue's aim, to be measured: lateness p99 under
250 ms at 5,000 steps/s, keeping up (the last step within 1 s of its due time).

Contact i's first step falls due at T0 + (i // group) * group / (rate / 3), its step k
k * gap later (a fixed schedule, the same for every engine): while all three steps overlap,
``rate`` steps fall due per second. Everyone is enrolled before T0 (timed on its own).
Lateness and steps/s as in pace (``bench/pace.py``): the durable write's time minus the due
time (Dripline: the request first seen committed, polled every 20 ms).

Engines: Dripline on PostgreSQL (one ``dripline schedule`` + one ``dripline project``) and
on SQLite (``serve``-shaped), the bare floor and the equal-work floor. A Dripline delay is
whole minutes, so Dripline gets each contact's steps as three one-step sequences the
contact is enrolled in at its three due times (``bench/drip_engine.py:prepare``).
Writes ``bench/results/delayed.json`` (``delayed-quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse

from bench.equal_floor import EqualWorkFloor
from bench.floor import Floor
from bench.harness import Plan
from bench.pace import GROUP_SECONDS, run_paced
from bench.peers.base import Engine
from bench.peers.compare import choose, common_arguments
from bench.peers.dripline_peer import Dripline

STEPS = 3


def engines() -> list[Engine]:
    return [Dripline("pg-1"), Dripline("sqlite"), Floor(), EqualWorkFloor()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench delayed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="1,000 contacts at 1,000 steps/s, not 10,000 at 5,000")
    parser.add_argument("--contacts", type=int, help="contacts (3 steps each)")
    parser.add_argument("--rate", type=float,
                        help="steps due per second while a contact's steps overlap")
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between steps")
    parser.add_argument("--group", type=int,
                        help="contacts sharing each due moment (default: 5 ms worth)")
    common_arguments(parser, "seconds past the last due time an engine may take for its "
                             "last steps (default 30 quick, 60 full)")
    args = parser.parse_args(argv)
    contacts = args.contacts or (1_000 if args.quick else 10_000)
    rate = args.rate or (1_000.0 if args.quick else 5_000.0)
    entering = rate / STEPS  # contacts whose first step falls due per second
    group = args.group or max(1, round(entering * GROUP_SECONDS))
    plan = Plan(contacts=contacts, steps=STEPS, rate=entering, group=group, gap=args.gap)
    timeout = args.timeout or (30.0 if args.quick else 60.0)
    print(f"delayed: {contacts:,} contacts x {STEPS} steps {args.gap:g} s apart = "
          f"{plan.total:,} steps, {rate:,.0f} steps/s due at the overlap ({group} contacts "
          f"per due moment), last due {plan.span:.1f} s after T0")
    run_paced("delayed", plan, choose(engines(), args.only), args, timeout,
              {"rate_per_s": rate, "contacts_per_s": entering})


if __name__ == "__main__":
    main()
