"""Helpers of the promise tests, all through the public HTTP API of an in-process application
over a real runtime: sequence bodies, CRM events stamped with the CRM's own time, the
scheduler role run once after the clock moved, and the message requests a contact got."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from consumers.scheduler import Scheduler
from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from tests.api.conftest import V1, envelope, ok

DAY = datetime(2026, 11, 29, tzinfo=UTC)
EVENTS = "/api/v1/events"


def at(hh_mm: str) -> datetime:
    """An instant of the test day, e.g. ``at("10:05")``."""
    hours, minutes = (int(part) for part in hh_mm.split(":"))
    return DAY + timedelta(hours=hours, minutes=minutes)


def stamp(moment: datetime) -> str:
    """As CRMs send it: whole seconds, UTC, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def step(order: int, content: str, *, minutes: int = 0, channel: str = "whatsapp",
         ) -> dict[str, Any]:
    return {"order": order, "name": f"Step {order}", "delay_amount": minutes,
            "delay_unit": "minutes",
            "message_template": {"type": "text", "content": content, "channel": channel}}


def cold_lead_sequence(*steps: dict[str, Any], exit_on_reply: bool = True) -> dict[str, Any]:
    """Entered when the CRM tags a contact ``cold-lead``."""
    return {"name": "Cold leads", "trigger_type": "tag_added",
            "trigger_data": {"tag_name": "cold-lead"}, "exit_on_reply": exit_on_reply,
            "steps": list(steps)}


def post_event(client: TestClient, event_id: str, kind: str, contact: str,
               data: dict[str, Any], occurred: datetime) -> dict[str, Any]:
    """Post one CRM event and return its result (the answer must be 202)."""
    answer = ok(client.post(EVENTS, json=envelope(event_id, kind, contact, data,
                                                  at=stamp(occurred))), 202)
    [result] = answer["results"]
    return dict(result)


def tagged_cold_lead(client: TestClient, event_id: str, contact: str,
                     occurred: datetime) -> dict[str, Any]:
    return post_event(client, event_id, "tag_added", contact,
                      {"tag_id": "t-cold", "tag_name": "cold-lead"}, occurred)


def run_scheduler(runtime: Runtime) -> int:
    """One pass of the scheduler role at the clock's current time."""
    return Scheduler(runtime.app).run_once()


def let_time_pass(runtime: Runtime, clock: ManualClock, span: timedelta,
                  every: timedelta = timedelta(minutes=5)) -> None:
    """Move the clock forward by ``span`` in steps of ``every``, running the scheduler after
    each step, as a running ``dripline schedule`` would."""
    end = clock() + span
    while clock() < end:
        clock.set(min(end, clock() + every))
        run_scheduler(runtime)


def message_requests(client: TestClient, runtime: Runtime, contact: str) -> list[dict[str, Any]]:
    """Every message request recorded for the contact, oldest first (a read model: brought
    up to date first)."""
    runtime.catch_up()
    page = ok(client.get(f"{V1}/messages", params={"contact_id": contact, "limit": 500}))
    assert page["total"] == len(page["items"]), "more requests than one page holds"
    return sorted(page["items"], key=lambda m: (m["created_at"], m["message_id"]))


def enrollment(client: TestClient, enrollment_id: str) -> dict[str, Any]:
    return dict(ok(client.get(f"{V1}/enrollments/{enrollment_id}")))
