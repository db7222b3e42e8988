"""Reading the event store directly, so integration tests check what was stored rather than
what a command returned."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Notification

from domain import ids
from domain.application import DriplineApp
from domain.enrollment import Enrollment
from domain.slot import EnrollmentSlot, slot_id

ENROLLED = "sequence.contact_enrolled"  # Enrollment.Created
SLOT_CREATED = "enrollment_slot.created"
SLOT_REOPENED = "enrollment_slot.reopened"


def max_notification_id(app: DriplineApp) -> int:
    """The newest position in the notification log (0 when nothing was ever stored)."""
    return app.recorder.max_notification_id() or 0


def notifications(app: DriplineApp, topics: tuple[str, ...] = ()) -> list[Notification]:
    """Every stored event (of ``topics``, if given), oldest first."""
    found: list[Notification] = []
    start: int | None = None
    while True:
        page = app.recorder.select_notifications(start, 1000, topics=topics,
                                                 inclusive_of_start=False)
        found += page
        if len(page) < 1000:
            return found
        start = page[-1].id


def decoded(app: DriplineApp, topics: tuple[str, ...]) -> list[Any]:
    return [app.mapper.to_domain_event(n) for n in notifications(app, topics)]


def stream_versions(app: DriplineApp, originator_id: UUID) -> list[int]:
    return [e.originator_version for e in app.recorder.select_events(originator_id)]


def enrollment_numbers(app: DriplineApp, sequence_id: UUID, contact: str) -> list[int]:
    """Which of the contact's deterministic enrollment ids (1st, 2nd, ...) have a stream."""
    numbers = []
    for number in range(1, 6):
        if stream_versions(app, ids.enrollment_id(sequence_id, contact, number)):
            numbers.append(number)
    return numbers


def load(app: DriplineApp, aggregate_id: UUID) -> Aggregate:
    found: Aggregate = app.repository.get(aggregate_id)
    return found


def slot_of(app: DriplineApp, sequence_id: UUID, contact: str) -> EnrollmentSlot | None:
    if not stream_versions(app, slot_id(sequence_id, contact)):
        return None
    slot = load(app, slot_id(sequence_id, contact))
    assert isinstance(slot, EnrollmentSlot)
    return slot


@dataclass
class Census:
    """Every enrollment of one sequence, as the store holds it."""

    enrollments: dict[str, list[int]] = field(default_factory=dict)  # contact -> numbers
    slot_counts: dict[str, int] = field(default_factory=dict)  # contact -> enrollments made
    orphans: list[str] = field(default_factory=list)  # a half of an enrollment without the other

    @property
    def total(self) -> int:
        return sum(len(numbers) for numbers in self.enrollments.values())

    def per_contact(self) -> Counter[int]:
        """How many contacts have 1, 2, ... enrollments."""
        return Counter(len(numbers) for numbers in self.enrollments.values())


def census(app: DriplineApp, sequence_id: UUID) -> Census:
    """Pair every Enrollment stream of the sequence with its slot, from the notification log.

    A whole enrollment is: an ``Enrollment`` stream whose id is the deterministic id of its
    (sequence, contact, number), and a slot whose creation/reopenings name exactly the
    enrollments that exist, in order."""
    result = Census()
    made: dict[UUID, tuple[str, int]] = {}
    for created in decoded(app, (ENROLLED,)):
        if created.sequence_id != sequence_id:
            continue
        assert created.originator_id == ids.enrollment_id(
            sequence_id, created.contact_id, created.number)
        made[created.originator_id] = (created.contact_id, created.number)
        result.enrollments.setdefault(created.contact_id, []).append(created.number)
    pointed: set[UUID] = set()
    slot_events = decoded(app, (SLOT_CREATED, SLOT_REOPENED))
    contact_of_slot = {e.originator_id: e.contact_id for e in slot_events
                       if isinstance(e, EnrollmentSlot.Created) and e.sequence_id == sequence_id}
    for event in slot_events:
        contact = contact_of_slot.get(event.originator_id)
        if contact is None:
            continue
        result.slot_counts[contact] = event.originator_version
        pointed.add(event.enrollment_id)
        if event.enrollment_id not in made:
            result.orphans.append(f"slot of {contact} names missing {event.enrollment_id}")
    for enrollment_id, (contact, number) in made.items():
        if enrollment_id not in pointed:
            result.orphans.append(f"enrollment {number} of {contact} has no slot event")
    for contact, numbers in result.enrollments.items():
        if sorted(numbers) != list(range(1, len(numbers) + 1)):
            result.orphans.append(f"{contact} has enrollment numbers {sorted(numbers)}")
        if result.slot_counts.get(contact) != len(numbers):
            result.orphans.append(f"{contact}: slot counts {result.slot_counts.get(contact)}")
    return result


def open_enrollments(app: DriplineApp, sequence_id: UUID, contact: str) -> list[Enrollment]:
    found = []
    for number in enrollment_numbers(app, sequence_id, contact):
        enrollment = load(app, ids.enrollment_id(sequence_id, contact, number))
        assert isinstance(enrollment, Enrollment)
        if enrollment.is_open:
            found.append(enrollment)
    return found
