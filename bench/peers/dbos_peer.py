"""DBOS Transact: one durable workflow per enrollment, taken from a queue; per step a
durable sleep (zero seconds here) and a step function that writes the send. Each workflow
is enqueued with a ``delay_seconds`` up to its contact's first due time.

    python -m bench.peers.dbos_peer worker URL   (started by ``python -m bench drip``)
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.harness import Children, python_argv
from bench.peers.base import Engine
from bench.peers.sends import STEPS, record

WORKERS = 2
WORKER_CONCURRENCY = 16
POLLING_S = 0.1  # the queue's default is 1 s
POOL = 4  # connections per worker, system database and sends each: max_connections is 100
QUEUE = "drip"
APP = "drip_bench"


def register(url: str) -> None:
    """Declare the workflow and the step (before ``DBOS.launch``)."""
    from dbos import DBOS
    from psycopg_pool import ConnectionPool

    pool: ConnectionPool[Any] = ConnectionPool(url, min_size=1, max_size=POOL,
                                               kwargs={"autocommit": True})

    @DBOS.step(name="send")
    def send(contact: int, order: int, due: float) -> float:
        with pool.connection() as conn:
            return record(conn, contact, order, due)

    @DBOS.workflow(name="drip")
    def drip(contact: int, due: float, steps: int = STEPS) -> None:
        for order in range(steps):
            DBOS.sleep(0)
            due = send(contact, order, due)


class Dbos(Engine):
    name = "DBOS Transact"
    enroll_rate = 150.0
    requires = ("dbos",)
    tuning = {  # noqa: RUF012 - read only
        "worker_processes": WORKERS, "queue_worker_concurrency": WORKER_CONCURRENCY,
        "queue_polling_interval_s": POLLING_S, "sys_db_pool_size": POOL,
        "sends_pool_size": POOL,
        "why": "one process per core; a per-process concurrency cap so a burst of 10,000 "
               "enqueued workflows does not start 10,000 threads (16 = 4 pooled connections "
               "x 4: more only queue for a connection); the queue polled every 0.1 s "
               "instead of its default 1 s, the courtesy procrastinate gets (an enqueued "
               "workflow is only taken up when its queue is polled; DBOS backs off by itself "
               "when polls contend). Not tunable: DBOS 3.4 moves a delayed workflow onto its "
               "queue in a background sweep once a second (a module constant, no setting)"}

    def start(self, children: Children, url: str, workdir: Path) -> dict[str, int]:
        from dbos import DBOS

        DBOS.migrate(url)
        for i in range(WORKERS):
            children.start(f"dbos worker {i + 1}",
                           python_argv("bench.peers.dbos_peer", "worker", url),
                           env={"DBOS__VMID": f"bench-{i + 1}"})
        return {}

    def enroll(self, url: str, dues: Sequence[float], steps: int) -> None:
        import time

        from dbos import DBOSClient

        client = DBOSClient(system_database_url=url, application_name=APP,
                            system_database_pool_size=2)
        try:
            for contact, due in enumerate(dues):
                options: Any = {"queue_name": QUEUE, "workflow_name": "drip",
                                "delay_seconds": max(due - time.time(), 0.0)}
                client.enqueue(options, contact, due, steps)
        finally:
            client.destroy()


def worker(url: str) -> None:
    from dbos import DBOS

    DBOS(config={"name": APP, "system_database_url": url, "run_migrations": False,
                 "sys_db_pool_size": POOL, "log_level": "WARNING"})
    register(url)
    DBOS.launch()
    DBOS.register_queue(QUEUE, worker_concurrency=WORKER_CONCURRENCY,
                        polling_interval_sec=POLLING_S, on_conflict="always_update")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    DBOS.destroy()


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker(sys.argv[2])
    else:
        raise SystemExit(__doc__)
