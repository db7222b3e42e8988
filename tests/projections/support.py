"""Helpers for the read-model tests: sequences, CRM events, and executing steps the way the
scheduler will (message request, then advance or complete) by calling the aggregate."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from typing import Any
from uuid import UUID

from domain import ids
from domain.application import DriplineApp
from domain.crm import CrmEvent
from domain.enrollment import Enrollment
from domain.sequence import DripSequence

_numbers = count(1)


def step(order: int, delay_hours: int = 1) -> dict[str, Any]:
    return {"order": order, "name": f"Step {order}", "delay_amount": delay_hours,
            "delay_unit": "hours",
            "message_template": {"type": "text", "content": f"Hello {order}"}}


def active_sequence(app: DriplineApp, tenant: str = "acme", steps: int = 2,
                    trigger: tuple[str, dict[str, str]] = ("manual", {}),
                    name: str = "Welcome") -> DripSequence:
    sequence = app.create_sequence(tenant, {
        "name": name, "trigger_type": trigger[0], "trigger_data": trigger[1],
        "steps": [step(i) for i in range(steps)]})
    return app.activate_sequence(tenant, sequence.id).sequence


def crm(type_: str, contact: str, tenant: str = "acme", *, at: datetime,
        **data: Any) -> CrmEvent:
    return CrmEvent(event_id=f"evt-{next(_numbers)}", type=type_, tenant_id=tenant,
                    contact_id=contact, occurred_at=at, data=data)


def request_message(app: DriplineApp, enrollment_id: UUID, at: datetime) -> str:
    """Record the current step's message request (as the scheduler will) and return its id."""
    enrollment: object = app.repository.get(enrollment_id)
    assert isinstance(enrollment, Enrollment)
    order = enrollment.current_step_order
    message_id = ids.message_id(enrollment.id, order, enrollment.attempt)
    enrollment.request_message(step_order=order, attempt=enrollment.attempt,
                               message_id=message_id, request=message_request(
                                   enrollment, message_id, at), at=at)
    app.save(enrollment)
    return message_id


def execute_step(app: DriplineApp, enrollment_id: UUID, at: datetime,
                 last_order: int) -> str:
    """Request the current step's message, then advance to the next step or complete."""
    message_id = request_message(app, enrollment_id, at)
    enrollment: object = app.repository.get(enrollment_id)
    assert isinstance(enrollment, Enrollment)
    if enrollment.current_step_order >= last_order:
        enrollment.complete(at)
    else:
        enrollment.advance(enrollment.current_step_order + 1, at + timedelta(hours=1), at)
    app.save(enrollment)
    return message_id


def message_request(enrollment: Enrollment, message_id: str, at: datetime) -> dict[str, Any]:
    return {"message_id": message_id, "tenant_id": enrollment.tenant_id,
            "contact_id": enrollment.contact_id, "sequence_id": str(enrollment.sequence_id),
            "enrollment_id": str(enrollment.id), "step_id": "step-x",
            "step_order": enrollment.current_step_order, "channel": "whatsapp",
            "type": "text", "content": "Hello", "template_id": None,
            "variables": {"name": enrollment.contact_id}, "media_url": None,
            "due_at": at.isoformat(), "created_at": at.isoformat()}
