"""The replay workload: rebuilding every read model from the event log (``dripline replay
--all``), in events per second, against reading (and decoding) the log alone, on SQLite and
PostgreSQL, side by side.

    python -m bench replay [--quick] [--events N] [--backends sqlite postgres] [--fresh]

The store (1,000,000 events; ``--quick`` 20,000) is built once through the engine's public
write paths and kept (``bench/stores.py``): cohorts of 1,000 contacts, each contact's profile
recorded (``record_batch`` of ``contact_updated``), one in four tagged with a tag that
triggers a one-step sequence, everyone bulk-enrolled (``enroll_many``) in a three-step
sequence with zero delays, every enrollment executed (``execute_due``: the chain of three
requests), one in ten replying afterwards: about 11 events per contact. A cohort is noted
when done; an interrupted build resumes at the next one (a cohort redone has no effect
twice: event ids and enrollment ids are deterministic). Each round then reads the whole log
and runs ``dripline replay --all`` as a process (its start-up, measured on its own with
``dripline projections status``, is taken off).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from bench import harness
from bench.stores import BACKENDS, STORE_DIR, Progress, store_url
from bench.workloads import Case, case_arguments, median_of, run_cases
from domain import ids
from domain.application import DriplineApp
from domain.clock import ManualClock
from domain.crm import CrmEvent
from dripline.bootstrap import bootstrap
from dripline.settings import Settings

TENANT = "bench"
COHORT = 1_000
START = datetime(2026, 1, 1, 9, tzinfo=UTC)


def _steps(count: int) -> list[dict[str, Any]]:
    return [{"order": n, "name": f"step {n}", "delay_amount": 0, "delay_unit": "minutes",
             "message_template": {"type": "text", "content": f"Hi {{{{contact.name}}}} #{n}"}}
            for n in range(count)]


def build(url: str, target: int, say: Callable[[str], None] = print) -> int:
    """Fill the store until it holds ``target`` events (resuming a build left half-way);
    returns how many it holds."""
    progress = Progress(url)
    done = int(progress.get("cohorts") or 0)
    clock = ManualClock(START + timedelta(seconds=done))
    runtime = bootstrap(Settings(database_url=url), clock=clock, catch_up_lookups=False)
    try:
        app = runtime.app
        if progress.get("main") is None:
            main = app.create_sequence(TENANT, {"name": "main", "steps": _steps(3)})
            side = app.create_sequence(TENANT, {
                "name": "side", "trigger_type": "tag_added",
                "trigger_data": {"tag_name": "lead"}, "steps": _steps(1)})
            for sequence in (main, side):
                app.activate_sequence(TENANT, sequence.id)
            runtime.catch_up()  # the trigger lookup reads the sequences read model
            progress.set("main", main.id)
            progress.set("side", side.id)
        sequences = UUID(progress.get("main") or ""), UUID(progress.get("side") or "")
        head = app.recorder.max_notification_id() or 0
        started, at_start = time.monotonic(), head
        while head < target:
            clock.set(START + timedelta(seconds=done))
            _cohort(app, clock, done, sequences)
            done += 1
            progress.set("cohorts", done)
            head = app.recorder.max_notification_id() or 0
            if done % 10 == 0:
                rate = (head - at_start) / (time.monotonic() - started)
                say(f"    {head:,} of {target:,} events ({rate:,.0f}/s)")
        return head
    finally:
        runtime.close()


def _cohort(app: DriplineApp, clock: ManualClock, number: int,
            sequences: tuple[UUID, UUID]) -> None:
    main, side = sequences
    contacts = [f"c-{number * COHORT + i}" for i in range(COHORT)]

    def crm(kind: str, contact: str, **data: Any) -> CrmEvent:
        return CrmEvent(f"{kind}-{contact}", kind, TENANT, contact, clock(), data)

    # In batches, as the intake applies them (one unit of work each).
    profiles: list[CrmEvent] = []
    for i, contact in enumerate(contacts):
        profiles.append(crm("contact_updated", contact, name=f"Contact {contact}",
                            email=f"{contact}@x.test"))
        if i % 4 == 0:
            profiles.append(crm("tag_added", contact, tag_name="lead"))
    app.record_batch(profiles)
    app.enroll_many(TENANT, main, contacts)
    app.execute_due([ids.enrollment_id(main, c, 1) for c in contacts]
                    + [ids.enrollment_id(side, c, 1) for c in contacts[::4]])
    clock.advance(timedelta(milliseconds=500))
    app.record_batch([crm("contact_replied", contact, channel="whatsapp")
                      for contact in contacts[::10]])


def read_log(url: str) -> tuple[int, float]:
    """Read and decode every notification, 1,000 at a time: (events, seconds)."""
    runtime = bootstrap(Settings(database_url=url), catch_up_lookups=False)
    try:
        recorder, mapper = runtime.app.recorder, runtime.app.mapper
        started, count, position = time.perf_counter(), 0, 0
        while notes := recorder.select_notifications(start=position + 1, limit=1000):
            for note in notes:
                mapper.to_domain_event(note)
            count += len(notes)
            position = notes[-1].id
        return count, time.perf_counter() - started
    finally:
        runtime.close()


def dripline_command(url: str, *args: str, log: Path) -> float:
    """Seconds one ``dripline`` command took on ``url``; its output goes to ``log``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIPLINE_")}
    env.update(DRIPLINE_DATABASE_URL=url, PYTHONPATH=str(harness.REPO))
    script = Path(sys.executable).with_name("dripline")
    command = [str(script)] if script.exists() else [
        sys.executable, "-c", "from dripline.cli import main; main()"]
    started = time.perf_counter()
    with log.open("ab") as out:
        subprocess.run([*command, *args], env=env, cwd=harness.REPO, stdout=out,
                       stderr=subprocess.STDOUT, check=True)
    return time.perf_counter() - started


