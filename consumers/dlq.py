"""Dead letters: CRM events that cannot be applied, kept on ``crm.events.dlq`` with the
original key and value and headers saying why and where from. ``dripline dlq list`` reads
them back; ``dripline dlq replay`` puts chosen ones back on the source topic after a fix, so
they go through the same exactly-once path as any event (a replayed event that was applied
meanwhile is a duplicate by its ``event_id`` and has no second effect)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import (  # type: ignore[import-untyped]
    AIOKafkaConsumer,
    AIOKafkaProducer,
    TopicPartition,
)

REASON = "dlq-reason"  # bad_json | invalid_envelope | unknown_tenant | invalid_event | failed
DETAIL = "dlq-detail"
SOURCE_TOPIC = "dlq-source-topic"
SOURCE_PARTITION = "dlq-source-partition"
SOURCE_OFFSET = "dlq-source-offset"
ATTEMPTS = "dlq-attempts"
DEAD_AT = "dlq-at"
EVENT_ID = "dlq-event-id"
REPLAYED_FROM = "dlq-replayed-from"  # on a replayed record: "<dlq topic>:<partition>:<offset>"


@dataclass(frozen=True)
class DeadLetter:
    key: bytes | None
    value: bytes | None
    reason: str
    detail: str
    source_topic: str
    source_partition: int
    source_offset: int
    attempts: int = 1
    event_id: str = ""
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    @classmethod
    def of(cls, record: Any, reason: str, detail: str,
           attempts: int = 1, event_id: str = "") -> DeadLetter:
        return cls(key=record.key, value=record.value, reason=reason, detail=detail[:1000],
                   source_topic=record.topic, source_partition=record.partition,
                   source_offset=record.offset, attempts=attempts, event_id=event_id)

    def headers(self) -> dict[str, str]:
        return {REASON: self.reason, DETAIL: self.detail, SOURCE_TOPIC: self.source_topic,
                SOURCE_PARTITION: str(self.source_partition),
                SOURCE_OFFSET: str(self.source_offset), ATTEMPTS: str(self.attempts),
                DEAD_AT: self.at, EVENT_ID: self.event_id}


# Publishes dead letters and returns once the broker has confirmed every one of them.
DeadLetterSink = Callable[[Sequence[DeadLetter]], Awaitable[None]]


@dataclass(frozen=True)
class StoredLetter:
    """A dead letter as read back from the topic."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, str]

    @property
    def reason(self) -> str:
        return self.headers.get(REASON, "")

    @property
    def source(self) -> str:
        return (f"{self.headers.get(SOURCE_TOPIC, '?')}:{self.headers.get(SOURCE_PARTITION, '?')}"
                f":{self.headers.get(SOURCE_OFFSET, '?')}")


async def read_letters(bootstrap: str, topic: str, idle_ms: int = 1500) -> list[StoredLetter]:
    """Every dead letter on the topic, oldest first per partition (no consumer group: reading
    does not move anybody's position)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer.topics()  # fetches fresh metadata
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        # Read until a poll brings nothing: some brokers' end offsets lag their log.
        letters: list[StoredLetter] = []
        while batch := await consumer.getmany(timeout_ms=idle_ms):
            for records in batch.values():
                letters += [StoredLetter(r.partition, r.offset, r.key, r.value,
                                         {k: v.decode() for k, v in r.headers})
                            for r in records]
        return sorted(letters, key=lambda s: (s.partition, s.offset))
    finally:
        await consumer.stop()


async def replay_letters(bootstrap: str, dlq_topic: str, letters: Sequence[StoredLetter],
                         ) -> int:
    """Put the letters' original records back on their source topics; returns how many."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        sent = [await producer.send(
                    letter.headers.get(SOURCE_TOPIC) or "crm.events", letter.value,
                    key=letter.key,
                    headers=[(REPLAYED_FROM,
                              f"{dlq_topic}:{letter.partition}:{letter.offset}".encode())])
                for letter in letters]
        await asyncio.gather(*sent)
        return len(sent)
    finally:
        await producer.stop()
