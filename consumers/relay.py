"""The relay: follows the event store's notification log and publishes every message request
to ``dripline.messages`` (key = contact id) and every domain event to ``dripline.events``
(key = aggregate id), with ids and the store position in headers (DESIGN 1, "Sending is an
event").

It publishes a batch, waits until the broker has confirmed every record of it, and only then
records the batch's last position. A crash before that re-publishes the unconfirmed batch
(at-least-once; receivers deduplicate by ``message_id`` / ``event_id``), never skips one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import (
    InfrastructureFactory,
    IntegrityError,
    Notification,
    TrackingRecorder,
)
from eventsourcing.persistence import Tracking as Position
from eventsourcing.utils import Environment

from domain.enrollment import Enrollment

log = logging.getLogger("dripline.relay")
RELAY = "relay"  # the relay's row in its tracking table
MESSAGE_ID = "message_id"
EVENT_ID = "event_id"
POSITION = "store_position"
EVENT_TYPE = "event_type"
_ENVELOPE_FIELDS = ("originator_id", "originator_version", "timestamp", "originator_topic")


@dataclass(frozen=True)
class OutRecord:
    topic: str  # "messages" or "events": which of the two out topics
    key: str
    value: bytes
    headers: dict[str, str]


# Sends records without waiting; returns awaitables that finish when the broker confirms.
Send = Callable[[Sequence[OutRecord]], Awaitable[list[Awaitable[Any]]]]


def relay_positions(env: dict[str, str]) -> TrackingRecorder:
    """The relay's own position table (``dripline_relay_tracking`` on PostgreSQL)."""
    factory = InfrastructureFactory.construct(Environment("dripline_relay", env))
    return factory.tracking_recorder()


def out_records(note: Notification, event: Any) -> list[OutRecord]:
    data = {k: v for k, v in vars(event).items() if k not in _ENVELOPE_FIELDS}
    event_id = f"{event.originator_id}:{event.originator_version}"
    headers = {EVENT_ID: event_id, POSITION: str(note.id), EVENT_TYPE: note.topic}
    body = {"event_id": event_id, "type": note.topic, "aggregate_id": str(event.originator_id),
            "version": event.originator_version, "position": note.id, "data": data}
    records = [OutRecord("events", str(event.originator_id),
                         json.dumps(body, default=str, sort_keys=True).encode(), headers)]
    if isinstance(event, Enrollment.MessageRequested):
        request = event.request
        records.append(OutRecord(
            "messages", str(request.get("contact_id", "")),
            json.dumps(request, default=str, sort_keys=True).encode(),
            {**headers, MESSAGE_ID: event.message_id}))
    return records


class Relay:
    def __init__(self, app: Application[Any], positions: TrackingRecorder, send: Send, *,
                 batch_size: int = 500, idle_seconds: float = 0.2) -> None:
        self.app = app
        self.positions = positions
        self.send = send
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.published = 0

    def position(self) -> int:
        return self.positions.max_tracking_id(RELAY) or 0

    def _read(self) -> tuple[int, list[OutRecord]]:
        notes = self.app.recorder.select_notifications(self.position() + 1, self.batch_size)
        records = []
        for note in notes:
            records += out_records(note, self.app.mapper.to_domain_event(note))
        return (notes[-1].id if notes else 0), records

    async def run_once(self) -> int:
        """Publish one batch; returns how many notifications it covered (0: up to date)."""
        last, records = await asyncio.to_thread(self._read)
        if not last:
            return 0
        await asyncio.gather(*await self.send(records))
        try:
            await asyncio.to_thread(self.positions.insert_tracking, Position(RELAY, last))
        except IntegrityError:
            log.warning("another relay recorded position %d first", last)
        self.published += len(records)
        return len(records)

    async def run(self, stop: asyncio.Event) -> None:
        log.info("relay started at position %d", await asyncio.to_thread(self.position))
        while not stop.is_set():
            try:
                busy = await self.run_once() > 0
            except Exception:  # the broker or the database is away: try again shortly
                log.exception("relay batch failed; retrying")
                busy = False
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.idle_seconds)
        log.info("relay stopped")
