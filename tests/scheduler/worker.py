"""A scheduler process for the tests: ``python -m tests.scheduler.worker STATS [options]``.

What ``dripline schedule`` runs (``bootstrap(..., catch_up_lookups=False)`` and
``dripline.run.scheduling``), plus what a test needs from a child it cannot share objects
with: a clock fixed by ``--now`` (a ManualClock lives in one process only), and its outcome
counts written as JSON to STATS, once when it is ready (``{"ready": true}``) and again when
it stops on SIGTERM. A SIGKILL leaves only the first: a crash writes nothing more.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from datetime import datetime
from pathlib import Path

from domain.clock import Clock, ManualClock, system_clock
from dripline.bootstrap import bootstrap
from dripline.run import scheduling
from dripline.settings import Settings


def _write(path: Path, body: dict[str, object]) -> None:
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(body))
    partial.replace(path)  # readers see the whole file or the previous one, never half


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("stats", type=Path)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--now", help="a fixed ISO time for the clock (default: system clock)")
    args = parser.parse_args(argv)
    clock: Clock = ManualClock(datetime.fromisoformat(args.now)) if args.now else system_clock
    runtime = bootstrap(Settings(), clock=clock, catch_up_lookups=False)
    try:
        with scheduling(runtime, batch_size=args.batch_size,
                        idle_seconds=0.05) as scheduler:
            # As dripline schedule does: stop from another thread, never in the handler.
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: threading.Thread(target=scheduler.stop).start())
            _write(args.stats, {"ready": True})
            scheduler.run_forever()
    finally:
        runtime.close()
    _write(args.stats, {"ready": True, "stopped": True, "batches": scheduler.stats.batches,
                        "outcomes": dict(scheduler.stats.outcomes)})


if __name__ == "__main__":
    main()
