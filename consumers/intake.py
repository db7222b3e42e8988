"""The CRM intake: applies batches of ``crm.events`` records exactly once in effect.

Per partition of a fetched batch: records below the database's position for that partition
were applied already (a redelivery) and are dropped; the rest are planned together as one
unit of work, and its events are saved with the partition's new position in one transaction
(``consumers.tracked``). Records that are malformed, or that the plan rejected, are
dead-lettered first, then the batch (with their positions) is committed, so a crash in
between re-sends a dead letter (recognisable by its source headers) but never loses one. If
the batch cannot be planned at all (a failure that is not the event's fault), its records are
applied one by one: ones whose handling fails are retried with backoff a bounded number of
times and then dead-lettered; either way the partition keeps flowing.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError, Tracking

from consumers.dlq import DeadLetter, DeadLetterSink
from consumers.tracked import position, tracking_name
from domain.app_crm import FEEDBACK, CrmOutcome, CrmStatus
from domain.application import DriplineApp
from domain.crm import CrmEvent
from domain.envelope import MalformedEventError, parse_envelope
from domain.errors import DomainError

log = logging.getLogger("dripline.intake")


class Record(Protocol):
    """What the intake reads of an ``aiokafka.ConsumerRecord``."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass
class IntakeStats:
    applied: int = 0  # records whose effects (possibly none: duplicate, ignored) committed
    redelivered: int = 0  # records below the database position, dropped
    dead_lettered: int = 0
    transactions: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    steps: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # by result
    deferred: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # by reason
    # Message lifecycle events (delivered, failed, opened, clicked), by (type, outcome).
    message_events: dict[tuple[str, str], int] = field(
        default_factory=lambda: defaultdict(int))


class Intake:
    def __init__(self, app: DriplineApp, dead_letters: DeadLetterSink, *,
                 tenants: frozenset[str] | None = None, max_attempts: int = 4,
                 backoff_seconds: float = 0.2) -> None:
        self.app = app
        self.dead_letters = dead_letters
        self.tenants = tenants
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.stats = IntakeStats()

    async def handle(self, records: Sequence[Record]) -> None:
        """Apply a fetched batch. Raises only if the database cannot record positions; the
        caller then rewinds the consumer (nothing after the database's position is lost)."""
        partitions: dict[tuple[str, int], list[Record]] = defaultdict(list)
        for record in records:
            partitions[(record.topic, record.partition)].append(record)
        for (topic, partition), part in partitions.items():
            await self._partition(tracking_name(topic, partition),
                                  sorted(part, key=lambda r: r.offset))

    async def _fresh(self, name: str, records: list[Record]) -> list[Record]:
        applied = await asyncio.to_thread(position, self.app, name)
        fresh = [r for r in records if r.offset >= applied]
        self.stats.redelivered += len(records) - len(fresh)
        return fresh

    def _parse(self, record: Record) -> CrmEvent:
        try:
            return parse_envelope(record.value, self.tenants).to_crm_event()
        except DomainError as error:
            raise MalformedEventError("invalid_event", error.message) from None

    async def _partition(self, name: str, records: list[Record]) -> None:
        sent: set[int] = set()  # offsets dead-lettered by this call (not twice on a retry)
        for _ in range(self.max_attempts):
            todo = await self._fresh(name, records)
            if not todo:
                return
            parsed: list[tuple[Record, CrmEvent]] = []
            letters = []
            for record in todo:
                try:
                    parsed.append((record, self._parse(record)))
                except MalformedEventError as bad:
                    letters.append(DeadLetter.of(record, bad.reason, bad.detail))
            try:
                uow, outcomes = await asyncio.to_thread(self.app.crm.plan,
                                                        [e for _, e in parsed])
            except (OperationalError, InterfaceError):
                raise  # the database, not the events: the caller rewinds and waits
            except Exception:  # not an event's fault: find which, one by one
                log.warning("batch at %s could not be planned; one by one", name,
                            exc_info=True)
                break
            letters += [DeadLetter.of(record, "invalid_event", o.error.message,
                                      event_id=event.event_id)
                        for (record, event), o in zip(parsed, outcomes, strict=True)
                        if o.status is CrmStatus.REJECTED and o.error is not None]
            try:
                await self._dead_letter([d for d in letters if d.source_offset not in sent],
                                        sent)
                await asyncio.to_thread(uow.commit, Tracking(name, todo[-1].offset + 1))
            except IntegrityError:  # a concurrent writer got there first: look again
                continue
            finally:
                uow.discard()
            self._count(len(todo), outcomes)
            return
        for record in await self._fresh(name, records):
            await self._one(name, record, sent)

    async def _one(self, name: str, record: Record, sent: set[int]) -> None:
        error: Exception | None = None
        for attempt in range(1, self.max_attempts + 1):
            if not await self._fresh(name, [record]):
                return
            try:
                event = self._parse(record)
                uow, outcomes = await asyncio.to_thread(self.app.crm.plan, [event])
                try:
                    outcome = outcomes[0]
                    if (outcome.status is CrmStatus.REJECTED and outcome.error is not None
                            and record.offset not in sent):
                        await self._dead_letter([DeadLetter.of(
                            record, "invalid_event", outcome.error.message, attempt,
                            event.event_id)], sent)
                    await asyncio.to_thread(uow.commit, Tracking(name, record.offset + 1))
                finally:
                    uow.discard()
            except MalformedEventError as bad:
                await self._give_up(name, record, bad.reason, bad.detail, attempt, sent)
                return
            except IntegrityError as conflict:
                error = conflict  # lost a race (position or aggregate version): look again
                continue
            except (OperationalError, InterfaceError):
                raise  # the database, not the event: the caller rewinds and waits
            except Exception as failure:
                error = failure
                log.warning("event at %s offset %d failed (attempt %d): %r", name,
                            record.offset, attempt, failure)
                await asyncio.sleep(self.backoff_seconds * 2 ** (attempt - 1))
                continue
            self._count(1, [outcome])
            return
        await self._give_up(name, record, "failed", repr(error), self.max_attempts, sent)

    async def _give_up(self, name: str, record: Record, reason: str, detail: str,
                       attempts: int, sent: set[int], event_id: str = "") -> None:
        if record.offset not in sent:
            await self._dead_letter([DeadLetter.of(record, reason, detail, attempts, event_id)],
                                    sent)
        try:
            await asyncio.to_thread(self.app.record_tracked, [],
                                    Tracking(name, record.offset + 1))
        except IntegrityError:
            return  # already past it
        self._count(1, [])

    async def _dead_letter(self, letters: list[DeadLetter], sent: set[int]) -> None:
        if letters:
            await self.dead_letters(letters)
            sent.update(d.source_offset for d in letters)
            self.stats.dead_lettered += len(letters)
            for d in letters:
                log.warning("dead letter from %s:%d@%d: %s %s", d.source_topic,
                            d.source_partition, d.source_offset, d.reason, d.detail)

    def _count(self, records: int, outcomes: list[CrmOutcome]) -> None:
        self.stats.applied += records
        self.stats.transactions += 1
        for outcome in outcomes:
            self.stats.outcomes[outcome.status.value] += 1
            if outcome.event_type in FEEDBACK:
                self.stats.message_events[(outcome.event_type, outcome.status.value)] += 1
            for step in outcome.steps:  # a first step due at once goes out on enrolling
                self.stats.steps[step.result.value] += 1
                if step.reason is not None:
                    self.stats.deferred[step.reason] += 1
