"""Executing due steps: everything is checked again at send time, and the outcome of each
step is recorded as events on the enrollment. Saving decides races: if two schedulers
execute the same enrollment, both write the same next version and only one commits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.persistence import IntegrityError

from domain import ids
from domain.app_crm import CrmCommands
from domain.conditions import describe, failed_condition
from domain.contact import Contact
from domain.crm import happened_since
from domain.enrollment import Enrollment
from domain.messages import build_request
from domain.schedule import due_after
from domain.sequence import DripSequence
from domain.steps import Step
from domain.templates import TemplateRenderError
from domain.windows import zone


@dataclass(frozen=True)
class StepOutcome:
    enrollment_id: UUID
    result: str  # requested | skipped | exited | completed | paused | rescheduled | lost_race
    message_id: str | None = None
    due_at: datetime | None = None
    contact_id: str = ""
    tenant_id: str = ""


_MAX_CHAIN = 1000  # steps one enrollment may execute in one call


class _Cache:
    """Sequences and contacts loaded once per batch."""

    def __init__(self, app: ExecutionCommands) -> None:
        self.app = app
        self.sequences: dict[UUID, DripSequence | None] = {}
        self.contacts: dict[UUID, Contact | None] = {}

    def sequence(self, sequence_id: UUID) -> DripSequence | None:
        if sequence_id not in self.sequences:
            found = self.app._find(sequence_id)
            self.sequences[sequence_id] = found if isinstance(found, DripSequence) else None
        return self.sequences[sequence_id]

    def contact(self, enrollment: Enrollment) -> Contact | None:
        key = ids.contact_id(enrollment.tenant_id, enrollment.contact_id)
        if key not in self.contacts:
            found = self.app._find(key)
            self.contacts[key] = found if isinstance(found, Contact) else None
        return self.contacts[key]


class ExecutionCommands(CrmCommands):
    def execute_due(self, enrollment_ids: Iterable[UUID]) -> list[StepOutcome]:
        """Execute every given enrollment whose step is due now; the rest are left alone (the
        due list may lag the store). A step whose successor is due at once (no delay, inside
        the sending hours) is followed by that successor on the aggregate in hand, so a chain
        of immediate steps goes out together instead of one step per scan. All outcomes are
        saved in one transaction."""
        now = self.clock()
        cache = _Cache(self)
        # One batched read for the enrollments, one for their contacts (the sequences are
        # few and cached): per-aggregate round trips dominated a batch on PostgreSQL.
        loaded = self._load_many(list(dict.fromkeys(enrollment_ids)))
        enrollments = [e for e in loaded.values() if isinstance(e, Enrollment)]
        contact_ids = list({ids.contact_id(e.tenant_id, e.contact_id) for e in enrollments})
        for key, found in self._load_many(contact_ids).items():
            cache.contacts[key] = found if isinstance(found, Contact) else None
        done: list[tuple[Enrollment, list[StepOutcome]]] = []
        for enrollment in enrollments:
            outcomes: list[StepOutcome] = []
            # Each pass executes one step (or ends the enrollment), and a step's order only
            # grows, so a chain is bounded by the sequence; the cap is a belt and braces.
            for _ in range(_MAX_CHAIN):
                due = enrollment.next_scheduled_at
                if enrollment.status != "active" or due is None or due > now:
                    break
                result, message_id = self._execute_one(enrollment, now, cache)
                outcomes.append(StepOutcome(enrollment.id, result, message_id, due,
                                            enrollment.contact_id, enrollment.tenant_id))
            if outcomes:
                done.append((enrollment, outcomes))
        return self._save_outcomes(done)

    def _save_outcomes(self, done: list[tuple[Enrollment, list[StepOutcome]]]
                       ) -> list[StepOutcome]:
        # Take each enrollment's new events out first: a save collects (and so removes) the
        # pending events of every aggregate it is given, even when it then fails, and the
        # one-by-one retry below must still have them to write.
        pending = [(enrollment.collect_events(), outcomes) for enrollment, outcomes in done]
        try:
            self._put([e for events, _ in pending for e in events])
            return [outcome for _, outcomes in done for outcome in outcomes]
        except IntegrityError:
            pass
        # Someone else (another scheduler, a reply, an operator) wrote one of these first.
        # Save one by one: theirs stands, ours is dropped and looked at again next scan.
        saved: list[StepOutcome] = []
        for events, outcomes in pending:
            try:
                self._put(events)
                saved += outcomes
            except IntegrityError:
                first = outcomes[0]
                saved.append(StepOutcome(first.enrollment_id, "lost_race",
                                         contact_id=first.contact_id,
                                         tenant_id=first.tenant_id))
        return saved

    def _execute_one(self, e: Enrollment, now: datetime,
                     cache: _Cache) -> tuple[str, str | None]:
        sequence = cache.sequence(e.sequence_id)
        if sequence is None or sequence.status == "archived":
            e.exit("sequence_archived", now)
            return "exited", None
        if sequence.status != "active":
            e.pause(now, by_sequence=True)  # its sequence paused before reaching it
            return "paused", None
        contact = cache.contact(e)
        leave = _exit_reason(e, sequence, contact)
        if leave:
            e.exit(leave, now)
            return "exited", None
        retry = e.pending_retry if e.pending_retry and e.pending_retry["due_at"] <= now else None
        step = sequence.step_at(retry["step_order"] if retry else e.current_step_order)
        if step is None:
            e.complete(now)
            return "completed", None
        tz = contact.timezone if contact else None
        if contact is not None and contact.is_suppressed(step.message_template.channel):
            e.exit("contact_unsubscribed", now)
            return "exited", None
        if retry is None:
            window = sequence.window
            if window is not None and not window.allows(now, _zone(window.timezone, tz)):
                e.reschedule(window.next_allowed(now, tz), now)  # the contact's zone changed
                return "rescheduled", None
            failed = failed_condition(step.conditions, contact, now)
            if failed is not None:
                if step.on_condition_fail == "exit":
                    e.exit("condition_not_met", now, detail=describe(failed))
                    return "exited", None
                e.skip_step(step.order, "condition_not_met", now, detail=describe(failed))
                return self._advance(e, sequence, step, now, tz, "skipped"), None
        return self._request(e, sequence, step, retry["attempt"] if retry else e.attempt,
                             contact, now, is_retry=retry is not None)

    def _request(self, e: Enrollment, sequence: DripSequence, step: Step, attempt: int,
                 contact: Contact | None, now: datetime, is_retry: bool) -> tuple[str, str]:
        message_id = ids.message_id(e.id, step.order, attempt)
        due = e.next_scheduled_at or now
        try:
            request = build_request(e, step, attempt, message_id, contact, due, now)
        except TemplateRenderError as error:
            e.fail_unsent(step_order=step.order, attempt=attempt, message_id=message_id,
                          error=str(error), at=now)
            e.exit("error", now, detail=f"step {step.order}: {error}")
            return "exited", message_id
        e.request_message(step_order=step.order, attempt=attempt, message_id=message_id,
                          request=request, at=now)
        if is_retry:
            return "requested", message_id
        tz = contact.timezone if contact else None
        self._advance(e, sequence, step, now, tz, "requested")
        return "requested", message_id

    @staticmethod
    def _advance(e: Enrollment, sequence: DripSequence, step: Step, now: datetime,
                 tz: str | None, result: str) -> str:
        following = sequence.step_after(step.order)
        if following is None:
            e.complete(now)
            return "completed" if result == "skipped" else result
        e.advance(following.order, due_after(now, following, sequence, tz), now)
        return result


def _exit_reason(e: Enrollment, sequence: DripSequence, contact: Contact | None) -> str | None:
    """Whatever may have changed since the step was scheduled, checked again now."""
    if contact is None:
        return None
    if contact.deleted:
        return "contact_deleted"
    # DESIGN 3.1: an unsubscribe (from any channel) exits every enrollment open at the time;
    # one from before this enrollment only suppresses its channel (checked per step).
    if "all" in contact.unsubscribed or (
            contact.last_unsubscribed_at is not None
            and happened_since(contact.last_unsubscribed_at, e.enrolled_at)):
        return "contact_unsubscribed"
    if (sequence.exit_on_reply and contact.last_reply_at is not None
            and happened_since(contact.last_reply_at, e.enrolled_at)):
        return "contact_replied"
    return None


def _zone(fallback: str | None, contact_tz: str | None) -> ZoneInfo:
    return zone(contact_tz) or zone(fallback) or ZoneInfo("UTC")
