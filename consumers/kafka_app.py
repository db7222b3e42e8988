"""The FastStream Kafka edge: the intake subscriber on ``crm.events`` and the publishers of
``dripline.messages``, ``dripline.events`` and ``crm.events.dlq`` (DESIGN 3.2).

``build_edge`` makes the edge of the ``dripline consume`` and ``dripline relay`` processes,
whose composition root (``dripline.kafka_roles``) calls it: nothing is built at import time.
``docs_app`` is the same topology for
``faststream docs gen consumers.kafka_app:docs_app --factory``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from aiokafka import (  # type: ignore[import-untyped]
    AIOKafkaConsumer,
    ConsumerRebalanceListener,
    TopicPartition,
)
from aiokafka.errors import KafkaError  # type: ignore[import-untyped]
from faststream import FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy
from faststream.specification import AsyncAPI

from consumers.dlq import DeadLetter
from consumers.intake import Intake
from consumers.relay import OutRecord
from consumers.schemas import DeadLetterHeaders, IntegrationEventOut, MessageRequestOut
from consumers.settings import KafkaSettings
from consumers.tracked import position, tracking_name
from domain.application import DriplineApp
from domain.envelope import CrmEnvelope

log = logging.getLogger("dripline.kafka")


class SeekToDatabase(ConsumerRebalanceListener):  # type: ignore[misc]
    """On assignment, start each partition at the position the database recorded for it,
    not at Kafka's committed offset: the database is the record of what was applied."""

    def __init__(self) -> None:
        self.app: Callable[[], DriplineApp | None] = lambda: None
        self.consumer: Callable[[], AIOKafkaConsumer | None] = lambda: None

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        app, consumer = self.app(), self.consumer()
        if app is None or consumer is None:
            return
        for tp in assigned:
            applied = await asyncio.to_thread(position, app,
                                              tracking_name(tp.topic, tp.partition))
            if applied:  # never recorded: Kafka's committed offset, else the earliest
                consumer.seek(tp, applied)
        log.info("assigned %s", sorted((tp.topic, tp.partition) for tp in assigned))


@dataclass
class KafkaEdge:
    broker: KafkaBroker
    settings: KafkaSettings
    listener: SeekToDatabase
    publishers: dict[str, Any]  # "messages" | "events" | "dead_letters" -> publisher

    async def publish_dead_letters(self, letters: Sequence[DeadLetter]) -> None:
        sent = [await self.publishers["dead_letters"].publish(
                    d.value or b"", key=d.key, headers=d.headers(), no_confirm=True)
                for d in letters]
        await asyncio.gather(*(f for f in sent if inspect.isawaitable(f)))

    async def send(self, records: Sequence[OutRecord]) -> list[Awaitable[Any]]:
        sent = [await self.publishers[r.topic].publish(r.value, key=r.key.encode(),
                                                       headers=r.headers, no_confirm=True)
                for r in records]
        return [f for f in sent if inspect.isawaitable(f)]  # (the test broker confirms at once)


def build_edge(settings: KafkaSettings, *, intake: Callable[[], Intake | None] | None = None,
               docs: bool = False, middlewares: Sequence[Any] = ()) -> KafkaEdge:
    broker = KafkaBroker(settings.kafka_bootstrap_servers or "localhost:9092",
                         middlewares=tuple(middlewares), acks="all",
                         description="Dripline's Kafka edge (DESIGN 3.2)")
    publishers = {
        "messages": broker.publisher(
            settings.topic_messages, title=f"{settings.topic_messages}:publish",
            schema=MessageRequestOut, include_in_schema=True,
            description="Message requests (key = contact_id; headers message_id, event_id, "
                        "store_position). At-least-once: deduplicate by message_id."),
        "events": broker.publisher(
            settings.topic_domain_events, title=f"{settings.topic_domain_events}:publish",
            schema=IntegrationEventOut,
            description="Integration events, versioned, ids only (key = contact id, or "
                        "sequence id; headers event_id, event_type, store_position). "
                        "At-least-once: deduplicate by event_id."),
        "dead_letters": broker.publisher(
            settings.topic_dead_letters, title=f"{settings.topic_dead_letters}:publish",
            schema=DeadLetterHeaders,
            description="CRM events that cannot be applied: the original key and value, "
                        "headers dlq-reason, dlq-detail, dlq-source-topic/partition/offset, "
                        "dlq-attempts, dlq-event-id."),
    }
    listener = SeekToDatabase()
    edge = KafkaEdge(broker, settings, listener, publishers)
    if intake is None and not docs:
        return edge
    subscriber = broker.subscriber(
        settings.topic_crm_events, group_id=settings.kafka_group_id,
        ack_policy=AckPolicy.MANUAL, batch=True, max_records=settings.intake_batch_size,
        auto_offset_reset="earliest", listener=listener,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=max(settings.kafka_session_timeout_ms // 5, 300),
        title=f"{settings.topic_crm_events}:intake",
        description="CRM events (DESIGN 3.1; key = contact_id). Applied exactly once in "
                    "effect; malformed events go to the dead-letter topic.")
    listener.consumer = lambda: subscriber.consumer
    if docs:
        subscriber(_contract)
        return edge
    if intake is None:
        raise ValueError("the CRM events subscriber needs the intake (none only for docs)")
    running = intake

    async def on_crm_events(message: KafkaMessage) -> None:
        handler = running()
        records = message.raw_message
        batch = tuple(records) if isinstance(records, tuple | list) else (records,)
        try:
            if handler is None:
                raise RuntimeError("the intake is not started")
            await handler.handle(batch)
        except Exception:
            # Only the database failing gets here: rewind to the first record of the batch
            # (the database's position filters what was applied) and give it a moment.
            log.exception("intake batch failed; rewinding")
            await message.nack()
            await asyncio.sleep(1.0)
            return
        try:
            await message.ack()
        except KafkaError as error:
            # A rebalance took the partitions meanwhile. Harmless: what was applied is in the
            # database with its position, and the next owner seeks to that position.
            log.info("offset commit skipped: %s", error)

    subscriber(on_crm_events)
    return edge


async def _contract(events: list[CrmEnvelope]) -> None:
    """The payload contract of ``crm.events``, for the AsyncAPI document only."""


def docs_app() -> FastStream:
    edge = build_edge(KafkaSettings(), docs=True)
    spec = AsyncAPI(edge.broker, title="Dripline", version=version("dripline"),
                    description="CRM events in; message requests, integration events and "
                                "dead letters out (DESIGN 3.1, 3.2).")
    return FastStream(edge.broker, specification=spec)
