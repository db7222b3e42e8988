"""CRM time is compared with CRM time: an enrollment made by a trigger entered the sequence
when the trigger happened in the CRM, and a reply or an unsubscribe that happened after that
ends it, however late either event reaches Dripline and in whichever order they arrive.

Dripline's clock reads 10:10 throughout; the CRM's events happened at 10:00 and 10:05."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from tests.api.conftest import V1, build_sequence, ok
from tests.promises.support import (
    at,
    cold_lead_sequence,
    enrollment,
    let_time_pass,
    message_requests,
    post_event,
    run_scheduler,
    step,
    tagged_cold_lead,
)

HELLO_THEN_FOLLOW_UP = cold_lead_sequence(step(0, "Hi there"),
                                          step(1, "Following up", minutes=60))


def _months_pass(runtime: Runtime, clock: ManualClock) -> None:
    """However far the clock moves: every step that could fall due is given its chance."""
    let_time_pass(runtime, clock, timedelta(hours=3))
    clock.advance(timedelta(days=60))
    run_scheduler(runtime)


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _replied(client: TestClient, event_id: str, contact: str, occurred: datetime
             ) -> dict[str, Any]:
    return post_event(client, event_id, "contact_replied", contact,
                      {"channel": "whatsapp", "message_id": "crm-msg-1"}, occurred)


def test_a_reply_posted_late_still_ends_the_enrollment_it_happened_in(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    build_sequence(acme, HELLO_THEN_FOLLOW_UP)
    clock.set(at("10:10"))
    [enrollment_id] = tagged_cold_lead(acme, "evt-tag", "ana", at("10:00"))["enrolled"]
    run_scheduler(runtime)  # the zero-delay greeting goes out at 10:10

    replied = _replied(acme, "evt-reply", "ana", at("10:05"))

    left = enrollment(acme, enrollment_id)
    assert (left["status"], left["exit_reason"]) == ("exited", "contact_replied")
    assert replied["exited"] == [enrollment_id]
    _months_pass(runtime, clock)
    sent = message_requests(acme, runtime, "ana")
    assert [m["step_order"] for m in sent if m["step_order"] == 1] == []
    assert enrollment(acme, enrollment_id)["status"] == "exited"


def test_a_reply_that_arrives_before_its_trigger_ends_the_enrollment_at_once(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    sequence = build_sequence(acme, HELLO_THEN_FOLLOW_UP)
    clock.set(at("10:10"))
    _replied(acme, "evt-reply", "ana", at("10:05"))
    tagged = tagged_cold_lead(acme, "evt-tag", "ana", at("10:00"))

    [enrollment_id] = tagged["enrolled"]  # the tag still enrolls her...
    left = enrollment(acme, enrollment_id)  # ...and she has left already
    assert (left["status"], left["exit_reason"]) == ("exited", "contact_replied")
    runtime.catch_up()
    hers = ok(acme.get(f"{V1}/contacts/ana/enrollments"))["items"]
    assert [(e["id"], e["status"]) for e in hers] == [(enrollment_id, "exited")]
    stats = ok(acme.get(f"{V1}/sequences/{sequence['id']}/stats"))
    assert (stats["total_enrolled"], stats["exited_count"], stats["exits_by_reason"]) == (
        1, 1, {"contact_replied": 1})
    _months_pass(runtime, clock)
    assert message_requests(acme, runtime, "ana") == []


def test_a_channel_unsubscribe_ends_the_enrollment_whatever_the_arrival_order(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    """Both contacts left by email at 10:05, five minutes after they were tagged; the steps
    go out on WhatsApp, so only the time of the unsubscribe can end their enrollments."""
    build_sequence(acme, HELLO_THEN_FOLLOW_UP)
    clock.set(at("10:10"))
    unsubscribed = {"channel": "email"}
    [ana] = tagged_cold_lead(acme, "evt-ana-tag", "ana", at("10:00"))["enrolled"]
    post_event(acme, "evt-ana-unsub", "contact_unsubscribed", "ana", unsubscribed, at("10:05"))
    post_event(acme, "evt-bob-unsub", "contact_unsubscribed", "bob", unsubscribed, at("10:05"))
    [bob] = tagged_cold_lead(acme, "evt-bob-tag", "bob", at("10:00"))["enrolled"]

    _months_pass(runtime, clock)
    ended = {name: enrollment(acme, i) for name, i in (("ana", ana), ("bob", bob))}
    assert {name: (e["status"], e["exit_reason"]) for name, e in ended.items()} == {
        "ana": ("exited", "contact_unsubscribed"), "bob": ("exited", "contact_unsubscribed")}
    assert message_requests(acme, runtime, "bob") == []
    assert [m for m in message_requests(acme, runtime, "ana") if m["step_order"] == 1] == []


def test_a_reply_from_before_the_trigger_happened_does_not_count(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    build_sequence(acme, HELLO_THEN_FOLLOW_UP)
    clock.set(at("10:10"))
    [enrollment_id] = tagged_cold_lead(acme, "evt-tag", "ana", at("10:00"))["enrolled"]
    replied = _replied(acme, "evt-old-reply", "ana", at("09:55"))

    entered = enrollment(acme, enrollment_id)
    assert _when(entered.get("entered_at")) == at("10:00")  # what the reply is held against
    assert (entered["status"], replied["exited"]) == ("active", [])
    _months_pass(runtime, clock)
    assert [m["step_order"] for m in message_requests(acme, runtime, "ana")] == [0, 1]
    assert enrollment(acme, enrollment_id)["status"] == "completed"


def test_entered_at_is_the_triggers_time_and_otherwise_drip_lines_own(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    sequence = build_sequence(acme, HELLO_THEN_FOLLOW_UP)
    clock.set(at("10:10"))
    [by_trigger] = tagged_cold_lead(acme, "evt-tag", "ana", at("10:00"))["enrolled"]
    url = f"{V1}/sequences/{sequence['id']}"
    by_hand = ok(acme.post(f"{url}/enroll", json={"contact_id": "bob"}), 201)["id"]
    clock.set(at("10:20"))
    [in_bulk] = [e["enrollment_id"] for e in ok(acme.post(
        f"{url}/enroll/bulk", json={"contact_ids": ["cy"]}))["enrolled"]]

    seen = {name: enrollment(acme, i) for name, i in
            (("trigger", by_trigger), ("manual", by_hand), ("bulk", in_bulk))}
    assert {name: _when(e.get("entered_at")) for name, e in seen.items()} == {
        "trigger": at("10:00"), "manual": at("10:10"), "bulk": at("10:20")}
    # ``enrolled_at`` keeps meaning Dripline's own time.
    assert {name: _when(e["enrolled_at"]) for name, e in seen.items()} == {
        "trigger": at("10:10"), "manual": at("10:10"), "bulk": at("10:20")}
    runtime.catch_up()
    listed = ok(acme.get(f"{url}/enrollments"))["items"]
    assert {e["contact_id"]: _when(e.get("entered_at")) for e in listed} == {
        "ana": at("10:00"), "bob": at("10:10"), "cy": at("10:20")}
