"""Frequency caps across sequences (CAPABILITIES §4, acceptance checks 1, 2, 3 and 6): a
contact enrolled in several sequences gets at most the tenant's cap of messages per window,
whichever sequences they come from; what a cap holds back is deferred (or skipped), and why
is recorded. Everything through HTTP, with the injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from tests.api.conftest import V1, build_sequence, ok
from tests.promises.support import (
    enrollment,
    let_time_pass,
    message_requests,
    post_event,
    step,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SETTINGS = f"{V1}/settings"


def _sequence(client: TestClient, name: str, *steps: dict[str, Any], exempt: bool = False,
              ) -> str:
    body = {"name": name, "trigger_type": "manual", "exit_on_reply": False,
            "steps": list(steps) or [step(0, f"{name} hello")]}
    if exempt:
        body["frequency_cap_exempt"] = True
    return str(build_sequence(client, body)["id"])


def _cap(client: TestClient, *rules: dict[str, Any], on_cap: str = "defer",
         timezone: str | None = None, max_defer_hours: int | None = None) -> dict[str, Any]:
    current = client.get(SETTINGS)
    body: dict[str, Any] = {"frequency_cap": {"rules": list(rules), "on_cap": on_cap}}
    if max_defer_hours is not None:
        body["frequency_cap"]["max_defer_hours"] = max_defer_hours
    if timezone:
        body["timezone"] = timezone
    return dict(ok(client.put(SETTINGS, json=body,
                              headers={"If-Match": current.headers["ETag"]})))


def _enroll(client: TestClient, sequence_id: str, contact: str) -> str:
    return str(ok(client.post(f"{V1}/sequences/{sequence_id}/enroll",
                              json={"contact_id": contact}), 201)["id"])


def _times(sent: list[dict[str, Any]]) -> list[datetime]:
    return sorted(datetime.fromisoformat(m["created_at"]) for m in sent)


def _most_in_any(window: timedelta, times: list[datetime]) -> int:
    """The most messages any window of this length (open at its start) holds."""
    return max((sum(1 for t in times if end - window < t <= end) for end in times), default=0)


def _history_types(client: TestClient, enrollment_id: str) -> list[dict[str, Any]]:
    return list(ok(client.get(f"{V1}/enrollments/{enrollment_id}/history"))["items"])


def test_a_third_message_within_24_hours_waits_until_the_first_leaves_the_window(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    _cap(acme, {"channel": None, "max_messages": 2, "window": "rolling_24h"})
    sequences = [_sequence(acme, f"Seq {i}") for i in range(3)]
    enrolled = []
    for minute, sequence_id in enumerate(sequences):
        clock.set(T0 + timedelta(minutes=minute))
        enrolled.append(_enroll(acme, sequence_id, "ana"))

    assert _times(message_requests(acme, runtime, "ana")) == [T0, T0 + timedelta(minutes=1)]
    third = enrollment(acme, enrolled[2])
    assert datetime.fromisoformat(third["next_scheduled_at"]) == T0 + timedelta(hours=24)
    assert third["deferred_by"] == "frequency_cap"
    [moved] = [h for h in _history_types(acme, enrolled[2])
               if h["type"] == "enrollment.rescheduled"]
    assert moved["data"]["reason"] == "frequency_cap"
    assert moved["data"]["detail"] == {"rule_index": 0, "count": 2, "limit": 2,
                                     "step_order": 0}

    let_time_pass(runtime, clock, T0 + timedelta(hours=24) - clock(),  # to T0 + 24 h exactly
                  every=timedelta(minutes=29))
    sent = message_requests(acme, runtime, "ana")
    assert _times(sent) == [T0, T0 + timedelta(minutes=1), T0 + timedelta(hours=24)]
    assert [m["enrollment_id"] for m in sent] == enrolled
    assert enrollment(acme, enrolled[2])["deferred_by"] is None  # it went: nothing waits
    assert _most_in_any(timedelta(hours=24), _times(sent)) == 2


def test_with_skip_the_capped_step_is_skipped_and_the_next_is_due_its_delay_later(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    _cap(acme, {"channel": None, "max_messages": 2, "window": "rolling_24h"}, on_cap="skip")
    sequences = [_sequence(acme, f"Seq {i}", step(0, "Hi"), step(1, "Later", minutes=60 * 48))
                 for i in range(3)]
    enrolled = []
    for minute, sequence_id in enumerate(sequences):
        clock.set(T0 + timedelta(minutes=minute))
        enrolled.append(_enroll(acme, sequence_id, "ana"))

    assert len(message_requests(acme, runtime, "ana")) == 2
    third = enrollment(acme, enrolled[2])
    assert third["current_step_order"] == 1
    assert datetime.fromisoformat(third["next_scheduled_at"]) == (
        T0 + timedelta(minutes=2) + timedelta(hours=48))
    [skipped] = [h for h in _history_types(acme, enrolled[2])
                 if h["type"] == "enrollment.step_skipped"]
    assert (skipped["data"]["step_order"], skipped["data"]["reason"]) == (0,
                                                                         "frequency_capped")


def test_a_calendar_day_cap_counts_the_contacts_own_day(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    _cap(acme, {"channel": None, "max_messages": 1, "window": "calendar_day"})
    clock.set(datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    post_event(acme, "evt-zone", "contact_updated", "ana",
               {"timezone": "America/New_York"}, clock())
    first, second = _sequence(acme, "Morning"), _sequence(acme, "Evening")
    _enroll(acme, first, "ana")  # 10:00 in New York
    clock.set(datetime(2026, 12, 1, 20, 0, tzinfo=UTC))  # 15:00 there: the same local day
    later = _enroll(acme, second, "ana")

    waiting = enrollment(acme, later)
    assert waiting["next_scheduled_at"] is not None
    assert datetime.fromisoformat(waiting["next_scheduled_at"]) == datetime(
        2026, 12, 2, 5, 0, tzinfo=UTC)  # the next local midnight
    assert len(message_requests(acme, runtime, "ana")) == 1
    let_time_pass(runtime, clock, timedelta(hours=10), every=timedelta(hours=1))
    assert _times(message_requests(acme, runtime, "ana"))[-1] == datetime(
        2026, 12, 2, 5, 0, tzinfo=UTC)


def test_an_exempt_sequence_sends_past_the_cap_and_counts_for_nothing(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    _cap(acme, {"channel": None, "max_messages": 1, "window": "rolling_24h"})
    receipts = _sequence(acme, "Receipts", exempt=True)
    resets = _sequence(acme, "Password resets", exempt=True)
    nurture, promo = _sequence(acme, "Nurture"), _sequence(acme, "Promo")
    clock.set(T0)
    _enroll(acme, receipts, "ana")
    _enroll(acme, nurture, "ana")  # the exempt receipt did not count: this one is sent
    _enroll(acme, resets, "ana")  # past the cap, and exempt: sent
    held = _enroll(acme, promo, "ana")  # the cap of 1 is reached by Nurture alone

    sent = message_requests(acme, runtime, "ana")
    assert sorted(m["sequence_id"] for m in sent) == sorted([receipts, nurture, resets])
    assert enrollment(acme, held)["deferred_by"] == "frequency_cap"
    assert ok(acme.get(f"{V1}/sequences/{receipts}"))["frequency_cap_exempt"] is True


def test_a_deferral_past_max_defer_hours_skips_the_step_as_frequency_capped(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    """Deferring would wait 24 hours, past ``max_defer_hours`` of 1: the step is skipped."""
    _cap(acme, {"channel": None, "max_messages": 1, "window": "rolling_24h"},
         max_defer_hours=1)
    first = _sequence(acme, "First")
    second = _sequence(acme, "Second", step(0, "Hi"), step(1, "Later", minutes=60 * 48))
    clock.set(T0)
    _enroll(acme, first, "ana")
    held = _enroll(acme, second, "ana")

    assert len(message_requests(acme, runtime, "ana")) == 1
    after = enrollment(acme, held)
    assert after["current_step_order"] == 1
    assert after["deferred_by"] is None
    assert datetime.fromisoformat(after["next_scheduled_at"]) == T0 + timedelta(hours=48)
    [skipped] = [h for h in _history_types(acme, held) if h["type"] == "enrollment.step_skipped"]
    assert (skipped["data"]["step_order"], skipped["data"]["reason"]) == (0,
                                                                         "frequency_capped")
    assert not [h for h in _history_types(acme, held) if h["type"] == "enrollment.rescheduled"]


def test_a_capped_step_ends_a_chain_of_immediate_steps(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    """Three steps due at once, a cap of 1 and on_cap skip: the first is sent, the second is
    skipped, and the chain stops there: the third waits for the next run of the scheduler
    (where the cap skips it too)."""
    _cap(acme, {"channel": None, "max_messages": 1, "window": "rolling_24h"}, on_cap="skip")
    chain = _sequence(acme, "Chain", step(0, "One"), step(1, "Two"), step(2, "Three"))
    clock.set(T0)
    enrolled = _enroll(acme, chain, "ana")

    assert len(message_requests(acme, runtime, "ana")) == 1
    stopped = enrollment(acme, enrolled)
    assert (stopped["status"], stopped["current_step_order"]) == ("active", 2)
    assert datetime.fromisoformat(stopped["next_scheduled_at"]) == T0
    let_time_pass(runtime, clock, timedelta(minutes=1), every=timedelta(minutes=1))
    done = enrollment(acme, enrolled)
    assert done["status"] == "completed"
    assert len(message_requests(acme, runtime, "ana")) == 1
    skipped = [h["data"]["step_order"] for h in _history_types(acme, enrolled)
               if h["type"] == "enrollment.step_skipped"]
    assert skipped == [1, 2]


def test_a_calendar_day_is_the_contacts_day_before_the_tenants(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    """Tenant in Tokyo, contact in New York: 14:00Z and 16:00Z fall on two Tokyo days but on
    one New York day, so the second waits for New York's midnight."""
    _cap(acme, {"channel": None, "max_messages": 1, "window": "calendar_day"},
         timezone="Asia/Tokyo")
    clock.set(datetime(2026, 12, 1, 14, 0, tzinfo=UTC))
    post_event(acme, "evt-zone", "contact_updated", "ana",
               {"timezone": "America/New_York"}, clock())
    first, second = _sequence(acme, "Morning"), _sequence(acme, "Evening")
    _enroll(acme, first, "ana")  # 23:00 Dec 1 in Tokyo, 09:00 Dec 1 in New York
    clock.set(datetime(2026, 12, 1, 16, 0, tzinfo=UTC))  # 01:00 Dec 2 in Tokyo, 11:00 in NY
    later = _enroll(acme, second, "ana")

    assert len(message_requests(acme, runtime, "ana")) == 1
    waiting = enrollment(acme, later)
    assert waiting["deferred_by"] == "frequency_cap"
    assert datetime.fromisoformat(waiting["next_scheduled_at"]) == datetime(
        2026, 12, 2, 5, 0, tzinfo=UTC)  # New York's midnight, not Tokyo's
