"""The intake wired to FastStream's in-memory ``TestKafkaBroker``: the real handler, ack
policy, envelope checks and dead-letter publishing, on a SQLite event store."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from faststream import BaseMiddleware
from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from consumers.intake import Intake
from consumers.kafka_app import KafkaEdge, build_edge
from consumers.settings import KafkaSettings
from domain.application import DriplineApp
from domain.clock import ManualClock
from projections.storage.urls import eventsourcing_env

TENANT = "acme"


def numbered_offsets() -> type[BaseMiddleware]:
    """The test broker gives every record offset 0; a real partition numbers them. This
    numbers them per partition, as Kafka would, so tracking positions mean something."""
    counters: dict[tuple[str, int], int] = defaultdict(int)

    class NumberedOffsets(BaseMiddleware):
        async def on_receive(self) -> None:
            records: Any = self.msg if isinstance(self.msg, list | tuple) else [self.msg]
            for record in records:
                key = (record.topic, record.partition)
                record.offset = counters[key]
                counters[key] += 1

    return NumberedOffsets


@dataclass
class Harness:
    app: DriplineApp
    edge: KafkaEdge
    intake: Intake
    settings: KafkaSettings
    dead: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    seq: int = 0

    async def send(self, kind: str, contact: str, at: datetime, event_id: str | None = None,
                   tenant: str = TENANT, **data: Any) -> str:
        self.seq += 1
        event_id = event_id or f"evt-{self.seq}"
        body = {"event_id": event_id, "type": kind, "tenant_id": tenant, "contact_id": contact,
                "occurred_at": at.isoformat(), "data": data}
        await self.send_raw(json.dumps(body).encode(), contact)
        return event_id

    async def send_raw(self, value: bytes, key: str = "k") -> None:
        await self.edge.broker.publish(value, self.settings.topic_crm_events,
                                       key=key.encode())


@asynccontextmanager
async def harness(url: str, clock: ManualClock, *,
                  tenants: str | None = None) -> AsyncIterator[Harness]:
    settings = KafkaSettings(kafka_bootstrap_servers="test:9092", kafka_tenants=tenants)
    app = DriplineApp(env=eventsourcing_env(url), clock=clock)
    holder: list[Intake] = []
    edge = build_edge(settings, intake=lambda: holder[0], middlewares=[numbered_offsets()])
    holder.append(Intake(app, edge.publish_dead_letters, tenants=settings.tenants,
                         max_attempts=3, backoff_seconds=0.0))
    h = Harness(app, edge, holder[0], settings)

    @edge.broker.subscriber(settings.topic_dead_letters)
    async def capture(message: KafkaMessage) -> None:
        h.dead.append((message.body, dict(message.headers)))

    try:
        async with TestKafkaBroker(edge.broker):
            yield h
    finally:
        app.close()
