"""Helpers of the step-execution tests: sequence and step bodies, CRM events, reading the
requests an enrollment recorded, and driving the clock to a due time.

The application is driven directly; the due list is simply the enrollment ids a test holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from itertools import count
from typing import Any
from uuid import UUID

from domain.app_base import NoLookups
from domain.app_crm import CrmOutcome
from domain.application import DriplineApp
from domain.clock import ManualClock
from domain.crm import CrmEvent
from domain.enrollment import SETTLE, Enrollment
from domain.execution import StepOutcome
from domain.messages import message_request

TENANT = "acme"
_event_numbers = count(1)


def step(order: int, content: str = "", *, amount: int = 0, unit: str = "minutes",
         **extra: Any) -> dict[str, Any]:
    template = extra.pop("message_template", {"type": "text", "content": content})
    return {"order": order, "name": f"step {order}", "delay_amount": amount,
            "delay_unit": unit, "message_template": template, **extra}


def active_sequence(app: DriplineApp, steps: list[dict[str, Any]], **settings: Any) -> UUID:
    sequence = app.create_sequence(TENANT, {"name": "seq", "steps": steps, **settings})
    app.activate_sequence(TENANT, sequence.id)
    return sequence.id


def crm(app: DriplineApp, kind: str, contact: str, **data: Any) -> CrmOutcome:
    """Record one CRM event that happened now, by the application's clock."""
    return app.record_crm_event(CrmEvent(event_id=f"evt-{next(_event_numbers)}", type=kind,
                                  tenant_id=TENANT, contact_id=contact,
                                  occurred_at=app.clock(), data=data))


def enrollment(app: DriplineApp, enrollment_id: UUID) -> Enrollment:
    return app.get_enrollment(TENANT, enrollment_id)


def events_of(app: DriplineApp, enrollment_id: UUID, kind: type[Any]) -> list[Any]:
    return [e for e in app.events.get(enrollment_id) if isinstance(e, kind)]


def requests(app: DriplineApp, enrollment_id: UUID) -> list[dict[str, Any]]:
    """The message requests recorded on the enrollment, oldest first (DESIGN 3.2's shape)."""
    e = enrollment(app, enrollment_id)
    return [message_request(enrollment_id=e.id, tenant_id=e.tenant_id,
                            contact_id=e.contact_id, sequence_id=e.sequence_id, event=event)
            for event in app.events.get(enrollment_id)
            if isinstance(event, Enrollment.StepExecuted | Enrollment.MessageRequested)]


def contents(app: DriplineApp, enrollment_id: UUID) -> list[str]:
    return [r["content"] for r in requests(app, enrollment_id)]


def history_types(app: DriplineApp, enrollment_id: UUID) -> list[str]:
    return [entry["type"] for entry in app.enrollment_history(TENANT, enrollment_id)]


def execute_exactly_at(app: DriplineApp, clock: ManualClock, enrollment_id: UUID,
                       due: datetime) -> StepOutcome:
    """Check the enrollment is due at ``due``, that a second earlier nothing happens, and
    execute it at ``due``."""
    assert enrollment(app, enrollment_id).next_scheduled_at == due
    before = app.recorder.max_notification_id()
    clock.set(due - timedelta(seconds=1))
    assert app.execute_due([enrollment_id]) == []
    assert app.recorder.max_notification_id() == before  # nothing recorded early
    clock.set(due)
    [outcome] = app.execute_due([enrollment_id])
    return outcome


def run_out(app: DriplineApp, clock: ManualClock, enrollment_ids: list[UUID],
            horizon: timedelta = timedelta(days=120)) -> list[StepOutcome]:
    """Let ``horizon`` pass, executing the enrollments at each of their due times as they
    come (and once more at the end), so that every step that could be sent is tried."""
    outcomes: list[StepOutcome] = []
    end = clock() + horizon
    for _ in range(1000):
        due = [d for i in enrollment_ids
               if (d := enrollment(app, i).next_scheduled_at) is not None and d <= end]
        clock.set(max(clock(), min(due)) if due else end)
        outcomes += app.execute_due(enrollment_ids)
        if not due:
            return outcomes
    raise AssertionError("the enrollments never stopped falling due")


class StoreLookups(NoLookups):
    """``domain.lookups.Lookups`` for the execution tests, which never enroll existing
    contacts on activation: nobody matches."""

    def __init__(self, app: DriplineApp) -> None:
        self.app = app

    def contacts_matching_trigger(self, tenant_id: str, trigger_type: str,
                                  trigger_data: Mapping[str, str], at_least: int) -> list[str]:
        return []


def settle(app: DriplineApp, clock: ManualClock, enrollment_id: UUID) -> Enrollment:
    """Let the last message's settling time pass with no failure reported: the enrollment
    completes (its state afterwards)."""
    clock.advance(SETTLE)
    app.execute_due([enrollment_id])
    return enrollment(app, enrollment_id)
