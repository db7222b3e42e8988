"""Recording CRM events on the contact mirror, and what they imply: auto-enrollment by
trigger, exit on reply, exit everywhere on unsubscribe or deletion, delivery feedback."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain import ids
from domain.app_lifecycle import LifecycleCommands
from domain.contact import Contact
from domain.crm import (
    TRIGGER_EVENTS,
    CrmEvent,
    happened_since,
    one_of,
    profile_changes,
    text_field,
)
from domain.enrollment import Enrollment
from domain.errors import DomainError, InvalidInputError
from domain.schedule import in_window
from domain.sequence import DripSequence
from domain.triggers import trigger_matches

MAX_SEND_ATTEMPTS = 3
RETRY_BACKOFF = (timedelta(minutes=1), timedelta(minutes=10))  # after attempt 1, 2

_EXIT_ALL = {"contact_unsubscribed": "contact_unsubscribed", "contact_deleted": "contact_deleted"}


@dataclass
class CrmOutcome:
    """What one CRM event did. ``aggregates`` are saved together, in one transaction."""

    status: str = "applied"  # applied | duplicate | ignored
    aggregates: list[Aggregate] = field(default_factory=list)
    enrolled: list[UUID] = field(default_factory=list)
    exited: list[UUID] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


class CrmCommands(LifecycleCommands):
    def record_crm_event(self, crm_event: CrmEvent) -> CrmOutcome:
        outcome = self.plan_crm_event(crm_event)
        if outcome.aggregates:
            self._save(*outcome.aggregates)
        return outcome

    def plan_crm_event(self, crm_event: CrmEvent) -> CrmOutcome:
        """Work out every change one CRM event causes, without saving (the Kafka intake saves
        them with its tracking position in the same transaction)."""
        if not crm_event.known:
            return CrmOutcome(status="ignored")
        now = self.clock()
        if crm_event.type in ("message_delivered", "message_failed"):
            return self._plan_feedback(crm_event, now)
        contact_uuid = ids.contact_id(crm_event.tenant_id, crm_event.contact_id)
        contact = self._find(contact_uuid)
        if not isinstance(contact, Contact):
            contact = Contact(tenant_id=crm_event.tenant_id, contact_id=crm_event.contact_id,
                              at=now, id=contact_uuid)
        if crm_event.event_id in contact.seen_event_ids:
            return CrmOutcome(status="duplicate")
        if contact.deleted:
            return CrmOutcome(status="ignored")  # the CRM deleted this contact: nothing applies
        self._record_fact(contact, crm_event, now)
        outcome = CrmOutcome(aggregates=[contact])
        if crm_event.type in TRIGGER_EVENTS:
            self._plan_auto_enrollment(contact, crm_event, now, outcome)
        elif crm_event.type in _EXIT_ALL:
            self._plan_exits(crm_event, _EXIT_ALL[crm_event.type], now, outcome, None)
        elif crm_event.type == "contact_replied" and not contact_reply_is_ooo(crm_event):
            self._plan_exits(crm_event, "contact_replied", now, outcome, crm_event.occurred_at)
        return outcome

    # --- contact facts ------------------------------------------------------------------------

    @staticmethod
    def _record_fact(contact: Contact, e: CrmEvent, now: datetime) -> None:
        d, eid, occurred = e.data, e.event_id, e.occurred_at
        if e.type in ("tag_added", "tag_removed"):
            one_of(d, "tag_id", "tag_name")
            tag = {"tag_id": text_field(d, "tag_id"), "tag_name": text_field(d, "tag_name")}
            change = contact.add_tag if e.type == "tag_added" else contact.remove_tag
            change(eid, occurred, now, **tag)
        elif e.type == "list_joined":
            contact.join_list(eid, occurred, now, list_id=text_field(d, "list_id", required=True),
                              list_name=text_field(d, "list_name"))
        elif e.type == "form_submit":
            fields = d.get("fields") or {}
            if not isinstance(fields, dict):
                raise InvalidInputError("data.fields", "must be an object")
            contact.submit_form(eid, occurred, now, form_id=text_field(d, "form_id", required=True),
                                form_name=text_field(d, "form_name"), fields=fields)
        elif e.type in ("pipeline_entered", "pipeline_status_changed"):
            contact.change_pipeline_status(
                eid, occurred, now, pipeline_id=text_field(d, "pipeline_id", required=True),
                status=text_field(d, "status"), entered=e.type == "pipeline_entered")
        elif e.type == "contact_updated":
            contact.update_profile(eid, occurred, now, changes=profile_changes(d))
        elif e.type == "contact_replied":
            contact.reply(eid, occurred, now, channel=text_field(d, "channel"),
                          message_id=text_field(d, "message_id"),
                          out_of_office=contact_reply_is_ooo(e))
        elif e.type == "contact_unsubscribed":
            contact.unsubscribe(eid, occurred, now, channel=text_field(d, "channel"))
        elif e.type == "contact_deleted":
            contact.delete(eid, occurred, now)

    # --- implied enrollments and exits ---------------------------------------------------------

    def _plan_auto_enrollment(self, contact: Contact, e: CrmEvent, now: datetime,
                              outcome: CrmOutcome) -> None:
        for sequence_id in self.lookups.active_sequences_for_trigger(e.tenant_id, e.type):
            sequence = self._find(sequence_id)
            if not (isinstance(sequence, DripSequence) and sequence.tenant_id == e.tenant_id
                    and sequence.status == "active" and sequence.trigger_type == e.type
                    and trigger_matches(sequence.trigger_data, e.type, e.data)):
                continue
            try:
                planned = self._plan_enrollment(sequence, e.contact_id, now, "trigger", contact)
            except DomainError as error:
                outcome.skipped.append((str(sequence_id), error.message))
                continue
            outcome.aggregates += planned
            outcome.enrolled += [a.id for a in planned if isinstance(a, Enrollment)]

    def _plan_exits(self, e: CrmEvent, reason: str, now: datetime, outcome: CrmOutcome,
                    replied_at: datetime | None) -> None:
        sequences: dict[UUID, DripSequence | None] = {}
        for enrollment_id in self.lookups.open_enrollments_of_contact(e.tenant_id, e.contact_id):
            enrollment = self._find(enrollment_id)
            if not isinstance(enrollment, Enrollment) or not enrollment.is_open:
                continue
            if replied_at is not None:
                if enrollment.sequence_id not in sequences:
                    found = self._find(enrollment.sequence_id)
                    sequences[enrollment.sequence_id] = (
                        found if isinstance(found, DripSequence) else None)
                sequence = sequences[enrollment.sequence_id]
                # A reply from before this enrollment began is no reason to leave it.
                if sequence is None or not sequence.exit_on_reply or not happened_since(
                        replied_at, enrollment.enrolled_at):
                    continue
            enrollment.exit(reason, now)
            outcome.aggregates.append(enrollment)
            outcome.exited.append(enrollment.id)

    def _retry_time(self, enrollment: Enrollment, earliest: datetime) -> datetime:
        """A retry waits its backoff and, like every send, the sequence's send window."""
        sequence = self._find(enrollment.sequence_id)
        if not isinstance(sequence, DripSequence):
            return earliest
        contact = self._find(ids.contact_id(enrollment.tenant_id, enrollment.contact_id))
        tz = contact.timezone if isinstance(contact, Contact) else None
        return in_window(earliest, sequence, tz)

    def _plan_feedback(self, e: CrmEvent, now: datetime) -> CrmOutcome:
        message_id = text_field(e.data, "message_id", required=True)
        enrollment_uuid = ids.enrollment_of_message(message_id)
        found = self._find(enrollment_uuid) if enrollment_uuid else None
        if not (isinstance(found, Enrollment) and found.tenant_id == e.tenant_id
                and message_id in found.messages):
            raise InvalidInputError("data.message_id", f"no message {message_id} of this tenant")
        enrollment = found
        if e.type == "message_delivered":
            changed = enrollment.record_delivery(message_id, now)
        else:
            attempt = enrollment.messages[message_id]["attempt"]
            permanent = bool(e.data.get("permanent", False))
            retry = not permanent and attempt < MAX_SEND_ATTEMPTS
            retry_at = (self._retry_time(enrollment, now + RETRY_BACKOFF[attempt - 1])
                        if retry else None)
            changed = enrollment.record_failure(
                message_id=message_id, error=str(e.data.get("error") or "unknown error"),
                permanent=permanent, at=now, retry_at=retry_at)
            if changed and not retry and enrollment.is_open:
                enrollment.exit("error", now, detail=f"message {message_id} failed")
        if not changed:
            return CrmOutcome(status="duplicate")
        return CrmOutcome(aggregates=[enrollment],
                          exited=[enrollment.id] if enrollment.status == "exited" else [])


def contact_reply_is_ooo(e: CrmEvent) -> bool:
    return bool(e.data.get("out_of_office", False))
