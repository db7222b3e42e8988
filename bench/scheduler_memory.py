"""The scheduler-memory workload: peak resident memory of a scheduler process
(``dripline schedule``, PostgreSQL) while the store holds N active enrollments none of which
is due yet (1,000,000; ``--quick`` 100,000), against the same process on an empty store,
side by side. The aim: under 150 MB at 1,000,000.

    python -m bench scheduler-memory [--quick] [--enrollments N] [--seconds S] [--fresh]

The store is built once and kept (``bench/stores.py``): a sequence whose first step waits
1,000 days, N contacts bulk-enrolled 10,000 per ``enroll_many`` call (resumable per call),
then every read model projected (``due_enrollments`` included). Each round starts
``dripline schedule`` on it, waits until it says it started, and samples its RSS every
0.2 s for ``--seconds`` (default 30; quick 10): a few hundred scans of a due list with
nothing due. The empty case is a fresh database, dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any
from uuid import UUID

from bench import harness
from bench.harness import Children, RssSampler
from bench.stores import STORE_DIR, Progress, store_url
from bench.workloads import Case, case_arguments, median_of, run_cases
from dripline.bootstrap import bootstrap
from dripline.settings import Settings

TENANT = "bench"
CALL = 10_000  # contacts per enroll_many call (its maximum)
ROLE = "dripline schedule"
SEQUENCE = {"name": "bench: not due", "steps": [
    {"order": 0, "name": "later", "delay_amount": 1000, "delay_unit": "days",
     "message_template": {"type": "text", "content": "Hi {{contact.name}}"}}]}


def build(url: str, enrollments: int) -> int:
    """Enroll until the store holds ``enrollments`` (resuming), then project everything;
    returns how many are enrolled."""
    progress = Progress(url)
    runtime = bootstrap(Settings(database_url=url), catch_up_lookups=False)
    try:
        app = runtime.app
        sequence_id = progress.get("sequence")
        if sequence_id is None:
            sequence = app.create_sequence(TENANT, SEQUENCE)
            app.activate_sequence(TENANT, sequence.id)
            progress.set("sequence", sequence_id := str(sequence.id))
        done = int(progress.get("enrolled") or 0)
        started = time.monotonic()
        while done < enrollments:
            batch = [f"c-{n}" for n in range(done, min(done + CALL, enrollments))]
            app.enroll_many(TENANT, UUID(sequence_id), batch)
            done += len(batch)
            progress.set("enrolled", done)
            if done % 100_000 == 0:
                print(f"    {done:,} of {enrollments:,} enrolled "
                      f"({done / (time.monotonic() - started):,.0f}/s this run)", flush=True)
        print("    projecting the read models (resumable)", flush=True)
        runtime.catch_up()
        return done
    finally:
        runtime.close()


def peak_rss(url: str, seconds: float) -> dict[str, float]:
    """Start ``dripline schedule`` on ``url``; its RSS at start and its peak over
    ``seconds`` after it said it started."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIPLINE_")}
    env.update(DRIPLINE_DATABASE_URL=url, PYTHONUNBUFFERED="1")
    script = Path(sys.executable).with_name("dripline")
    command = [str(script)] if script.exists() else [
        sys.executable, "-c", "from dripline.cli import main; main()"]
    with tempfile.TemporaryDirectory(prefix="bench-schedmem-") as tmp:
        children = Children(Path(tmp))
        try:
            children.start(ROLE, [*command, "schedule"], env=env)
            began = time.monotonic()
            while "scheduler started" not in children.log_tail(ROLE, 50):
                children.check_alive()
                if time.monotonic() - began > 300:
                    raise RuntimeError("dripline schedule did not start in 300 s")
                time.sleep(0.05)
            startup = time.monotonic() - began
            with RssSampler(children) as rss:
                time.sleep(0.3)
                at_start = rss.peak_mb.get(ROLE, 0.0)
                time.sleep(max(seconds - 0.3, 0.0))
                children.check_alive()
            return {"peak_rss_mb": rss.peak_mb.get(ROLE, 0.0), "rss_at_start_mb": at_start,
                    "startup_s": startup}
        finally:
            children.stop_all()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench scheduler-memory",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    case_arguments(parser)
    parser.add_argument("--enrollments", type=int, help="1,000,000; --quick 100,000")
    parser.add_argument("--seconds", type=float, help="sampling per round (30; --quick 10)")
    parser.add_argument("--store-dir", type=Path, default=STORE_DIR)
    parser.add_argument("--fresh", action="store_true", help="drop the kept store first")
    args = parser.parse_args(argv)
    enrollments = args.enrollments or (100_000 if args.quick else 1_000_000)
    seconds = args.seconds or (10.0 if args.quick else 30.0)
    url = store_url("postgres", f"schedmem-{enrollments}", args.postgres_url,
                    args.store_dir, args.fresh)
    print(f"  the store of {enrollments:,} enrollments not due (built or resumed as needed)")
    started = time.monotonic()
    held = build(url, enrollments)
    built_s = round(time.monotonic() - started)
    full = f"{enrollments:,} enrollments not due"

    def case(name: str, database: Any) -> Case:
        def run() -> dict[str, Any]:
            with database() as each:
                return peak_rss(each, seconds)
        return name, run

    @contextmanager
    def empty() -> Iterator[str]:
        with harness.postgres_database(args.postgres_url, "schedmem") as fresh:
            bootstrap(Settings(database_url=fresh), catch_up_lookups=False).close()
            yield fresh

    def kept() -> AbstractContextManager[str]:
        return nullcontext(url)

    def ratios(results: dict[str, Any]) -> dict[str, float]:
        return {f"peak RSS: {full} : empty store": median_of(results, full, "peak_rss_mb")
                / median_of(results, "empty store", "peak_rss_mb")}
    run_cases("scheduler-memory", [case("empty store", empty), case(full, kept)],
              {"enrollments": held, "sampled_s": seconds, "store_build_or_check_s": built_s,
               "process": "dripline schedule (PostgreSQL), its process tree's RSS every 0.2 s",
               "aim_mb_below": 150}, args, ratios)


if __name__ == "__main__":
    main()
