"""Replay rate: events per second rebuilding every read model, against reading (and
decoding) the notification log alone, on SQLite and PostgreSQL, side by side.

    python -m bench.replay [--contacts 2000] [--postgres-url URL]

A fresh database gets the test workload (about 6.6 events per contact); then the log is read
end to end, and then every read model is rebuilt from the start (``dripline replay --all``).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from bench.due_scan import ADMIN_URL, database
from domain.clock import ManualClock
from dripline.bootstrap import bootstrap
from dripline.settings import Settings
from projections import replay
from tests.projections.workload import run_workload


def read_log(app: object, head: int, batch: int = 1000) -> None:
    recorder, mapper = app.recorder, app.mapper  # type: ignore[attr-defined]
    position = 0
    while position < head:
        notes = recorder.select_notifications(start=position + 1, limit=batch)
        for note in notes:
            mapper.to_domain_event(note)
        position = notes[-1].id


def measure(url: str, contacts: int) -> dict[str, float]:
    clock = ManualClock(datetime(2026, 11, 29, 9, tzinfo=UTC))
    runtime = bootstrap(Settings(database_url=url), clock=clock, catch_up_lookups=False)
    try:
        events = run_workload(runtime.app, clock, contacts)
        started = time.perf_counter()
        read_log(runtime.app, events)
        read_seconds = time.perf_counter() - started
        runtime.read_models.projector.batch_size = 1000
        started = time.perf_counter()
        for name in runtime.read_models.names():
            replay.rebuild(runtime.read_models, name)
        rebuild_seconds = time.perf_counter() - started
        return {"events": events, "read_per_s": events / read_seconds,
                "rebuild_per_s": events / rebuild_seconds}
    finally:
        runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--postgres-url", default=ADMIN_URL)
    args = parser.parse_args()
    print(f"{'backend':>9} {'events':>8} {'log read ev/s':>14} {'rebuild all ev/s':>17} "
          f"{'read:rebuild':>13}")
    for backend in ("sqlite", "postgres"):
        with database(backend, args.postgres_url) as url:
            r = measure(url, args.contacts)
        print(f"{backend:>9} {r['events']:>8,.0f} {r['read_per_s']:>14,.0f} "
              f"{r['rebuild_per_s']:>17,.0f} {r['read_per_s'] / r['rebuild_per_s']:>12.1f}x")


if __name__ == "__main__":
    main()
