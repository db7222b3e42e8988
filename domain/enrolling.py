"""Deciding one enrollment, inside a unit of work: the contact may enter (not deleted, not
unsubscribed from everything, not already in, allowed back by the re-enrollment policy), and
what it becomes (its number, its first due time, and an exit at once when an exit fact
already known happened after it entered: a reply that arrived before its trigger)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain import ids
from domain.assignment import assign, holdout_due
from domain.contact import ALL_CHANNELS, Contact
from domain.enrollment import Enrollment
from domain.errors import (
    AlreadyEnrolledError,
    ContactDeletedError,
    ContactSuppressedError,
    InconsistentStateError,
    ReEnrollmentNotAllowedError,
    SequenceHasNoStepsError,
    SequenceNotActiveError,
)
from domain.exits import exit_reason
from domain.schedule import due_after, window_zone
from domain.sequence import DripSequence
from domain.slot import EnrollmentSlot
from domain.unit_of_work import UnitOfWork


def require_active(sequence: DripSequence) -> DripSequence:
    if sequence.status != "active":
        raise SequenceNotActiveError(
            f"sequence {sequence.id} is {sequence.status}; contacts can only be enrolled "
            "in an active sequence")
    return sequence


def wanted_for(sequence: DripSequence, contact_ref: str) -> list[UUID]:
    """What deciding this enrollment reads first (read many at once before deciding many)."""
    return [ids.contact_id(sequence.tenant_id, contact_ref), ids.slot_id(sequence.id,
                                                                            contact_ref)]


def enroll(uow: UnitOfWork, sequence: DripSequence, contact_ref: str, now: datetime,
           source: str, entered_at: datetime | None = None) -> Enrollment:
    """Add the new enrollment (and its slot) to ``uow``, or raise a named error saying why
    not; nothing is changed when it raises."""
    contact = uow.get(ids.contact_id(sequence.tenant_id, contact_ref), Contact)
    if contact is not None and contact.deleted:
        raise ContactDeletedError(f"contact {contact_ref} was deleted in the CRM")
    if contact is not None and ALL_CHANNELS in contact.unsubscribed:
        raise ContactSuppressedError(f"contact {contact_ref} unsubscribed from every channel")
    holdout, arms = assign(sequence.tenant_id, sequence.id, sequence.current, contact_ref)
    live = sequence.current.journey(arms)  # a path experiment's arm: its own steps
    first = live.first_step()
    if first is None:
        raise SequenceHasNoStepsError(f"sequence {sequence.id} has no steps")
    slot = uow.get(ids.slot_id(sequence.id, contact_ref), EnrollmentSlot)
    number = 1
    if slot is not None:
        previous = uow.get(slot.enrollment_id, Enrollment)
        if previous is None:
            raise InconsistentStateError(
                f"the enrollment slot of contact {contact_ref} in sequence {sequence.id} names "
                f"enrollment {slot.enrollment_id}, which does not exist")
        if previous.is_open:
            raise AlreadyEnrolledError(
                f"contact {contact_ref} is already enrolled in sequence {sequence.id} "
                f"(enrollment {previous.id} is {previous.status})")
        refusal = sequence.reenrollment.refusal(previous.status, previous.ended_at, now)
        if refusal:
            raise ReEnrollmentNotAllowedError(
                f"contact {contact_ref} cannot re-enter: {refusal}")
        number = slot.count + 1
    tz = contact.timezone if contact is not None else None
    enrollment = Enrollment.start(
        id=ids.enrollment_id(sequence.id, contact_ref, number), tenant_id=sequence.tenant_id,
        sequence_id=sequence.id, contact_id=contact_ref, number=number,
        step_order=first.order, source=source, at=now, entered_at=entered_at or now,
        due_at=holdout_due(now, live) if holdout else due_after(now, first, live, tz),
        revision=live.number, holdout=holdout, assignments=arms,
        nominal_due_at=holdout_due(now, live) if holdout else now + first.delay,
        zone=None if holdout else window_zone(live, tz))
    if slot is None:
        uow.add(EnrollmentSlot.start(sequence_id=sequence.id, contact_id=contact_ref,
                                     enrollment_id=enrollment.id, at=now))
    else:
        slot.reopen(enrollment_id=enrollment.id, at=now)
    uow.add(enrollment)
    reason = exit_reason(enrollment, live, contact)
    if reason is not None:
        enrollment.exit(reason, now, detail="the contact left before this enrollment was made")
    return enrollment
