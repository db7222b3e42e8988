"""The one way to write (CONVENTIONS 11): load many aggregates at once, decide in the domain,
then save every new event, the tracking position and the write-side index rows in one
transaction. HTTP commands, the CRM intake and the scheduler all go through it.

A long-running process keeps an ``AggregateCache``: a unit of work takes the aggregates it
needs out of it (so no two threads ever hold one object) and reads from the store only the
events newer than the version it holds. After a successful commit the aggregates go back; after
a failed one, those it changed are dropped (their state includes events that were not
written). A version conflict is never resolved here: the caller starts a new unit of work and
decides again on the facts as they now are.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Tracking

from domain import ids
from domain.codec import EventMapper
from domain.enrollment import Enrollment
from domain.migration import Migration
from domain.sequence import DripSequence
from domain.snapshots import INTERVAL, Snapshot, can_snapshot
from domain.store import (
    EnrollmentRow,
    EventStore,
    GoalRow,
    GoalView,
    MessageRow,
    TriggerRow,
    TriggerView,
    WriteBatch,
)

log = logging.getLogger("dripline.store")
A = TypeVar("A", bound=Aggregate)
_KINDS = {"Contact": "contact", "Enrollment": "enrollment", "DripSequence": "sequence",
          "EnrollmentSlot": "slot"}


class LoadStats:
    """Stored events decoded to rebuild aggregates, by kind (a snapshot counts as one): what
    a load costs, whatever the machine's speed."""

    def __init__(self) -> None:
        # Every kind from the start, at 0: a kind never replayed (the cache held it) is a
        # fact worth showing, not a missing series.
        self.replayed: Counter[str] = Counter(dict.fromkeys(sorted(set(_KINDS.values())), 0))
        self._lock = threading.Lock()

    def count(self, kind: str, events: int) -> None:
        with self._lock:
            self.replayed[kind] += events


class AggregateCache:
    def __init__(self, capacity: int = 20_000) -> None:
        self.capacity = capacity
        self._items: OrderedDict[UUID, Aggregate] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, ids: Iterable[UUID]) -> dict[UUID, Aggregate]:
        with self._lock:
            return {i: self._items.pop(i) for i in ids if i in self._items}

    def put(self, aggregates: Iterable[Aggregate]) -> None:
        with self._lock:
            for aggregate in aggregates:
                self._items[aggregate.id] = aggregate
                self._items.move_to_end(aggregate.id)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def drop(self, ids: Iterable[UUID]) -> None:
        with self._lock:
            for i in ids:
                self._items.pop(i, None)


@dataclass(frozen=True)
class Committed:
    positions: list[int]
    events: list[Any]

    @property
    def position(self) -> int:
        """The last position written (0 when nothing was)."""
        return max(self.positions, default=0)


def index_row(e: Enrollment) -> EnrollmentRow | None:
    if not e.is_open:
        return None
    return EnrollmentRow(e.id, e.tenant_id, e.sequence_id, e.contact_id, e.status,
                         e.next_scheduled_at if e.status == "active" else None)


def trigger_row(s: DripSequence) -> TriggerRow | None:
    if s.status != "active" or s.trigger_type == "manual":
        return None
    return TriggerRow(s.id, s.tenant_id, s.trigger_type)


def goal_rows(s: DripSequence) -> list[GoalRow]:
    """Whatever its status: an ended enrollment of an archived sequence still converts
    within its window."""
    if s.status == "deleted":
        return []
    return [GoalRow(s.id, s.tenant_id, kind) for kind in sorted(s.goal_types())]


