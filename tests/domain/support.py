"""Helpers shared by the domain tests: step bodies, CRM events, and a real Lookups that answers
from the application's own event log (the read models are built elsewhere)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from itertools import count
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain.app_base import NoLookups
from domain.application import DriplineApp
from domain.contact import Contact
from domain.crm import CrmEvent
from domain.enrollment import Enrollment

_event_numbers = count(1)


def step_body(order: int = 0, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order": order,
        "name": f"Step {order}",
        "delay_amount": 1,
        "delay_unit": "days",
        "message_template": {"type": "text", "content": "Hi {{contact.name}}"},
    }
    body.update(overrides)
    return body


def crm_event(type_: str, contact_id: str = "c-1", *, at: datetime, tenant_id: str = "acme",
              event_id: str | None = None, **data: Any) -> CrmEvent:
    return CrmEvent(event_id=event_id or f"evt-{next(_event_numbers)}", type=type_,
                    tenant_id=tenant_id, contact_id=contact_id, occurred_at=at, data=data)


def stored_count(app: DriplineApp) -> int:
    """How many events the store holds: unchanged by a command that was refused."""
    return app.recorder.max_notification_id() or 0


def state(aggregate: object) -> dict[str, Any]:
    """An aggregate's state for comparing a live object with one loaded from the store."""
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


class EventLogLookups(NoLookups):
    """The ``domain.lookups.Lookups`` protocol answered by scanning the notification log and
    loading the contacts it names: slow but exact, which is what these tests need (the read
    models are built elsewhere)."""

    def __init__(self, app: DriplineApp) -> None:
        self.app = app

    def _originators(self, topic: str) -> list[UUID]:
        found: list[UUID] = []
        start = 1
        while True:
            batch = self.app.recorder.select_notifications(start=start, limit=500,
                                                           topics=[topic])
            if not batch:
                return found
            found += [UUID(str(n.originator_id)) for n in batch]
            start = batch[-1].id + 1

    def contacts_matching_trigger(self, tenant_id: str, trigger_type: str,
                                  trigger_data: Mapping[str, str], at_least: int) -> list[str]:
        matching = []
        for contact_uuid in self._originators("contact.created"):
            contact: Aggregate = self.app.repository.get(contact_uuid)
            if (isinstance(contact, Contact) and contact.tenant_id == tenant_id
                    and not contact.deleted and self._matches(contact, trigger_type,
                                                              trigger_data)):
                matching.append(contact.contact_id)
        return matching

    def _matches(self, contact: Contact, trigger_type: str, data: Mapping[str, str]) -> bool:
        if trigger_type == "tag_added":
            return any(contact.has_tag(data[k]) for k in ("tag_id", "tag_name") if k in data)
        if trigger_type == "list_joined":
            return data.get("list_id") in contact.lists
        if trigger_type == "pipeline_entered":
            return data.get("pipeline_id") in contact.pipelines
        if trigger_type == "form_submit":
            return any(isinstance(e, Contact.FormSubmitted) and e.form_id == data.get("form_id")
                       for e in self.app.events.get(contact.id))
        return False


MESSAGE: dict[str, Any] = {"channel": "whatsapp", "type": "text", "content": "Hi",
                           "template_id": None, "variables": {}, "media_url": None}


def request_step(e: Enrollment, *, at: datetime, attempt: int = 1,
                 step_order: int | None = None, advance_to: int | None = None,
                 next_due_at: datetime | None = None, final: bool = False) -> str:
    """Record the request of a step's message on ``e`` (by default its current step, without
    moving on, as a retry would); returns the message id."""
    order = e.current_step_order if step_order is None else step_order
    return e.execute_step(step_order=order, step_id=uuid4(), attempt=attempt, due_at=at,
                          message=MESSAGE, advance_to=advance_to, next_due_at=next_due_at,
                          final=final, at=at)
