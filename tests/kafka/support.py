"""Talking to the real broker from tests (plain aiokafka: what a CRM service would use), and
running Dripline's Kafka roles as real processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from aiokafka import (  # type: ignore[import-untyped]
    AIOKafkaConsumer,
    AIOKafkaProducer,
    TopicPartition,
)
from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # type: ignore[import-untyped]

from consumers.settings import KafkaSettings

ROOT = Path(__file__).resolve().parents[2]
TENANT = "acme"


async def create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        await admin.close()


def envelope(event_id: str, contact: str, at: datetime, kind: str = "tag_added",
             tenant: str = TENANT, **data: Any) -> bytes:
    return json.dumps({"event_id": event_id, "type": kind, "tenant_id": tenant,
                       "contact_id": contact, "occurred_at": at.isoformat(),
                       "data": data}).encode()


async def produce(bootstrap: str, topic: str, records: Sequence[tuple[str, bytes]]) -> None:
    """Publish (key, value) records, pipelined, and wait until the broker has them all."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        sent = [await producer.send(topic, value, key=key.encode()) for key, value in records]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


@dataclass(frozen=True)
class Received:
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]


async def read_all(bootstrap: str, topic: str, at_least: int = 0,
                   idle_ms: int = 1000) -> list[Received]:
    """Everything on the topic, read by a plain consumer without a group: at least
    ``at_least`` records, then until a poll brings nothing new. (Tansu's ListOffsets answers
    lag behind the log, so the end is found by reading, not by asking for end offsets.)"""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        await consumer.topics()  # fetches fresh metadata
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic)
                                                         or ())]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        found: list[Received] = []
        while True:
            batch = await consumer.getmany(timeout_ms=idle_ms)
            for records in batch.values():
                found += [Received(r.partition, r.offset, r.key, r.value,
                                   {k: v.decode() for k, v in r.headers}) for r in records]
            if not batch and len(found) >= at_least:
                return found
    finally:
        await consumer.stop()


async def partition_ends(bootstrap: str, topic: str, count: int) -> dict[int, int]:
    """The next offset of each partition that holds some of the ``count`` records."""
    ends: dict[int, int] = {}
    for r in await read_all(bootstrap, topic, at_least=count):
        ends[r.partition] = max(ends.get(r.partition, 0), r.offset + 1)
    return ends


async def wait_for(condition: Callable[[], Awaitable[bool]], what: str,
                   timeout: float = 60.0) -> None:
    """Poll ``condition`` until it holds; fail saying ``what`` did not happen."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def settings_env(settings: KafkaSettings, database_url: str) -> dict[str, str]:
    env = {f"DRIPLINE_{name.upper()}": str(value)
           for name, value in settings.model_dump().items() if value is not None}
    return {**os.environ, **env, "DRIPLINE_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}


class RoleProcess:
    """``python -m dripline.kafka_roles <role>`` as a child process, stopped by its pid."""

    def __init__(self, role: str, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "dripline.kafka_roles", role],
                                            env=env, cwd=ROOT, stdout=out,
                                            stderr=subprocess.STDOUT)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final commit, as in a crash."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
