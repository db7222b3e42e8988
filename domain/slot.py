"""The EnrollmentSlot: the one place that says which enrollment of a contact in a sequence is
current. Its id is derived from (sequence, contact), so two processes enrolling the same
contact at the same moment both write version 1 (or the same next version) of one stream, and
the store lets exactly one of them commit.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.ids import NAMESPACE


class EnrollmentSlot(Aggregate):
    TOPIC = "dripline.EnrollmentSlot"

    class Created(Aggregate.Created):
        TOPIC = "enrollment_slot.created"
        sequence_id: UUID
        contact_id: str
        enrollment_id: UUID
        at: datetime

    class Reopened(Aggregate.Event):
        TOPIC = "enrollment_slot.reopened"
        enrollment_id: UUID
        at: datetime

    @staticmethod
    def create_id(sequence_id: UUID, contact_id: str) -> UUID:
        return slot_id(sequence_id, contact_id)

    @event(Created)
    def __init__(self, *, sequence_id: UUID, contact_id: str, enrollment_id: UUID,
                 at: datetime) -> None:
        self.sequence_id = sequence_id
        self.contact_id = contact_id
        self.enrollment_id = enrollment_id
        self.count = 1

    @event(Reopened)
    def reopen(self, enrollment_id: UUID, at: datetime) -> None:
        self.enrollment_id = enrollment_id
        self.count += 1


def slot_id(sequence_id: UUID, contact_id: str) -> UUID:
    return uuid5(NAMESPACE, f"slot/{sequence_id}/{contact_id}")
