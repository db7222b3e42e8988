"""Bringing a store written by Dripline 0.1 up to date, once (``dripline upgrade``).

0.1 derived contact and enrollment-slot stream ids by joining their parts with ``/``, which
two tenants could make collide (``domain.ids``); it kept each contact's applied CRM event ids
inside the contact; and it had no write-side tables (``projections.storage.tables``). The
upgrade reads the log once and:

1. copies each contact and each slot stream to its unambiguous id (the same events, the same
   versions), and retires the old contact stream (``Contact.Retired``: read models forget
   it); streams already copied by an interrupted run are left as they are;
2. records every CRM event id applied to a contact in the applied-ids table;
3. builds the write-side indexes: the open enrollments with their due times, the trigger
   sequences, the tenants' trigger epochs;
4. marks the store as current (``store_format``), which every role checks at start.

Enrollment and sequence ids do not change (message ids keep naming their enrollments). The
read models are rebuilt afterwards (their shapes changed too). Every step can run again: a
run that stopped half-way is finished by the next.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.persistence import StoredEvent

from domain import ids
from domain.contact import Contact
from domain.enrollment import Enrollment
from domain.sequence import DripSequence
from domain.slot import EnrollmentSlot
from domain.store import EventStore, WriteBatch
from domain.unit_of_work import goal_rows, index_row, trigger_row
from projections.storage import tables

_PAGE = 1000


class StoreUpgradeNeededError(RuntimeError):
    """The store was written by Dripline 0.1: ``dripline upgrade`` must run first."""


def check_format(store: Any) -> None:
    if store.meta(tables.FORMAT_KEY) != tables.FORMAT:
        raise StoreUpgradeNeededError(
            "this store was written by Dripline 0.1; run `dripline upgrade` once (with "
            "every other Dripline process stopped) to bring it up to date")


def legacy_contact_id(tenant_id: str, contact_id: str) -> UUID:
    return uuid5(ids.NAMESPACE, f"contact/{tenant_id}/{contact_id}")


def legacy_slot_id(sequence_id: UUID, contact_id: str) -> UUID:
    return uuid5(ids.NAMESPACE, f"slot/{sequence_id}/{contact_id}")


@dataclass
class Census:
    """What the log holds, by stream."""

    contacts: dict[UUID, tuple[str, str]] = field(default_factory=dict)  # (tenant, contact)
    facts: dict[UUID, list[str]] = field(default_factory=dict)  # contact -> CRM event ids
    retired: set[UUID] = field(default_factory=set)
    slots: dict[UUID, tuple[UUID, str]] = field(default_factory=dict)  # (sequence, contact)
    enrollments: list[UUID] = field(default_factory=list)
    sequences: list[UUID] = field(default_factory=list)


@dataclass
class Report:
    already_current: bool = False
    contacts_moved: int = 0
    slots_moved: int = 0
    event_ids: int = 0
    open_enrollments: int = 0
    trigger_sequences: int = 0


def upgrade(app: Any, say: Callable[[str], None] = lambda _: None) -> Report:
    """Upgrade the store of ``app`` (a ``DriplineApp`` built without the format check)."""
    store: EventStore = app.store
    if app.recorder.meta(tables.FORMAT_KEY) == tables.FORMAT:
        return Report(already_current=True)
    census = _census(app)
    say(f"read the log: {len(census.contacts)} contacts, {len(census.slots)} slots, "
        f"{len(census.enrollments)} enrollments, {len(census.sequences)} sequences")
    report = Report()
    report.contacts_moved = _move(app, {old: ids.contact_id(*key) for old, key
                                        in census.contacts.items()
                                        if old not in census.retired}, retire=True)
    report.slots_moved = _move(app, {old: ids.slot_id(*key)
                                     for old, key in census.slots.items()}, retire=False)
    say(f"moved {report.contacts_moved} contact and {report.slots_moved} slot streams")
    report.event_ids = _applied_ids(store, census)
    report.open_enrollments, report.trigger_sequences = _indexes(app, census)
    say(f"recorded {report.event_ids} applied event ids; indexed "
        f"{report.open_enrollments} open enrollments and {report.trigger_sequences} "
        "trigger sequences")
    app.recorder.set_meta(tables.FORMAT_KEY, tables.FORMAT)
    return report


def _census(app: Any) -> Census:
    census = Census()
    start = 1
    while True:
        page = app.recorder.select_notifications(start, _PAGE)
        for note in page:
            event = app.mapper.to_domain_event(note)
            key = event.originator_id
            if isinstance(event, Contact.Created):
                census.contacts[key] = (event.tenant_id, event.contact_id)
            elif isinstance(event, Contact.Fact):
                census.facts.setdefault(key, []).append(event.event_id)
            elif isinstance(event, Contact.Retired):
                census.retired.add(key)
            elif isinstance(event, EnrollmentSlot.Created):
                census.slots[key] = (event.sequence_id, event.contact_id)
            elif isinstance(event, Enrollment.Created):
                census.enrollments.append(key)
            elif isinstance(event, DripSequence.Created):
                census.sequences.append(key)
        if len(page) < _PAGE:
            return census
        start = page[-1].id + 1


def _move(app: Any, moves: dict[UUID, UUID], *, retire: bool) -> int:
    """Copy each stream to its new id (unless it is there already); retire the old ones."""
    store: EventStore = app.store
    moved = 0
    todo = {old: new for old, new in moves.items() if old != new}
    for chunk in _chunks(list(todo.items()), 200):
        present = store.read_first([new for _, new in chunk])
        streams = store.read_streams({old: 0 for old, _ in chunk})
        batch = WriteBatch()
        for old, new in chunk:
            stream = streams.get(old, [])
            if new not in present:
                batch.events += [StoredEvent(originator_id=new,
                                             originator_version=e.originator_version,
                                             topic=e.topic, state=e.state) for e in stream]
                moved += 1
            if retire and stream:
                last = stream[-1]
                retired = Contact.Retired(originator_id=old,  # type: ignore[call-arg]
                                          originator_version=last.originator_version + 1,
                                          timestamp=app.clock(), moved_to=new, at=app.clock())
                batch.events.append(app.mapper.to_stored_event(retired))
        if batch.events:
            store.write(batch)
    return moved


def _applied_ids(store: EventStore, census: Census) -> int:
    keys = [(ids.contact_id(*census.contacts[old]), event_id)
            for old, event_ids in census.facts.items() if old in census.contacts
            for event_id in dict.fromkeys(event_ids)]
    written = 0
    for chunk in _chunks(keys, 1000):
        known = store.seen(chunk)
        fresh = [k for k in chunk if k not in known]
        if fresh:
            store.write(WriteBatch(seen=fresh))
            written += len(fresh)
    return written


def _indexes(app: Any, census: Census) -> tuple[int, int]:
    store: EventStore = app.store
    open_count = 0
    for chunk in _chunks(census.enrollments, 500):
        found = app.core.reader().load(chunk)
        rows = [row for e in found.values() if isinstance(e, Enrollment)
                if (row := index_row(e)) is not None]
        if rows:
            store.write(WriteBatch(open_enrollments=rows))
            open_count += len(rows)
    triggers = 0
    for chunk in _chunks(census.sequences, 500):
        found = app.core.reader().load(chunk)
        sequences = [s for s in found.values() if isinstance(s, DripSequence)]
        triggering = [t for s in sequences if (t := trigger_row(s)) is not None]
        store.write(WriteBatch(triggers=triggering,
                               goals=[g for s in sequences for g in goal_rows(s)],
                               bump_epochs={s.tenant_id for s in sequences}))
        triggers += len(triggering)
    return open_count, triggers


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
