"""procrastinate: deferred jobs on PostgreSQL. One async task per step writes its send and
defers the next step (``schedule_in`` zero seconds: the delays are zero here). Each
contact's first step is deferred with its own ``schedule_at``.

    python -m bench.peers.procrastinate_peer worker URL   (started by ``python -m bench drip``)
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.harness import Children, python_argv
from bench.peers.base import Engine
from bench.peers.sends import STEPS, record_async

WORKERS = 2
CONCURRENCY = 8
POLLING_S = 0.5


def make_app(url: str) -> Any:
    import procrastinate
    from psycopg_pool import AsyncConnectionPool

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))
    pools: list[AsyncConnectionPool[Any]] = []

    async def pool() -> AsyncConnectionPool[Any]:
        if not pools:
            pools.append(AsyncConnectionPool(url, min_size=1, max_size=CONCURRENCY,
                                             kwargs={"autocommit": True}, open=False))
            await pools[0].open()
        return pools[0]

    @app.task(name="drip_step", queue="drip")
    async def step(contact: int, order: int, due: float, steps: int = STEPS) -> None:
        async with (await pool()).connection() as conn:
            sent = await record_async(conn, contact, order, due)
        if order + 1 < steps:
            await step.configure(schedule_in={"seconds": 0}).defer_async(
                contact=contact, order=order + 1, due=sent, steps=steps)

    app.bench_step = step  # type: ignore[attr-defined]
    return app


class Procrastinate(Engine):
    name = "procrastinate"
    enroll_rate = 3000.0
    requires = ("procrastinate",)
    tuning = {  # noqa: RUF012 - read only
        "worker_processes": WORKERS, "concurrency": CONCURRENCY,
              "listen_notify": True, "fetch_job_polling_interval_s": POLLING_S,
              "why": "one worker process per core, several async jobs each (the send is I/O); "
                     "scheduled jobs are found by polling (NOTIFY fires at defer time, not "
                     "when a job falls due), so polling every 0.5 s instead of the default 5"}

    def start(self, children: Children, url: str, workdir: Path) -> dict[str, int]:
        app = make_app(url)
        with app.open():
            app.schema_manager.apply_schema()
        for i in range(WORKERS):
            children.start(f"procrastinate worker {i + 1}",
                           python_argv("bench.peers.procrastinate_peer", "worker", url))
        return {}

    def enroll(self, url: str, dues: Sequence[float], steps: int) -> None:
        from datetime import UTC, datetime

        app = make_app(url)
        step = app.bench_step
        # What ``batch_defer`` does, with a ``schedule_at`` per job: one insert of them all.
        jobs = [step.configure(schedule_at=datetime.fromtimestamp(due, UTC)).make_new_job(
                    contact=c, order=0, due=due, steps=steps) for c, due in enumerate(dues)]
        with app.open():
            app.job_manager.batch_defer_jobs(jobs)


def worker(url: str) -> None:
    app = make_app(url)

    async def main() -> None:
        async with app.open_async():
            await app.run_worker_async(queues=["drip"], concurrency=CONCURRENCY,
                                       fetch_job_polling_interval=POLLING_S,
                                       install_signal_handlers=True)

    asyncio.run(main())


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker(sys.argv[2])
    else:
        raise SystemExit(__doc__)
