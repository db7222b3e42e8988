"""Recording CRM events, a batch at a time, and what they imply: contact facts, goals
reached (``domain.conversions``), enrollment by trigger, exits on reply, unsubscribe and
deletion, delivery feedback and retries.

One batch (a Kafka poll, or one HTTP request) is one unit of work. Everything it reads is read
up front in a few queries, whatever the batch's size: which event ids were applied already,
the contacts, the active trigger sequences of its tenants (whose epoch the write then expects
unchanged, so a sequence activated meanwhile makes the batch decide again instead of missing
it), the sequences with a goal of the batch's event types (the goal index, under the same
epochs), the enrollment slots and current enrollments those sequences need, the open
enrollments of contacts with an exit event, and the enrollments that feedback names. Then
each event is applied in order; an event that is invalid in itself is *rejected* (its
outcome says why) without stopping the others.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from uuid import UUID

from eventsourcing.persistence import Tracking

from domain import conversions, ids
from domain.app_base import Core
from domain.app_enrollments import enroll_and_start
from domain.contact import Contact
from domain.crm import (
    TRIGGER_EVENTS,
    CrmEvent,
    custom_event_name,
    flag,
    one_of,
    profile_changes,
    text_field,
    url_field,
)
from domain.enrollment import Enrollment
from domain.errors import DomainError, InvalidInputError
from domain.execution import StepOutcome
from domain.exits import happened_since
from domain.goals import GOAL_EVENT_TYPES
from domain.schedule import in_window
from domain.sequence import DripSequence
from domain.slot import EnrollmentSlot
from domain.store import MessageRow
from domain.triggers import trigger_matches
from domain.unit_of_work import Committed, UnitOfWork

MAX_SEND_ATTEMPTS = 3
RETRY_BACKOFF = (timedelta(minutes=1), timedelta(minutes=10))  # after attempt 1, 2
FEEDBACK = ("message_delivered", "message_failed", "message_opened", "message_clicked")
_EXIT_ALL = {"contact_unsubscribed": "contact_unsubscribed", "contact_deleted": "contact_deleted"}
_EXITS = (*_EXIT_ALL, "contact_replied")
# Attributed to the message they answer (CAPABILITIES §2): kind recorded on the enrollment.
_ATTRIBUTED = {"contact_replied": "replied", "contact_unsubscribed": "unsubscribed"}


class CrmStatus(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # its event id was applied before
    IGNORED = "ignored"  # an unknown type, or a contact the CRM deleted
    REJECTED = "rejected"  # invalid in itself: ``error`` says why


@dataclass
class CrmOutcome:
    """What one CRM event did."""

    status: CrmStatus = CrmStatus.APPLIED
    enrolled: list[UUID] = field(default_factory=list)
    exited: list[UUID] = field(default_factory=list)
    converted: list[UUID] = field(default_factory=list)  # enrollments whose goal it met
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (sequence id, why)
    steps: list[StepOutcome] = field(default_factory=list)  # steps executed at once
    error: DomainError | None = None
    event_type: str = ""  # the CRM event's type (for counting by type)


def contact_reply_is_ooo(e: CrmEvent) -> bool:
    return bool(e.data.get("out_of_office", False))


def _before(moment: datetime, window: timedelta) -> datetime:
    """``moment - window``, or the earliest time there is (a CRM time near year 1)."""
    try:
        return moment - window
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)


def _attributable(e: CrmEvent) -> bool:
    """A reply (never an out-of-office one) or an unsubscribe."""
    return e.type in _ATTRIBUTED and not (e.type == "contact_replied"
                                          and contact_reply_is_ooo(e))


def _stream(e: CrmEvent) -> UUID:
    return ids.contact_id(e.tenant_id, e.contact_id)


class CrmCommands:
    def __init__(self, core: Core) -> None:
        self.core = core

    def record_crm_event(self, crm_event: CrmEvent) -> CrmOutcome:
        """One event; a rejected one raises its error (HTTP answers it with its status)."""
        outcome = self.record_batch([crm_event])[0][0]
        if outcome.error is not None:
            raise outcome.error
        return outcome

    def record_batch(self, events: Sequence[CrmEvent], tracking: Tracking | None = None,
                     ) -> tuple[list[CrmOutcome], Committed]:
        """Apply the events in order, in one transaction with ``tracking`` (the Kafka
        position they came from), deciding again on the new facts after a conflict."""
        return self.core.decide(lambda uow: _Batch(self.core, uow).apply(events),
                                attempts=5, tracking=tracking, what="this batch of CRM events",
                                hands_out=False)

    def plan(self, events: Sequence[CrmEvent]) -> tuple[UnitOfWork, list[CrmOutcome]]:
        """Decide the batch without writing it: the caller acts on the outcomes (publishes
        the rejected ones as dead letters, say) and then commits the unit of work, or starts
        again with a new plan if the commit meets a conflict."""
        uow = self.core.unit()
        try:
            return uow, _Batch(self.core, uow).apply(events)
        except BaseException:
            uow.discard()
            raise


class _Batch:
    def __init__(self, core: Core, uow: UnitOfWork) -> None:
        self.core, self.uow, self.now = core, uow, core.clock()
        self.seen: set[tuple[UUID, str]] = set()
        self.triggers: dict[tuple[str, str], list[UUID]] = defaultdict(list)
        self.goals: dict[tuple[str, str], list[UUID]] = defaultdict(list)  # (tenant, type)
        self.open: dict[tuple[str, str], list[UUID]] = defaultdict(list)
        self.recent: dict[tuple[str, str], list[MessageRow]] = defaultdict(list)

    def apply(self, events: Sequence[CrmEvent]) -> list[CrmOutcome]:
        known = [e for e in events if e.known]
        self._prefetch(known)
        return [self._one(e) for e in events]

    # --- reading everything up front ----------------------------------------------------------

    def _prefetch(self, events: list[CrmEvent]) -> None:
        uow, store = self.uow, self.core.store
        self.seen = store.seen({(_stream(e), e.event_id) for e in events})
        facts = [e for e in events if e.type not in FEEDBACK]
        uow.load({_stream(e) for e in facts})
        pairs = self._prefetch_triggers([e for e in facts if e.type in TRIGGER_EVENTS])
        pairs |= self._prefetch_goals([e for e in facts if e.type in GOAL_EVENT_TYPES])
        # The sequences, then the contacts' slots in them, then the enrollments these name.
        self.uow.load({sequence_id for sequence_id, _ in pairs})
        slots = self.uow.load({ids.slot_id(s, contact) for s, contact in pairs})
        self.uow.load({s.enrollment_id for s in slots.values()
                       if isinstance(s, EnrollmentSlot)})
        self._prefetch_exits([e for e in facts if e.type in _EXITS])
        self._prefetch_attribution([e for e in facts if _attributable(e)])
        feedback = {i for e in events if e.type in FEEDBACK
                    if (i := ids.enrollment_of_message(str(e.data.get("message_id", ""))))}
        found = uow.load(feedback)
        uow.load({key for e in found.values() if isinstance(e, Enrollment)
                  for key in (e.sequence_id, ids.contact_id(e.tenant_id, e.contact_id))})

    def _prefetch_triggers(self, events: list[CrmEvent]) -> set[tuple[UUID, str]]:
        """The (sequence, contact) pairs the trigger events may enroll."""
        if not events:
            return set()
        view = self.core.store.trigger_view({e.tenant_id for e in events})
        self.uow.expect_triggers(view)
        for tenant, rows in view.sequences.items():
            for row in rows:
                self.triggers[(tenant, row.trigger_type)].append(row.sequence_id)
        return {(sequence_id, e.contact_id) for e in events
                for sequence_id in self.triggers[(e.tenant_id, e.type)]}

    def _prefetch_goals(self, events: list[CrmEvent]) -> set[tuple[UUID, str]]:
        """The (sequence, contact) pairs the events may convert in: from the goal index,
        whose epochs the write expects unchanged (a goal published meanwhile makes the
        batch decide again)."""
        if not events:
            return set()
        view = self.core.store.goal_view({e.tenant_id for e in events})
        self.uow.expect_triggers(view)
        for tenant, rows in view.sequences.items():
            for row in rows:
                self.goals[(tenant, row.event_type)].append(row.sequence_id)
        return {(sequence_id, e.contact_id) for e in events
                for sequence_id in self.goals.get((e.tenant_id, e.type), ())}

    def _prefetch_exits(self, events: list[CrmEvent]) -> None:
        by_tenant: dict[str, set[str]] = defaultdict(set)
        for e in events:
            by_tenant[e.tenant_id].add(e.contact_id)
        rows = [row for tenant, contacts in by_tenant.items()
                for row in self.core.store.open_enrollments_of_contacts(tenant, contacts)]
        for row in rows:
            self.open[(row.tenant_id, row.contact_id)].append(row.enrollment_id)
        self.uow.load({row.enrollment_id for row in rows}
                      | {row.sequence_id for row in rows})

    def _prefetch_attribution(self, events: list[CrmEvent]) -> None:
        """The messages a reply or unsubscribe may answer: the one it names, and the
        contact's requests within the attribution window before it."""
        if not events:
            return
        window = self.core.settings.reply_attribution
        by_tenant: dict[str, list[CrmEvent]] = defaultdict(list)
        for e in events:
            by_tenant[e.tenant_id].append(e)
        for tenant, found in by_tenant.items():
            since = _before(min(e.occurred_at for e in found), window)
            for row in self.core.store.recent_messages(
                    tenant, {e.contact_id for e in found}, since):
                self.recent[(tenant, row.contact_id)].append(row)
        named = {str(e.data.get("message_id") or "") for e in events}
        latest = {row.message_id for rows in self.recent.values() for row in rows}
        self.uow.load({i for m in named | latest if (i := ids.enrollment_of_message(m))})

    # --- one event -----------------------------------------------------------------------------

    def _one(self, e: CrmEvent) -> CrmOutcome:
        outcome = self._decide_one(e)
        outcome.event_type = e.type
        return outcome

    def _decide_one(self, e: CrmEvent) -> CrmOutcome:
        if not e.known:
            return CrmOutcome(CrmStatus.IGNORED)
        key = (_stream(e), e.event_id)
        if key in self.seen:
            return CrmOutcome(CrmStatus.DUPLICATE)
        try:
            if e.occurred_at > self.now + self.core.settings.max_future:
                raise InvalidInputError(
                    "occurred_at", f"lies in the future ({e.occurred_at.isoformat()}); an "
                    f"event may be at most {self.core.settings.max_future} ahead of Dripline's "
                    "clock")
            outcome = self._feedback(e) if e.type in FEEDBACK else self._fact(e)
        except DomainError as error:
            return CrmOutcome(CrmStatus.REJECTED, error=error)
        if outcome.status is CrmStatus.APPLIED or outcome.status is CrmStatus.DUPLICATE:
            self.seen.add(key)
            self.uow.mark_seen(*key)
        return outcome

    def _fact(self, e: CrmEvent) -> CrmOutcome:
        record = _fact_of(e, self.now)  # validates first: a rejected event changes nothing
        contact = self.uow.get(_stream(e), Contact)
        if contact is None:
            contact = Contact.start(id=_stream(e), tenant_id=e.tenant_id,
                                    contact_id=e.contact_id, at=self.now)
            self.uow.add(contact)
        if contact.deleted:
            return CrmOutcome(CrmStatus.IGNORED)  # the CRM deleted this contact: nothing applies
        record(contact)
        outcome = CrmOutcome()
        # Goals first: an enrollment this event makes never counts it as its goal.
        sequences = self.goals.get((e.tenant_id, e.type), ())
        if sequences:
            outcome.converted, exited = conversions.convert(self.uow, sequences, e, self.now)
            outcome.exited += exited
        if e.type in TRIGGER_EVENTS:
            self._enroll(contact, e, outcome)
        elif e.type in _EXIT_ALL:
            self._exit(e, _EXIT_ALL[e.type], outcome)
        elif e.type == "contact_replied" and not contact_reply_is_ooo(e):
            self._exit(e, "contact_replied", outcome)
        if _attributable(e):
            self._attribute(e)
        return outcome

    def _attribute(self, e: CrmEvent) -> None:
        """Attribute the reply or unsubscribe to the message it names, if that is one of
        the tenant's; else to the contact's latest message request (on the event's channel,
        if it names one) within the attribution window before it; else to none."""
        kind = _ATTRIBUTED[e.type]
        named = text_field(e.data, "message_id")
        found = self._message(e.tenant_id, named)
        by = "message_id"
        if found is None:
            channel = text_field(e.data, "channel")
            since = _before(e.occurred_at, self.core.settings.reply_attribution)
            candidates = [r for r in self.recent.get((e.tenant_id, e.contact_id), ())
                          if since <= r.requested_at <= e.occurred_at
                          and (not channel or r.channel == channel)]
            if candidates:
                last = max(candidates, key=lambda r: (r.requested_at, r.message_id))
                named, found, by = last.message_id, self._message(e.tenant_id,
                                                                  last.message_id), "last_message"
        if found is not None:
            found.attribute(kind, named, occurred_at=e.occurred_at, by=by, at=self.now)

    def _message(self, tenant_id: str, message_id: str) -> Enrollment | None:
        """The enrollment that requested ``message_id``, if it is one of the tenant's."""
        enrollment_id = ids.enrollment_of_message(message_id) if message_id else None
        found = self.uow.get(enrollment_id, Enrollment) if enrollment_id else None
        if found is None or found.tenant_id != tenant_id or message_id not in found.messages:
            return None
        return found

    def _enroll(self, contact: Contact, e: CrmEvent, outcome: CrmOutcome) -> None:
        for sequence_id in self.triggers.get((e.tenant_id, e.type), ()):
            sequence = self.uow.get(sequence_id, DripSequence)
            if not (sequence is not None and sequence.tenant_id == e.tenant_id
                    and sequence.status == "active" and sequence.trigger_type == e.type
                    and trigger_matches(sequence.trigger_data, e.type, e.data)):
                continue
            self.uow.expect(sequence)
            try:
                enrollment, steps = enroll_and_start(self.uow, sequence, e.contact_id,
                                                     self.now, "trigger", e.occurred_at)
            except DomainError as error:
                outcome.skipped.append((str(sequence_id), error.message))
                continue
            outcome.enrolled.append(enrollment.id)
            outcome.steps += steps
            if enrollment.status == "exited":
                outcome.exited.append(enrollment.id)
            else:
                self.open[(e.tenant_id, e.contact_id)].append(enrollment.id)

    def _exit(self, e: CrmEvent, reason: str, outcome: CrmOutcome) -> None:
        for enrollment_id in self.open.get((e.tenant_id, e.contact_id), ()):
            enrollment = self.uow.get(enrollment_id, Enrollment)
            if enrollment is None or not enrollment.is_open:
                continue
            # Deletion ends every enrollment; otherwise only an exit that happened after the
            # contact entered counts (CRM time with CRM time: ``domain.exits``).
            if reason != "contact_deleted" and not happened_since(e.occurred_at,
                                                                  enrollment.entered_at):
                continue
            if reason == "contact_replied":
                sequence = self.uow.get(enrollment.sequence_id, DripSequence)
                if sequence is None or not sequence.pinned(enrollment.revision).exit_on_reply:
                    continue
            enrollment.exit(reason, self.now)
            outcome.exited.append(enrollment.id)

    # --- delivery feedback ----------------------------------------------------------------------

    def _feedback(self, e: CrmEvent) -> CrmOutcome:
        message_id = text_field(e.data, "message_id", required=True)
        enrollment_id = ids.enrollment_of_message(message_id)
        found = self.uow.get(enrollment_id, Enrollment) if enrollment_id else None
        if not (found is not None and found.tenant_id == e.tenant_id
                and message_id in found.messages):
            raise InvalidInputError("data.message_id", f"no message {message_id} of this tenant")
        enrollment = found
        if e.type in ("message_opened", "message_clicked"):
            was = enrollment.messages[message_id]["status"]
            if e.type == "message_opened":
                changed = enrollment.record_open(message_id, machine=flag(e.data, "machine"),
                                                 occurred_at=e.occurred_at, at=self.now)
            else:
                changed = enrollment.record_click(message_id, url=url_field(e.data),
                                                  bot=flag(e.data, "bot"),
                                                  occurred_at=e.occurred_at, at=self.now)
            if changed and was == "requested":
                self._delivered(enrollment, message_id)  # implied by the open or click
        elif e.type == "message_delivered":
            changed = enrollment.record_delivery(message_id, self.now)
            if changed:
                self._delivered(enrollment, message_id)
        else:
            attempt = enrollment.messages[message_id]["attempt"]
            permanent = bool(e.data.get("permanent", False))
            # A message of a revision the enrollment left (a migration) is never retried:
            # its step is not in the revision it follows now; nor does its failure end it.
            stale = enrollment.sent_before_migration(message_id)
            retry = not permanent and attempt < MAX_SEND_ATTEMPTS and not stale
            retry_at = (self._retry_time(enrollment, self.now + RETRY_BACKOFF[attempt - 1])
                        if retry else None)
            changed = enrollment.record_failure(
                message_id=message_id, error=str(e.data.get("error") or "unknown error"),
                permanent=permanent, at=self.now, retry_at=retry_at)
            if changed and not retry and not stale and enrollment.is_open:
                enrollment.exit("error", self.now, detail=f"message {message_id} failed")
        if not changed:
            return CrmOutcome(CrmStatus.DUPLICATE)
        return CrmOutcome(exited=[enrollment.id] if enrollment.status == "exited" else [])

    def _delivered(self, enrollment: Enrollment, message_id: str) -> None:
        if enrollment.status == "active" and enrollment.is_last_message(message_id):
            enrollment.complete(self.now)  # the last message arrived: nothing can fail

    def _retry_time(self, enrollment: Enrollment, earliest: datetime) -> datetime:
        """A retry waits its backoff and, like every send, the sequence's send window."""
        sequence = self.uow.get(enrollment.sequence_id, DripSequence)
        contact = self.uow.get(ids.contact_id(enrollment.tenant_id, enrollment.contact_id),
                               Contact)
        revision = sequence.pinned(enrollment.revision) if sequence is not None else None
        return in_window(earliest, revision, contact.timezone if contact else None)


