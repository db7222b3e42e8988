"""Helpers for the read-model tests: sequences, CRM events, and executing steps the way the
scheduler will (message request, then advance or complete) by calling the aggregate."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count
from typing import Any
from uuid import UUID

from domain.application import DriplineApp
from domain.crm import CrmEvent
from domain.enrollment import SETTLE, Enrollment
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


STEP_ID = UUID("00000000-0000-4000-8000-00000000000a")


def _message(enrollment: Enrollment) -> dict[str, Any]:
    return {"channel": "whatsapp", "type": "text", "content": "Hello", "template_id": None,
            "variables": {"name": enrollment.contact_id}, "media_url": None}


def _load(app: DriplineApp, enrollment_id: UUID) -> Enrollment:
    enrollment: object = app.repository.get(enrollment_id)
    assert isinstance(enrollment, Enrollment)
    return enrollment


def request_message(app: DriplineApp, enrollment_id: UUID, at: datetime) -> str:
    """Record the current step's message request without moving on (as a retry would), and
    return its id."""
    enrollment = _load(app, enrollment_id)
    message_id = enrollment.execute_step(
        step_order=enrollment.current_step_order, step_id=STEP_ID,
        attempt=enrollment.attempt, due_at=at, message=_message(enrollment), advance_to=None,
        next_due_at=None, final=False, at=at)
    app.save(enrollment)
    return message_id


def execute_step(app: DriplineApp, enrollment_id: UUID, at: datetime,
                 last_order: int) -> str:
    """Execute the current step as the scheduler does: request its message and move on to
    the next step; after the last one, complete (as if it settled at once)."""
    enrollment = _load(app, enrollment_id)
    order = enrollment.current_step_order
    last = order >= last_order
    message_id = enrollment.execute_step(
        step_order=order, step_id=STEP_ID, attempt=enrollment.attempt, due_at=at,
        message=_message(enrollment), advance_to=None if last else order + 1,
        next_due_at=at + (SETTLE if last else timedelta(hours=1)), final=last, at=at)
    if last:
        enrollment.complete(at)
    app.save(enrollment)
    return message_id
