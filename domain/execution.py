"""Executing an enrollment's due steps: everything is checked again at that moment, in the
order exits and suppression, send window, conditions, frequency cap, throttle, render (cap
and throttle where a ``SendGate`` is given: ``domain.send_gate``); the outcome of each step
is recorded as events on the enrollment.

A step due at once after the one just executed (no delay, inside the sending hours) is
executed right after it on the aggregate in hand, so a chain of immediate steps goes out
together. This module only decides; the caller loads and saves (``domain.app_execution``,
and enrollment itself, whose first step may be due at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.caps import Block, CapPolicy
from domain.conditions import describe, failed_condition
from domain.contact import Contact
from domain.enrollment import SETTLE, SETTLING, Enrollment, original_due
from domain.exits import exit_reason
from domain.messages import render_message
from domain.schedule import due_after, in_window, window_zone
from domain.send_gate import SendGate, minute_of
from domain.sequence import DripSequence, Revision
from domain.steps import Step
from domain.templates import TemplateRenderError
from domain.variants import hold_out, with_variant
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
    # Why a step was deferred (RESCHEDULED): send_window, frequency_cap or throttle (None
    # for a settling wait, which defers no step).
    reason: str | None = None


def execute_due(e: Enrollment, sequence: DripSequence | None, contact: Contact | None,
                now: datetime, gate: SendGate | None = None) -> list[StepOutcome]:
    """Execute whatever of ``e`` is due at ``now`` (nothing if it is not due)."""
    outcomes: list[StepOutcome] = []
    for _ in range(_MAX_CHAIN):
        due = e.next_scheduled_at
        if e.status != "active" or due is None or due > now:
            break
        result, message_id = _execute_one(e, sequence, contact, now, gate)
        outcomes.append(StepOutcome(e.id, result, message_id, due, e.contact_id, e.tenant_id,
                                    _deferral(e) if result is StepResult.RESCHEDULED else None))
        if gate is not None and e.id in gate.capped:
            break  # a capped step ends a chain of immediate steps
    return outcomes


def _deferral(e: Enrollment) -> str | None:
    last = e.pending_events[-1] if e.pending_events else None
    if isinstance(last, Enrollment.Rescheduled) and last.reason != SETTLING:
        return last.reason
    return None  # a settling wait defers no step


def _execute_one(e: Enrollment, sequence: DripSequence | None, contact: Contact | None,
                 now: datetime, gate: SendGate | None = None) -> tuple[StepResult, str | None]:
    if sequence is None or sequence.status == "archived":
        e.exit("sequence_archived", now)
        return StepResult.EXITED, None
    if sequence.status != "active":
        e.pause(now, by_sequence=True)  # its sequence paused before reaching it
        return StepResult.PAUSED, None
    # The revision it started on, or migrated to (in a path experiment, its arm's steps).
    plan = sequence.pinned(e.revision).journey(e.assignments)
    leave = exit_reason(e, plan, contact)
    if leave:
        e.exit(leave, now)
        return StepResult.EXITED, None
    retry = e.due_retry(now)
    if retry is None and e.settling:
        if e.pending_retry is not None:  # a retry of the last step is still to come
            e.reschedule(e.pending_retry["due_at"] + SETTLE, now, reason=SETTLING)
            return StepResult.RESCHEDULED, None
        e.complete(now)  # the last message's time to fail has passed
        return StepResult.COMPLETED, None
    step = plan.step_at(retry["step_order"] if retry else e.current_step_order)
    if step is None:
        e.complete(now)
        return StepResult.COMPLETED, None
    if e.holdout:  # A/B testing's control group: nothing is sent
        hold_out(e, step, now)
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
    if gate is not None:
        held = _gated(e, plan, step, tz, now, retry is not None, gate)
        if held is not None:
            return held, None
    result, message_id = _request(e, plan, step, retry["attempt"] if retry else e.attempt,
                                  contact, now, is_retry=retry is not None)
    if gate is not None and result is StepResult.REQUESTED and message_id is not None:
        _count(e, plan, step, message_id, now, retry is not None, gate)
    return result, message_id


def _gated(e: Enrollment, plan: Revision, step: Step, tz: str | None, now: datetime,
           is_retry: bool, gate: SendGate) -> StepResult | None:
    """The frequency cap, then the throttle: None lets the step's message go now; otherwise
    the step was deferred or skipped, and why is recorded."""
    settings = gate.settings(e.tenant_id)
    if settings is None:
        return None
    channel = step.message_template.channel
    policy = settings.cap
    if policy.rules and not is_retry and not plan.frequency_cap_exempt:
        blocks = policy.blocks(gate.sends(e), channel, now,
                               _zone(settings.timezone, tz))
        if blocks:
            gate.capped.add(e.id)
            return _capped(e, plan, step, policy, blocks, tz, now)
    per_minute = settings.throttles.per_minute.get(channel)
    if per_minute is None:
        return None
    slot = getattr(e, "throttle_slot", None)
    if slot is not None and minute_of(slot) == minute_of(now):
        return None  # the slot reserved for it; a slot whose minute passed is taken again
    when, minute = gate.reserve(e, channel, per_minute, now)
    if when <= now:
        return None
    # No minute (the horizon is full): no slot is held, the step reserves when due.
    detail = {"bucket": minute.isoformat() if minute else None, "channel": channel,
              "limit": per_minute, "step_order": step.order}
    if is_retry:
        e.reschedule_retry(when, now, reason="throttle", detail=detail)
    else:
        e.reschedule(when, now, reason="throttle", detail=detail)
    return StepResult.RESCHEDULED


def _capped(e: Enrollment, plan: Revision, step: Step, policy: CapPolicy, blocks: list[Block],
            tz: str | None, now: datetime) -> StepResult:
    """Defer to when every refusing rule allows a send again (then the send window), unless
    that is past the step's original due time plus ``max_defer_hours``; else skip."""
    binding = max(blocks, key=lambda b: (b.frees_at, b.rule_index))
    if policy.on_cap == "defer":
        later = in_window(binding.frees_at, plan, tz)
        deadline = (original_due(e) or now) + timedelta(hours=policy.max_defer_hours)
        if later <= deadline:
            e.reschedule(later, now, reason="frequency_cap", detail=binding.detail(step.order))
            return StepResult.RESCHEDULED
    e.skip_step(step.order, "frequency_capped", now, step_id=step.id,
                detail=f"rule {binding.rule_index}: {binding.count} of {binding.limit}")
    return _after_skip(e, plan, step, now, tz)


def _count(e: Enrollment, plan: Revision, step: Step, message_id: str, now: datetime,
           is_retry: bool, gate: SendGate) -> None:
    """A first attempt of a sequence that is not exempt counts in the contact's ledger, for
    tenants with cap rules (enabling a cap is not retroactive)."""
    settings = gate.settings(e.tenant_id)
    if (settings is not None and settings.cap.rules and not is_retry
            and not plan.frequency_cap_exempt):
        gate.count(e, message_id, step.message_template.channel, now)


def _request(e: Enrollment, sequence: Revision, step: Step, attempt: int,
             contact: Contact | None, now: datetime, is_retry: bool,
             ) -> tuple[StepResult, str | None]:
    due = (e.pending_retry or {}).get("due_at") if is_retry else e.step_due_at
    step, variant = with_variant(e, sequence, step)
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
                                nominal_due_at=nominal, variant=variant,
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
