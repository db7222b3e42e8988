"""Small builders for the intake scenarios: sequences by trigger, and reading back what the
store holds."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain import ids
from domain.application import DriplineApp
from domain.contact import Contact
from domain.enrollment import Enrollment
from tests.consumers.support import TENANT


def sequence(app: DriplineApp, trigger: str, exit_on_reply: bool = False,
             **trigger_data: str) -> UUID:
    body: dict[str, Any] = {
        "name": f"on {trigger}", "trigger_type": trigger, "trigger_data": trigger_data,
        "exit_on_reply": exit_on_reply,
        "steps": [{"order": 0, "name": "hello", "delay_amount": 1, "delay_unit": "hours",
                   "message_template": {"type": "text", "content": "Hi {{contact.name}}"}}]}
    created = app.create_sequence(TENANT, body)
    app.activate_sequence(TENANT, created.id)
    return created.id


def contact(app: DriplineApp, contact_id: str) -> Contact:
    found: object = app.repository.get(ids.contact_id(TENANT, contact_id))
    assert isinstance(found, Contact)
    return found


def enrollment(app: DriplineApp, sequence_id: UUID, contact_id: str,
               number: int = 1) -> Enrollment | None:
    eid = ids.enrollment_id(sequence_id, contact_id, number)
    if not list(app.recorder.select_events(eid)):
        return None
    found: object = app.repository.get(eid)
    assert isinstance(found, Enrollment)
    return found


def stored(app: DriplineApp) -> int:
    return app.recorder.max_notification_id() or 0
