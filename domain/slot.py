"""The EnrollmentSlot: the one place that says which enrollment of a contact in a sequence is
current. Its id is derived from (sequence, contact), so two processes enrolling the same
contact at the same moment both write version 1 (or the same next version) of one stream, and
the store lets exactly one of them commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.codec import Creation, trigger
from domain.ids import slot_id

__all__ = ["EnrollmentSlot", "slot_id"]


class EnrollmentSlot(Aggregate):
    TOPIC = "dripline.EnrollmentSlot"

    class Created(Creation, Aggregate.Created):
        TOPIC = "enrollment_slot.created"
        sequence_id: UUID
        contact_id: str
        enrollment_id: UUID
        at: datetime

        def apply(self, slot: Any) -> None:
            slot.sequence_id, slot.contact_id = self.sequence_id, self.contact_id
            slot.enrollment_id, slot.count = self.enrollment_id, 1

    class Reopened(Aggregate.Event):
        TOPIC = "enrollment_slot.reopened"
        enrollment_id: UUID
        at: datetime

        def apply(self, slot: Any) -> None:
            slot.enrollment_id = self.enrollment_id
            slot.count += 1

    if TYPE_CHECKING:  # set by ``Created.apply``
        sequence_id: UUID
        contact_id: str
        enrollment_id: UUID
        count: int

    @classmethod
    def start(cls, *, sequence_id: UUID, contact_id: str, enrollment_id: UUID,
              at: datetime) -> EnrollmentSlot:
        return cls._create(cls.Created, id=slot_id(sequence_id, contact_id),
                           sequence_id=sequence_id, contact_id=contact_id,
                           enrollment_id=enrollment_id, at=at, timestamp=at)

    def reopen(self, enrollment_id: UUID, at: datetime) -> None:
        trigger(self, self.Reopened, {"enrollment_id": enrollment_id, "at": at})