class UnitOfWork:
    def __init__(self, store: EventStore, mapper: EventMapper, *,
                 cache: AggregateCache | None = None, stats: LoadStats | None = None,
                 on_commit: Sequence[Callable[[], None]] = ()) -> None:
        self.store, self.mapper, self.cache, self.stats = store, mapper, cache, stats
        self.on_commit = on_commit
        self._held: dict[UUID, Aggregate | None] = {}
        self._expect: dict[UUID, int] = {}
        self._epochs: dict[str, int] = {}
        self.seen: list[tuple[UUID, str]] = []
        # Called once, before the events are collected: a decision that gathers changes
        # across a batch (throttle slots) writes them here, in the same transaction.
        self.before_commit: list[Callable[[], None]] = []
        self.closed = False

    # --- reading ------------------------------------------------------------------------------

    def load(self, ids: Iterable[UUID]) -> dict[UUID, Aggregate | None]:
        """The aggregates with these ids (None where there is none), read in a few queries
        whatever their number; each is read once per unit of work."""
        asked = list(dict.fromkeys(ids))
        wanted = [i for i in asked if i not in self._held]
        if wanted:
            self._read(wanted)
        return {i: self._held[i] for i in asked}

    def get(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        found = self.load([aggregate_id])[aggregate_id]
        return found if isinstance(found, kind) else None

    def _read(self, wanted: list[UUID]) -> None:
        base: dict[UUID, Aggregate | None] = dict(self.cache.take(wanted) if self.cache else {})
        cold = [i for i in wanted if i not in base]
        if cold:
            for aggregate_id, stored in self.store.read_snapshots(cold).items():
                snapshot: Snapshot = self.mapper.to_domain_event(stored)
                base[aggregate_id] = snapshot.mutate(None)
                self._count(base[aggregate_id], 1)
        after = {i: (a.version if (a := base.get(i)) is not None else 0) for i in wanted}
        streams = self.store.read_streams(after)
        for aggregate_id in wanted:
            aggregate = base.get(aggregate_id)
            stored_events = streams.get(aggregate_id, ())
            for stored in stored_events:
                aggregate = self.mapper.to_domain_event(stored).mutate(aggregate)
            if stored_events:
                self._count(aggregate, len(stored_events))
            self._held[aggregate_id] = aggregate

    def _count(self, aggregate: Aggregate | None, events: int) -> None:
        if self.stats is not None and aggregate is not None:
            self.stats.count(_KINDS.get(type(aggregate).__name__, "other"), events)

    # --- what is written ------------------------------------------------------------------------

    def add(self, *aggregates: Aggregate) -> None:
        """New aggregates to save (those loaded here are saved when they changed)."""
        for aggregate in aggregates:
            self._held[aggregate.id] = aggregate

    def expect(self, *aggregates: Aggregate) -> None:
        """The decision depends on these as they are: the write fails if any changed."""
        for aggregate in aggregates:
            self._expect.setdefault(aggregate.id, aggregate.version)

    def expect_triggers(self, view: TriggerView | GoalView) -> None:
        for tenant, epoch in view.epochs.items():
            self._epochs.setdefault(tenant, epoch)

    def mark_seen(self, contact_stream: UUID, event_id: str) -> None:
        self.seen.append((contact_stream, event_id))

    def commit(self, tracking: Tracking | None = None) -> Committed:
        if self.closed:
            raise RuntimeError("this unit of work was committed already; start a new one")
        for prepare in self.before_commit:
            prepare()
        self.closed = True
        changed = [a for a in self._held.values() if a is not None and a.pending_events]
        pending = [(a, a.collect_events()) for a in changed]
        events = [e for _, collected in pending for e in collected]
        batch = WriteBatch(events=[self.mapper.to_stored_event(e) for e in events],
                           tracking=tracking, seen=self.seen,
                           expect_epochs=dict(self._epochs))
        changed_ids = {a.id for a in changed}
        batch.expect_versions = {i: v for i, v in self._expect.items() if i not in changed_ids}
        for aggregate, collected in pending:
            _index(batch, aggregate, collected)
        batch.message_requests = [
            MessageRow(a.tenant_id, a.contact_id, e.channel, e.at,
                       ids.message_id(a.id, e.step_order, e.attempt))
            for a, collected in pending if isinstance(a, Enrollment)
            for e in collected if isinstance(e, Enrollment.StepExecuted)]
        if batch.empty:
            self._release(changed_ids)
            return Committed([], [])
        try:
            positions = self.store.write(batch)
        except BaseException:
            self._release(changed_ids, failed=True)
            raise
        self._release(changed_ids)
        self._snapshot(pending)
        if events:
            for listener in list(self.on_commit):
                listener()
        return Committed(positions, events)

    def discard(self) -> None:
        """Give up: nothing is written; aggregates this unit changed are not cached."""
        if not self.closed:
            self.closed = True
            changed = {i for i, a in self._held.items() if a is not None and a.pending_events}
            self._release(changed, failed=True)

    def _release(self, changed: set[UUID], failed: bool = False) -> None:
        if self.cache is None:
            return
        keep = [a for i, a in self._held.items()
                if a is not None and not (failed and i in changed)]
        self.cache.put(keep)

    def _snapshot(self, pending: list[tuple[Aggregate, Any]]) -> None:
        due = [a for a, collected in pending if can_snapshot(a)
               and a.version // INTERVAL > (a.version - len(collected)) // INTERVAL]
        if not due:
            return
        try:
            self.store.write_snapshots([self.mapper.to_stored_event(Snapshot.take(a))
                                        for a in due])
        except Exception:  # a snapshot is a cache: the next load reads the events instead
            log.warning("snapshot not written", exc_info=True)


# A sequence's A/B looks and conclusions change neither its triggers nor its goal: they
# leave the indexes and the tenant's trigger epoch alone (in-flight intake is not redone).
UNINDEXED = (DripSequence.ExperimentEvaluated, DripSequence.ExperimentConcluded)


def _index(batch: WriteBatch, aggregate: Aggregate, collected: Sequence[Any]) -> None:
    if isinstance(aggregate, DripSequence) and all(isinstance(e, UNINDEXED)
                                                   for e in collected):
        return
    if isinstance(aggregate, Enrollment):
        row = index_row(aggregate)
        if row is None:
            batch.ended_enrollments.append(aggregate.id)
        else:
            batch.open_enrollments.append(row)
    elif isinstance(aggregate, DripSequence):
        trigger = trigger_row(aggregate)
        if trigger is None:
            batch.untriggered.append(aggregate.id)
        else:
            batch.triggers.append(trigger)
        batch.regoaled.append(aggregate.id)
        batch.goals += goal_rows(aggregate)
        batch.bump_epochs.add(aggregate.tenant_id)
    elif isinstance(aggregate, Migration):
        if aggregate.done:
            batch.finished_migrations.append(aggregate.id)
        else:
            batch.running_migrations.append((aggregate.id, aggregate.sequence_id))


def loaded_of(found: Mapping[UUID, Aggregate | None], kind: type[A]) -> dict[UUID, A]:
    return {i: a for i, a in found.items() if isinstance(a, kind)}
