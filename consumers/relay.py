"""The relay: follows the event store's notification log and publishes every message request
to ``dripline.messages`` (key = contact id) and the integration events
(``consumers.integration``) to ``dripline.events``, with ids and the store position in headers
(DESIGN 1, "Sending is an event").

It publishes a batch, waits until the broker has confirmed every record of it, and only then
records the batch's last position. A crash before that re-publishes the unconfirmed batch
(at-least-once; receivers deduplicate by ``message_id`` / ``event_id``), never skips one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.application import Application
from eventsourcing.persistence import (
    InfrastructureFactory,
    IntegrityError,
    Notification,
    TrackingRecorder,
)
from eventsourcing.persistence import Tracking as Position
from eventsourcing.utils import Environment

from consumers.integration import integration_event, needs_created
from domain.enrollment import Enrollment
from domain.messages import message_request
from domain.sequence import DripSequence

log = logging.getLogger("dripline.relay")
RELAY = "relay"  # the relay's row in its tracking table
MESSAGE_ID = "message_id"
EVENT_ID = "event_id"
POSITION = "store_position"
EVENT_TYPE = "event_type"
_SORTED = orjson.OPT_SORT_KEYS


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


class Identities:
    """The ``Created`` event of each aggregate the relay publishes about: most events carry
    only their aggregate's id, and the records need its tenant, sequence and contact. Seen
    ``Created`` events are remembered (a bounded number); others are read from the store,
    many at once."""

    def __init__(self, app: Application[Any], capacity: int = 100_000) -> None:
        self.app = app
        self.capacity = capacity
        self._known: OrderedDict[UUID, Any] = OrderedDict()

    def remember(self, event: Any) -> None:
        self._known[event.originator_id] = event
        while len(self._known) > self.capacity:
            self._known.popitem(last=False)

    def fetch(self, ids: set[UUID]) -> None:
        missing = [i for i in ids if i not in self._known]
        if missing:
            store: Any = self.app.recorder
            for stored in store.read_first(missing).values():
                self.remember(self.app.mapper.to_domain_event(stored))

    def created(self, aggregate_id: UUID) -> Any:
        return self._known.get(aggregate_id)


def out_records(note: Notification, event: Any, created: Any) -> list[OutRecord]:
    """The records one stored event makes: its integration event (if it has one), and the
    message request of an executed step."""
    records: list[OutRecord] = []
    headers = {POSITION: str(note.id)}
    published = integration_event(event, created)
    if published is not None:
        records.append(OutRecord(
            "events", published.key, orjson.dumps(published.body, option=_SORTED),
            {**headers, EVENT_ID: str(published.body["event_id"]),
             EVENT_TYPE: published.type}))
    if isinstance(event, Enrollment.StepExecuted | Enrollment.MessageRequested) and isinstance(
            created, Enrollment.Created):
        request = message_request(enrollment_id=event.originator_id,
                                  tenant_id=created.tenant_id, contact_id=created.contact_id,
                                  sequence_id=created.sequence_id, event=event)
        records.append(OutRecord(
            "messages", str(request["contact_id"]), orjson.dumps(request, option=_SORTED),
            {**headers, MESSAGE_ID: str(request["message_id"]),
             EVENT_ID: f"{event.originator_id}:{event.originator_version}"}))
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
        self.identities = Identities(app)

    def position(self) -> int:
        return self.positions.max_tracking_id(RELAY) or 0

    def _read(self) -> tuple[int, list[OutRecord]]:
        notes = self.app.recorder.select_notifications(self.position() + 1, self.batch_size)
        decoded = [(note, self.app.mapper.to_domain_event(note)) for note in notes]
        for _, event in decoded:
            if isinstance(event, Enrollment.Created | DripSequence.Created):
                self.identities.remember(event)
        self.identities.fetch({i for _, e in decoded if (i := needs_created(e)) is not None})
        records = []
        for note, event in decoded:
            created = (event if isinstance(event, Enrollment.Created | DripSequence.Created)
                       else self.identities.created(event.originator_id))
            records += out_records(note, event, created)
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
