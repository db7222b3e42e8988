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

from domain.app_base import AppBase
from domain.app_crm import CrmOutcome
from domain.app_execution import StepOutcome
from domain.application import DriplineApp
from domain.clock import ManualClock
from domain.crm import CrmEvent
from domain.enrollment import Enrollment
from domain.sequence import DripSequence

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
    """The message requests recorded on the enrollment, oldest first (from its history)."""
    return [entry["data"]["request"] for entry in app.enrollment_history(TENANT, enrollment_id)
            if entry["type"] == "enrollment.message_requested"]


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


class StoreLookups:
    """``domain.lookups.Lookups`` answered from the event store itself, as the read models
    would once caught up: execution is tested here without the projections in between."""

    def __init__(self, app: AppBase) -> None:
        self.app = app

    def _all(self, topic: str) -> list[Any]:
        notifications = self.app.recorder.select_notifications(start=1, limit=1_000_000,
                                                               topics=[topic])
        return [self.app.repository.get(UUID(str(n.originator_id))) for n in notifications]

    def _open(self) -> list[Enrollment]:
        return [e for e in self._all("sequence.contact_enrolled")
                if isinstance(e, Enrollment) and e.is_open]

    def active_sequences_for_trigger(self, tenant_id: str, trigger_type: str) -> list[UUID]:
        return [s.id for s in self._all("sequence.created") if isinstance(s, DripSequence)
                and s.tenant_id == tenant_id and s.status == "active"
                and s.trigger_type == trigger_type]

    def open_enrollments_of_contact(self, tenant_id: str, contact_id: str) -> list[UUID]:
        return [e.id for e in self._open()
                if e.tenant_id == tenant_id and e.contact_id == contact_id]

    def open_enrollments_of_sequence(self, sequence_id: UUID) -> list[UUID]:
        return [e.id for e in self._open() if e.sequence_id == sequence_id]

    def contacts_matching_trigger(self, tenant_id: str, trigger_type: str,
                                  trigger_data: Mapping[str, str]) -> list[str]:
        return []