def measure(url: str, log: Path) -> dict[str, float]:
    events, read_s = read_log(url)
    startup_s = dripline_command(url, "projections", "status", log=log)
    replay_s = dripline_command(url, "replay", "--all", log=log)
    rebuild_s = max(replay_s - startup_s, 1e-9)
    return {"events": events, "read_per_s": events / read_s,
            "rebuild_per_s": events / rebuild_s, "read_to_rebuild": rebuild_s / read_s,
            "replay_command_s": replay_s, "startup_s": startup_s}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench replay", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    case_arguments(parser)
    parser.add_argument("--events", type=int, help="store size (1,000,000; --quick 20,000)")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--store-dir", type=Path, default=STORE_DIR,
                        help="where SQLite stores are kept (BENCH_STORE_DIR)")
    parser.add_argument("--fresh", action="store_true", help="drop the kept store first")
    args = parser.parse_args(argv)
    target = args.events or (20_000 if args.quick else 1_000_000)
    urls, built = {}, {}
    for backend in args.backends:
        url = store_url(backend, f"replay-{target}", args.postgres_url, args.store_dir,
                        args.fresh)
        started = time.monotonic()
        print(f"  {backend}: the store of {target:,} events (built or resumed as needed)")
        held = build(url, target)
        urls[backend] = url
        built[backend] = {"events": held, "build_or_check_s": round(time.monotonic() - started)}
    args.store_dir.mkdir(parents=True, exist_ok=True)
    log = args.store_dir / "replay-commands.log"

    def case(backend: str) -> Case:
        return backend, lambda: measure(urls[backend], log)

    def ratios(results: dict[str, Any]) -> dict[str, float]:
        return {f"{b}: rebuild time : read time": median_of(results, b, "read_to_rebuild")
                for b in args.backends}
    run_cases("replay", [case(b) for b in args.backends],
              {"target_events": target, "stores": built, "cohort": COHORT,
               "compared": "reading+decoding the notification log vs `dripline replay "
                           "--all` (every read model), start-up taken off"}, args, ratios)


if __name__ == "__main__":
    main()
