"""The last step's message is retried like any other: attempt 2 a minute after the first
failure, attempt 3 ten minutes after the second, and a third failure exits with ``error``.
While a retry may still come the enrollment stays active; it completes when its last message
is delivered, or thirty minutes after the last request if no failure is reported. A retry
also waits for the send window, read in the contact's time zone at send time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from tests.api.conftest import V1, build_sequence, ok
from tests.promises.support import (
    at,
    enrollment,
    let_time_pass,
    message_requests,
    post_event,
    run_scheduler,
    step,
)

ONE_STEP = {"name": "One reminder", "steps": [step(0, "Your demo is tomorrow")]}


def _enrolled(client: TestClient, runtime: Runtime, body: dict[str, Any]) -> str:
    """Enroll Ana at 09:00 and let the scheduler request the first step."""
    sequence = build_sequence(client, body)
    enrolled = ok(client.post(f"{V1}/sequences/{sequence['id']}/enroll",
                              json={"contact_id": "ana"}), 201)
    run_scheduler(runtime)
    return str(enrolled["id"])


def _attempts(client: TestClient, runtime: Runtime) -> list[tuple[str, datetime]]:
    """(message id, requested at) of every request made for ana, oldest first."""
    return [(m["message_id"], datetime.fromisoformat(m["created_at"]))
            for m in message_requests(client, runtime, "ana")]


def _feedback(client: TestClient, clock: ManualClock, kind: str, message_id: str,
              **data: Any) -> None:
    post_event(client, f"evt-{kind}-{message_id}", kind, "ana",
               {"message_id": message_id, **data}, clock())


def _run_at(runtime: Runtime, clock: ManualClock, moment: datetime) -> None:
    clock.set(moment)
    run_scheduler(runtime)


def test_a_failing_last_step_is_tried_three_times_then_exits_with_error(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    enrollment_id = _enrolled(acme, runtime, ONE_STEP)
    assert _attempts(acme, runtime) == [(f"{enrollment_id}:0:1", at("09:00"))]

    clock.set(at("09:00") + timedelta(seconds=30))
    _feedback(acme, clock, "message_failed", f"{enrollment_id}:0:1", error="gateway timeout")
    assert enrollment(acme, enrollment_id)["status"] == "active"  # a retry is coming
    _run_at(runtime, clock, at("09:01") + timedelta(seconds=29))
    assert len(_attempts(acme, runtime)) == 1
    _run_at(runtime, clock, at("09:01") + timedelta(seconds=30))
    assert _attempts(acme, runtime)[1:] == [(f"{enrollment_id}:0:2", clock())]  # 09:01:30

    clock.set(at("09:02"))
    _feedback(acme, clock, "message_failed", f"{enrollment_id}:0:2", error="gateway timeout")
    assert enrollment(acme, enrollment_id)["status"] == "active"
    _run_at(runtime, clock, at("09:11") + timedelta(seconds=59))
    assert len(_attempts(acme, runtime)) == 2
    _run_at(runtime, clock, at("09:12"))
    assert _attempts(acme, runtime)[2:] == [(f"{enrollment_id}:0:3", at("09:12"))]

    clock.set(at("09:13"))
    _feedback(acme, clock, "message_failed", f"{enrollment_id}:0:3", error="gateway timeout")
    ended = enrollment(acme, enrollment_id)
    assert (ended["status"], ended["exit_reason"]) == ("exited", "error")
    let_time_pass(runtime, clock, timedelta(hours=2))
    assert len(_attempts(acme, runtime)) == 3


def test_a_delivered_last_message_completes_the_enrollment(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    enrollment_id = _enrolled(acme, runtime, ONE_STEP)
    assert enrollment(acme, enrollment_id)["status"] == "active"

    clock.set(at("09:03"))
    _feedback(acme, clock, "message_delivered", f"{enrollment_id}:0:1")
    done = enrollment(acme, enrollment_id)
    assert (done["status"], datetime.fromisoformat(done["completed_at"])) == (
        "completed", at("09:03"))


def test_without_feedback_the_enrollment_completes_thirty_minutes_after_its_last_request(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    enrollment_id = _enrolled(acme, runtime, ONE_STEP)

    let_time_pass(runtime, clock, timedelta(minutes=29))
    assert enrollment(acme, enrollment_id)["status"] == "active"
    let_time_pass(runtime, clock, timedelta(minutes=2))
    assert enrollment(acme, enrollment_id)["status"] == "completed"
    assert len(_attempts(acme, runtime)) == 1


def test_a_retry_waits_for_the_window_in_the_contacts_new_time_zone(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    """Office hours 9 to 17. The first attempt goes out at 09:00 UTC and fails; its retry is
    due at 09:01:30, but by then the CRM says Ana lives in New York, where it is 04:01:30.
    The retry goes out when her office hours begin: 09:00 in New York, 14:00 UTC."""
    office_hours = {"name": "Office hours", "send_window": {
        "hours": list(range(9, 17)), "timezone": "UTC"},
        "steps": [step(0, "Good morning"), step(1, "A day later", minutes=24 * 60)]}
    enrollment_id = _enrolled(acme, runtime, office_hours)
    clock.set(at("09:00") + timedelta(seconds=30))
    _feedback(acme, clock, "message_failed", f"{enrollment_id}:0:1", error="gateway timeout")
    clock.set(at("09:01"))
    post_event(acme, "evt-moved", "contact_updated", "ana",
               {"timezone": "America/New_York"}, clock())

    _run_at(runtime, clock, at("09:01") + timedelta(seconds=30))
    _run_at(runtime, clock, at("13:59"))
    assert _attempts(acme, runtime) == [(f"{enrollment_id}:0:1", at("09:00"))]
    _run_at(runtime, clock, at("14:00"))
    assert _attempts(acme, runtime) == [(f"{enrollment_id}:0:1", at("09:00")),
                                        (f"{enrollment_id}:0:2", at("14:00"))]
