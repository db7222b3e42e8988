"""``python -m bench <name> [--quick] [options]``: run one workload, print its table and
write ``bench/results/<name>.json``.

Workloads: drip (Dripline against the floor and the peers, a burst), pace (the same engines,
steps falling due at a steady rate: lateness while keeping up), intake, due-scan,
bulk-enroll, replay. ``python -m bench <name> --help`` lists each one's options.
"""

from __future__ import annotations

import sys
from collections.abc import Callable


def _drip(argv: list[str]) -> None:
    from bench.peers.compare import main

    main(argv)


def _pace(argv: list[str]) -> None:
    from bench.pace import main

    main(argv)


def _others(name: str) -> Callable[[list[str]], None]:
    def run(argv: list[str]) -> None:
        from bench import workloads

        workloads.main(name, argv)
    return run


WORKLOADS: dict[str, Callable[[list[str]], None]] = {
    "drip": _drip, "pace": _pace, "intake": _others("intake"), "due-scan": _others("due-scan"),
    "bulk-enroll": _others("bulk-enroll"), "replay": _others("replay")}


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in WORKLOADS:
        raise SystemExit(f"{__doc__}\nusage: python -m bench {{{','.join(WORKLOADS)}}} "
                         "[--quick] [options]")
    WORKLOADS[argv[0]](argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
