"""Which enrollments a goal event converts, and how (CAPABILITIES §3 rules 2-6).

A CRM event is matched against the goals before it can enroll anyone, so an enrollment made
by that very event never counts it. For each sequence with a goal of the event's type (the
write-side goal index), the contact's current enrollment there (its slot: the open one, else
the latest ended) converts when:

- the revision it follows has a goal the event meets (type, and every ``match`` path);
- it has not converted yet (one conversion per enrollment);
- the event happened at or after it entered (CRM time against CRM time, whole seconds, as
  for exits: ``domain.exits``);
- it is open, or it ended (completed, or exited other than ``goal_reached`` and
  ``contact_deleted``) no longer than the goal's attribution window before the event.

Each converted enrollment is credited to its last message requested at or before the event
(last touch; none: no step). Of those one event converts across the contact's sequences,
exactly one is *exclusive*: the one whose credited message was requested last (one without
a message ranks below any with one); ties go to the later enrollment (enrolled_at, then
id). An open enrollment whose goal says ``exit_on_goal`` then exits ``goal_reached`` at
once, wherever it waits (mid-delay, paused, with a retry pending).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain import ids
from domain.crm import CrmEvent
from domain.enrollment import Enrollment
from domain.exits import happened_since
from domain.goals import Goal
from domain.sequence import DripSequence
from domain.slot import EnrollmentSlot
from domain.unit_of_work import UnitOfWork

NOT_AFTER = ("goal_reached", "contact_deleted")  # exits that end any chance to convert


@dataclass(frozen=True)
class Conversion:
    enrollment: Enrollment
    goal: Goal
    revision: int
    message_id: str | None  # the last touch
    touched_at: datetime | None  # when that message was requested

    def rank(self) -> tuple[bool, datetime, datetime, str]:
        """Orders the conversions of one event: the greatest is the exclusive one."""
        e = self.enrollment
        return (self.touched_at is not None, self.touched_at or e.enrolled_at, e.enrolled_at,
                str(e.id))


def eligible(e: Enrollment, goal: Goal, occurred_at: datetime) -> bool:
    if e.converted_at is not None or not happened_since(occurred_at, e.entered_at):
        return False
    if e.is_open:
        return True
    if e.status == "exited" and e.exit_reason in NOT_AFTER:
        return False
    ended = e.ended_at
    return ended is not None and occurred_at <= ended + goal.window


def last_touch(e: Enrollment, occurred_at: datetime) -> tuple[str, datetime] | None:
    """The message requested last at or before ``occurred_at`` (whole seconds), and when."""
    sent = [(m["requested_at"], m["step_order"], m["attempt"], message_id)
            for message_id, m in e.messages.items()
            if m.get("requested_at") is not None
            and happened_since(occurred_at, m["requested_at"])]
    if not sent:
        return None
    at, _, _, message_id = max(sent)
    return message_id, at


def candidates(uow: UnitOfWork, sequence_ids: Iterable[UUID], e: CrmEvent) -> list[Conversion]:
    found: list[Conversion] = []
    for sequence_id in sequence_ids:
        sequence = uow.get(sequence_id, DripSequence)
        if sequence is None or sequence.tenant_id != e.tenant_id:
            continue
        slot = uow.get(ids.slot_id(sequence_id, e.contact_id), EnrollmentSlot)
        enrollment = uow.get(slot.enrollment_id, Enrollment) if slot is not None else None
        if slot is None or enrollment is None:
            continue
        uow.expect(slot)  # a re-enrollment meanwhile: decide again on the new enrollment
        goal = sequence.pinned(enrollment.revision).goal_rule
        if goal is None or not goal.matches(e.type, e.data):
            continue
        if not eligible(enrollment, goal, e.occurred_at):
            continue
        touch = last_touch(enrollment, e.occurred_at)
        found.append(Conversion(enrollment, goal, enrollment.revision,
                                touch[0] if touch else None, touch[1] if touch else None))
    return found


def convert(uow: UnitOfWork, sequence_ids: Iterable[UUID], e: CrmEvent,
            now: datetime) -> tuple[list[UUID], list[UUID]]:
    """Record the event's conversions (and the exits they call for): the enrollments
    converted, and those of them that exited."""
    found = candidates(uow, sequence_ids, e)
    if not found:
        return [], []
    exclusive = max(found, key=Conversion.rank).enrollment.id
    exited: list[UUID] = []
    for c in found:
        enrollment = c.enrollment
        enrollment.reach_goal(event_id=e.event_id, event_type=e.type,
                              occurred_at=e.occurred_at, message_id=c.message_id,
                              exclusive=enrollment.id == exclusive, revision=c.revision,
                              at=now)
        if enrollment.is_open and c.goal.exit_on_goal:
            enrollment.exit("goal_reached", now)
            exited.append(enrollment.id)
    return [c.enrollment.id for c in found], exited
