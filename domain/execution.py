"""Executing an enrollment's due steps: everything is checked again at that moment, in the
order exits and suppression, send window, conditions, render; the outcome of each step is
recorded as events on the enrollment.

A step due at once after the one just executed (no delay, inside the sending hours) is
executed right after it on the aggregate in hand, so a chain of immediate steps goes out
together. This module only decides; the caller loads and saves (``domain.app_execution``,
and enrollment itself, whose first step may be due at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.conditions import describe, failed_condition
from domain.contact import Contact
from domain.enrollment import SETTLE, Enrollment
from domain.exits import exit_reason
from domain.messages import render_message
from domain.schedule import due_after, window_zone
from domain.sequence import DripSequence, Revision
from domain.steps import Step
from domain.templates import TemplateRenderError
from domain.windows import zone

_MAX_CHAIN = 1000  # steps one enrollment may execute in one call (a belt and braces)


class StepResult(StrEnum):
    REQUESTED = "requested"
    SKIPPED = "skipped"
    EXITED = "exited"
    COMPLETED = "completed"
    PAUSED = "paused"
    RESCHEDULED = "rescheduled"
    LOST_RACE = "lost_race"


@dataclass(frozen=True)
class StepOutcome:
    enrollment_id: UUID
    result: StepResult
    message_id: str | None = None
    due_at: datetime | None = None
    contact_id: str = ""
    tenant_id: str = ""


def execute_due(e: Enrollment, sequence: DripSequence | None, contact: Contact | None,
                now: datetime) -> list[StepOutcome]:
    """Execute whatever of ``e`` is due at ``now`` (nothing if it is not due)."""
    outcomes: list[StepOutcome] = []
    for _ in range(_MAX_CHAIN):
        due = e.next_scheduled_at
        if e.status != "active" or due is None or due > now:
            break
        result, message_id = _execute_one(e, sequence, contact, now)
        outcomes.append(StepOutcome(e.id, result, message_id, due, e.contact_id, e.tenant_id))
    return outcomes


def _execute_one(e: Enrollment, sequence: DripSequence | None, contact: Contact | None,
                 now: datetime) -> tuple[StepResult, str | None]:
    if sequence is None or sequence.status == "archived":
        e.exit("sequence_archived", now)
        return StepResult.EXITED, None
    if sequence.status != "active":
        e.pause(now, by_sequence=True)  # its sequence paused before reaching it
        return StepResult.PAUSED, None
    plan = sequence.pinned(e.revision)  # the revision it started on, or migrated to
    leave = exit_reason(e, plan, contact)
    if leave:
        e.exit(leave, now)
        return StepResult.EXITED, None
    retry = e.due_retry(now)
    if retry is None and e.settling:
        if e.pending_retry is not None:  # a retry of the last step is still to come
            e.reschedule(e.pending_retry["due_at"] + SETTLE, now)
            return StepResult.RESCHEDULED, None
        e.complete(now)  # the last message's time to fail has passed
        return StepResult.COMPLETED, None
    step = plan.step_at(retry["step_order"] if retry else e.current_step_order)
    if step is None:
        e.complete(now)
        return StepResult.COMPLETED, None
    if contact is not None and contact.is_suppressed(step.message_template.channel):
        e.exit("contact_unsubscribed", now)
        return StepResult.EXITED, None
    tz = contact.timezone if contact else None
    window = plan.window
    if window is not None and not window.allows(now, _zone(window.timezone, tz)):
        later = window.next_allowed(now, tz)  # the contact's zone changed since
        if retry is not None:
            e.reschedule_retry(later, now)
        else:
            e.reschedule(later, now, zone=window.zone_for(tz).key)
        return StepResult.RESCHEDULED, None
    if retry is None:
        failed = failed_condition(step.conditions, contact, now)
        if failed is not None:
            if step.on_condition_fail == "exit":
                e.exit("condition_not_met", now,
                       detail=f"step {step.order}: {describe(failed, contact, observed=True)}")
                return StepResult.EXITED, None
            e.skip_step(step.order, "condition_not_met", now,
                        detail=describe(failed, contact, observed=True), step_id=step.id)
            return _after_skip(e, plan, step, now, tz), None
    return _request(e, plan, step, retry["attempt"] if retry else e.attempt, contact, now,
                    is_retry=retry is not None)


def _request(e: Enrollment, sequence: Revision, step: Step, attempt: int,
             contact: Contact | None, now: datetime, is_retry: bool,
             ) -> tuple[StepResult, str | None]:
    due = (e.pending_retry or {}).get("due_at") if is_retry else e.step_due_at
    try:
        message = render_message(step, contact)
    except TemplateRenderError as error:
        message_id = e.fail_unsent(step_order=step.order, attempt=attempt, error=str(error),
                                   at=now)
        e.exit("error", now, detail=f"step {step.order}: {error}")
        return StepResult.EXITED, message_id
    advance_to: int | None = None
    next_due: datetime | None = None
    nominal: datetime | None = None  # next_due before the send window moved it
    final = False
    if not is_retry:
        following = sequence.step_after(step.order)
        if following is not None:
            advance_to, nominal = following.order, now + following.delay
            next_due = due_after(now, following, sequence, contact.timezone if contact else None)
        else:
            final, next_due = True, now + SETTLE
    elif e.settling and step.order == e.current_step_order:
        final, next_due = True, now + SETTLE  # a retry of the last step: settle again
    message_id = e.execute_step(step_order=step.order, step_id=step.id, attempt=attempt,
                                due_at=due or now, message=message, advance_to=advance_to,
                                next_due_at=next_due, final=final, at=now,
                                nominal_due_at=nominal,
                                zone=window_zone(sequence, contact.timezone if contact else None)
                                if advance_to is not None else None)
    return StepResult.REQUESTED, message_id


def _after_skip(e: Enrollment, sequence: Revision, step: Step, now: datetime,
                tz: str | None) -> StepResult:
    following = sequence.step_after(step.order)
    if following is None:
        e.complete(now)  # nothing was sent, so nothing can fail: done at once
        return StepResult.COMPLETED
    e.advance(following.order, due_after(now, following, sequence, tz), now,
              nominal_due_at=now + following.delay, zone=window_zone(sequence, tz))
    return StepResult.SKIPPED


def _zone(fallback: str | None, contact_tz: str | None) -> ZoneInfo:
    return zone(contact_tz) or zone(fallback) or ZoneInfo("UTC")
