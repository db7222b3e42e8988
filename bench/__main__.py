"""``python -m bench <name> [--quick] [options]``: run one workload, print its table and
write ``bench/results/<name>[-quick].json``.

Workloads: drip (Dripline against the floors and the peers, a burst of zero-delay steps),
pace (the same engines, steps falling due at a steady rate: lateness while keeping up),
delayed (3 steps 1 s apart at a steady rate: Dripline against the floors), intake,
due-scan, bulk-enroll, replay, history (one contact's long history), scheduler-memory.
``python -m bench <name> --help`` lists each one's options.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable

# workload -> the module whose ``main(argv)`` runs it
MODULES = {"drip": "bench.peers.compare", "pace": "bench.pace", "delayed": "bench.delayed",
           "intake": "bench.intake", "due-scan": "bench.workloads",
           "bulk-enroll": "bench.workloads", "replay": "bench.replay",
           "history": "bench.history", "scheduler-memory": "bench.scheduler_memory"}


def runner(name: str) -> Callable[[list[str]], None]:
    module = importlib.import_module(MODULES[name])
    if module.__name__ == "bench.workloads":
        return lambda argv: module.workloads_main(name, argv)
    main: Callable[[list[str]], None] = module.main
    return main


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in MODULES:
        raise SystemExit(f"{__doc__}\nusage: python -m bench {{{','.join(MODULES)}}} "
                         "[--quick] [options]")
    runner(argv[0])(argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
