"""Message requests recorded when a step falls due are readable over HTTP, and delivery
feedback posted as a CRM event changes their status."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from fastapi.testclient import TestClient

from api.examples import LEAD_NURTURE
from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from tests.api.conftest import V1, build_sequence, envelope, ok


def test_a_due_step_is_listed_as_a_message_then_delivered(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    sequence = build_sequence(acme, LEAD_NURTURE)
    ok(acme.post("/api/v1/events", json=envelope(
        "evt-1", "contact_updated", "eve", {"name": "Eve"})), 202)
    enrollment = ok(acme.post(f"{V1}/sequences/{sequence['id']}/enroll",
                              json={"contact_id": "eve"}), 201)
    clock.advance(timedelta(minutes=5))
    [outcome] = runtime.app.execute_due([UUID(enrollment["id"])])  # what the scheduler does
    assert outcome.result == "requested"

    runtime.catch_up()
    listed = ok(acme.get(f"{V1}/messages", params={"enrollment_id": enrollment["id"]}))
    [message] = listed["items"]
    assert (message["contact_id"], message["step_order"], message["status"]) == (
        "eve", 0, "requested")
    assert message["content"].startswith("Hi Eve, I saw you're interested in Ventros CRM.")
    assert message["message_id"] == outcome.message_id

    ok(acme.post("/api/v1/events", json=envelope(
        "evt-2", "message_delivered", "eve", {"message_id": message["message_id"]})), 202)
    runtime.catch_up()
    delivered = ok(acme.get(f"{V1}/messages", params={"contact_id": "eve"}))
    assert [m["status"] for m in delivered["items"]] == ["delivered"]
    assert ok(acme.get(f"{V1}/messages", params={"contact_id": "someone-else"}))["total"] == 0
    stats = ok(acme.get(f"{V1}/sequences/{sequence['id']}/stats"))
    assert (stats["steps"][0]["message_requested"], stats["steps"][0]["delivered"]) == (1, 1)
