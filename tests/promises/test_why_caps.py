""""Why is this contact waiting?" for what frequency caps and throttles hold back
(CAPABILITIES §7, acceptance check 3, with §4): a step deferred by a cap says
``frequency_cap`` with the rule that held it, the count and the limit, and until when; a
step given a later throttle slot says ``throttle``. Through HTTP, with the injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from tests.api.conftest import V1, build_sequence, ok
from tests.promises.support import run_scheduler, step

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SETTINGS = f"{V1}/settings"


def _settings(client: TestClient, body: dict[str, Any]) -> None:
    current = client.get(SETTINGS)
    ok(client.put(SETTINGS, json=body, headers={"If-Match": current.headers["ETag"]}))


def _enroll(client: TestClient, name: str, contact: str, *, channel: str = "whatsapp",
            ) -> str:
    sequence = build_sequence(client, {"name": name, "exit_on_reply": False,
                                       "steps": [step(0, f"{name} hello", channel=channel)]})
    return str(ok(client.post(f"{V1}/sequences/{sequence['id']}/enroll",
                              json={"contact_id": contact}), 201)["id"])


def _why(client: TestClient, enrollment_id: str) -> dict[str, Any]:
    return dict(ok(client.get(f"{V1}/enrollments/{enrollment_id}/why")))


def test_a_step_held_by_a_frequency_cap_says_which_rule_and_until_when(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    clock.set(T0)
    _settings(acme, {"frequency_cap": {"on_cap": "defer", "rules": [
        {"channel": "sms", "max_messages": 5, "window": "rolling_24h"},
        {"channel": None, "max_messages": 1, "window": "rolling_24h"}]}})
    _enroll(acme, "First", "ana")
    clock.set(T0 + timedelta(minutes=1))
    held = _enroll(acme, "Second", "ana")
    run_scheduler(runtime)

    why = _why(acme, held)
    waiting = why["waiting"]
    assert waiting["reason"] == "frequency_cap"
    assert waiting["detail"]["rule_index"] == 1  # the all-channels rule, not the sms one
    assert waiting["detail"]["count"] == 1
    assert waiting["detail"]["limit"] == 1
    assert datetime.fromisoformat(waiting["until"]) == T0 + timedelta(hours=24)
    assert datetime.fromisoformat(why["next_due_at"]) == T0 + timedelta(hours=24)
    assert why["status"] == "active"
    assert "enrollment.rescheduled" in [t["type"] for t in why["timeline"]]


def test_a_step_given_a_later_throttle_slot_says_throttle(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    clock.set(T0)
    _settings(acme, {"throttle": {"email": {"per_minute": 1}}})
    first = _enroll(acme, "Mail one", "ana", channel="email")
    second = _enroll(acme, "Mail two", "bob", channel="email")
    run_scheduler(runtime)

    assert "enrollment.step_executed" in [t["type"] for t in _why(acme, first)["timeline"]]
    waiting = _why(acme, second)["waiting"]
    assert waiting["reason"] == "throttle"
    assert waiting["detail"]["channel"] == "email"
    assert waiting["detail"]["limit"] == 1
    assert datetime.fromisoformat(waiting["until"]) == T0 + timedelta(minutes=1)