def _fact_of(e: CrmEvent, now: datetime) -> Callable[[Contact], None]:
    """The fact event a CRM event maps to, its data validated; applied by calling it."""
    d, eid, occurred = e.data, e.event_id, e.occurred_at
    if e.type in ("tag_added", "tag_removed"):
        one_of(d, "tag_id", "tag_name")
        tag_id, tag_name = text_field(d, "tag_id"), text_field(d, "tag_name")
        if e.type == "tag_added":
            return lambda c: c.add_tag(eid, occurred, now, tag_id=tag_id, tag_name=tag_name)
        return lambda c: c.remove_tag(eid, occurred, now, tag_id=tag_id, tag_name=tag_name)
    if e.type == "list_joined":
        list_id, name = text_field(d, "list_id", required=True), text_field(d, "list_name")
        return lambda c: c.join_list(eid, occurred, now, list_id=list_id, list_name=name)
    if e.type == "form_submit":
        fields = d.get("fields") or {}
        if not isinstance(fields, dict):
            raise InvalidInputError("data.fields", "must be an object")
        form_id, name = text_field(d, "form_id", required=True), text_field(d, "form_name")
        return lambda c: c.submit_form(eid, occurred, now, form_id=form_id, form_name=name,
                                       fields=fields)
    if e.type in ("pipeline_entered", "pipeline_status_changed"):
        pipeline_id = text_field(d, "pipeline_id", required=True)
        status, entered = text_field(d, "status"), e.type == "pipeline_entered"
        return lambda c: c.change_pipeline_status(eid, occurred, now, pipeline_id=pipeline_id,
                                                  status=status, entered=entered)
    if e.type == "contact_updated":
        changes = profile_changes(d)
        return lambda c: c.update_profile(eid, occurred, now, changes=changes)
    if e.type == "contact_replied":
        channel, message_id = text_field(d, "channel"), text_field(d, "message_id")
        ooo = contact_reply_is_ooo(e)
        return lambda c: c.reply(eid, occurred, now, channel=channel, message_id=message_id,
                                 out_of_office=ooo)
    if e.type == "contact_unsubscribed":
        channel = text_field(d, "channel")
        text_field(d, "message_id")  # checked before anything changes (attribution reads it)
        return lambda c: c.unsubscribe(eid, occurred, now, channel=channel)
    if e.type == "custom_event":
        name = custom_event_name(d)
        return lambda c: c.custom_event(eid, occurred, now, name=name)
    return lambda c: c.delete(eid, occurred, now)  # contact_deleted: the last known type
