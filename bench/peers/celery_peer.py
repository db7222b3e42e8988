"""Celery with Redis: one task per step; the task writes its send to PostgreSQL and then
schedules the next step with ``countdown`` (an ETA message; the delays are zero here). Each
contact's first step is sent with its own ``eta``.

    python -m bench.peers.celery_peer worker QUEUE    (started by ``python -m bench drip``)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import uuid4

from bench.harness import Children, python_argv
from bench.peers.base import Engine, Unavailable
from bench.peers.sends import STEPS, record

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
CONCURRENCY = 2


def make_app(queue: str) -> Any:
    from celery import Celery  # type: ignore[import-untyped]

    app = Celery("drip_bench", broker=REDIS_URL)
    app.conf.update(
        task_default_queue=queue, task_acks_late=True, worker_prefetch_multiplier=4,
        task_ignore_result=True, broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False)
    connection: list[Any] = []

    def conn() -> Any:
        if not connection:
            import psycopg

            connection.append(psycopg.connect(os.environ["BENCH_SENDS_URL"], autocommit=True))
        return connection[0]

    @app.task(name="drip.step")  # type: ignore[untyped-decorator]
    def step(contact: int, order: int, due: float, steps: int = STEPS) -> None:
        sent = record(conn(), contact, order, due)
        if order + 1 < steps:
            step.apply_async((contact, order + 1, sent, steps), countdown=0)

    app.conf.bench_step = step
    return app


class CeleryRedis(Engine):
    name = "Celery+Redis"
    enroll_rate = 800.0
    requires = ("celery", "redis")
    tuning = {  # noqa: RUF012 - read only
        "pool": "prefork", "concurrency": CONCURRENCY, "task_acks_late": True,
              "worker_prefetch_multiplier": 4, "task_ignore_result": True,
              "flags": "--without-gossip --without-mingle --without-heartbeat",
              "why": "one process per core; acks_late so a crashed worker's step reruns "
                     "(at-least-once, the durable choice); single worker needs no gossip"}

    def __init__(self) -> None:
        self.queue = ""

    def check(self) -> None:
        super().check()
        import redis

        try:
            redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        except redis.RedisError as error:
            raise Unavailable(f"Redis at {REDIS_URL} unreachable: {error}") from error

    def versions(self) -> dict[str, str]:
        import redis

        info = redis.Redis.from_url(REDIS_URL).info("server")
        return {"redis_server": str(info.get("redis_version"))}

    def start(self, children: Children, url: str, workdir: Path) -> dict[str, int]:
        self.queue = f"drip-{uuid4().hex[:8]}"
        children.start("celery worker", python_argv("bench.peers.celery_peer", "worker",
                                                    self.queue),
                       env={"BENCH_SENDS_URL": url})
        self.app = make_app(self.queue)
        self._wait_ready()
        return {}

    def _wait_ready(self) -> None:
        import time

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.app.control.ping(timeout=0.5):
                return
        raise Unavailable("celery worker did not answer a ping within 60 s")

    def enroll(self, url: str, dues: Sequence[float], steps: int) -> None:
        from datetime import UTC, datetime

        step = self.app.conf.bench_step
        with self.app.producer_or_acquire() as producer:
            for contact, due in enumerate(dues):
                step.apply_async((contact, 0, due, steps), eta=datetime.fromtimestamp(due, UTC),
                                 producer=producer)

    def stop(self) -> None:
        import redis

        if self.queue:
            redis.Redis.from_url(REDIS_URL).delete(self.queue, "unacked", "unacked_index")
        if hasattr(self, "app"):
            self.app.close()


def worker(queue: str) -> None:
    make_app(queue).worker_main(["worker", "-Q", queue, "--pool", "prefork",
                                 "--concurrency", str(CONCURRENCY), "--loglevel", "WARNING",
                                 "--without-gossip", "--without-mingle", "--without-heartbeat"])


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker(sys.argv[2])
    else:
        raise SystemExit(__doc__)
