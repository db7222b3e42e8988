"""Per-channel throttling (CAPABILITIES §4, acceptance check 5, in-process with the injected
clock): a burst of 1,000 enrollments due at once under an email throttle of 100 a minute is
spread over ten minutes, a minute never holding more than 100 requests, in the order the
steps fell due, none dropped and none twice."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain import send_gate
from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from tests.api.conftest import V1, build_sequence, ok
from tests.promises.support import enrollment, let_time_pass, post_event, run_scheduler, step

T = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CONTACTS = [f"c-{n:04d}" for n in range(1000)]


def all_messages(client: TestClient, runtime: Runtime) -> list[dict[str, Any]]:
    runtime.catch_up()
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        body = ok(client.get(f"{V1}/messages", params={"limit": 500, "page": page}))
        found += body["items"]
        if len(found) >= body["total"] or not body["items"]:
            return found
        page += 1


def burst(client: TestClient, clock: ManualClock, per_minute: int) -> dict[str, str]:
    """1,000 contacts enrolled at T - 1 min in a sequence whose email step is due a minute
    later; returns each enrollment's contact."""
    ok(client.put(f"{V1}/settings", json={"throttle": {"email": {"per_minute": per_minute}}}))
    clock.set(T - timedelta(minutes=1))
    sequence = build_sequence(client, {"name": "Launch", "steps": [
        step(0, "Launch day", minutes=1, channel="email")]})
    enrolled: dict[str, str] = {}
    for start in range(0, len(CONTACTS), 500):
        bulk = ok(client.post(f"{V1}/sequences/{sequence['id']}/enroll/bulk",
                              json={"contact_ids": CONTACTS[start:start + 500]}))
        enrolled |= {e["enrollment_id"]: e["contact_id"] for e in bulk["enrolled"]}
    assert len(enrolled) == len(CONTACTS)
    return enrolled


def check_paced(messages: list[dict[str, Any]], per_minute: int, by: datetime) -> None:
    """At most ``per_minute`` requests in any UTC minute, all by ``by``, each once, and in
    the order of their steps' due time (then enrollment id): sorted by when they were
    requested, no enrollment comes after a later one."""
    per_step = Counter((m["enrollment_id"], m["step_order"]) for m in messages)
    assert set(per_step.values()) == {1}
    assert len(per_step) == len(messages) == len(CONTACTS)
    created = [datetime.fromisoformat(m["created_at"]) for m in messages]
    per = Counter(c.replace(second=0, microsecond=0) for c in created)
    assert max(per.values()) <= per_minute, sorted(per.items())
    assert max(created) <= by
    in_order = sorted(messages, key=lambda m: (datetime.fromisoformat(m["created_at"]),
                                               m["enrollment_id"]))
    keys = [m["enrollment_id"] for m in in_order]
    assert keys == sorted(keys)


def test_a_burst_is_spread_evenly_and_in_order(acme: TestClient, runtime: Runtime,
                                               clock: ManualClock) -> None:
    enrolled = burst(acme, clock, 100)
    clock.set(T)
    run_scheduler(runtime)
    run_scheduler(runtime)
    first = all_messages(acme, runtime)
    assert len(first) == 100  # the first minute's share, at once
    last = max(enrolled)
    waiting = enrollment(acme, last)
    assert waiting["deferred_by"] == "throttle"
    # The last of 1,000 has the 100th slot of the tenth minute: 9 min + 99 x 0.6 s.
    assert datetime.fromisoformat(waiting["next_scheduled_at"]) == (
        T + timedelta(minutes=9, seconds=59.4))

    # The scheduler runs at every slot's time, as a running one wakes when a step is due.
    let_time_pass(runtime, clock, timedelta(minutes=10), every=timedelta(seconds=0.6))
    check_paced(all_messages(acme, runtime), 100, T + timedelta(minutes=10))


def test_a_full_horizon_holds_no_slot_and_the_step_reserves_again_when_due(
        acme: TestClient, runtime: Runtime, clock: ManualClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """One a minute and a horizon of four minutes (a week, shortened): ten steps due at once
    take the four minutes; the other six look again at the horizon's end without a slot, and
    then reserve again: never two requests in a minute, all ten sent, each once."""
    monkeypatch.setattr(send_gate, "_HORIZON", 4)
    monkeypatch.setattr(send_gate, "_AHEAD", 2)
    ok(acme.put(f"{V1}/settings", json={"throttle": {"email": {"per_minute": 1}}}))
    clock.set(T - timedelta(minutes=1))
    sequence = build_sequence(acme, {"name": "Launch", "steps": [
        step(0, "Launch day", minutes=1, channel="email")]})
    bulk = ok(acme.post(f"{V1}/sequences/{sequence['id']}/enroll/bulk",
                        json={"contact_ids": CONTACTS[:10]}))
    assert len(bulk["enrolled"]) == 10
    clock.set(T)
    run_scheduler(runtime)
    let_time_pass(runtime, clock, timedelta(minutes=12), every=timedelta(seconds=10))
    messages = all_messages(acme, runtime)
    assert Counter((m["enrollment_id"], m["step_order"]) for m in messages) == {
        (e["enrollment_id"], 0): 1 for e in bulk["enrolled"]}
    per = Counter(datetime.fromisoformat(m["created_at"]).replace(second=0, microsecond=0)
                  for m in messages)
    assert max(per.values()) == 1, sorted(per.items())


def test_a_throttled_retry_sends_in_its_reserved_minute(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    """One a minute: three steps take 12:00, 12:01 and 12:02; the first message fails, its
    retry falls due at 12:01:30 in a full minute and reserves 12:03; it goes out at 12:03 on
    that slot, not reserving again (which would push it to 12:04 and waste a slot)."""
    ok(acme.put(f"{V1}/settings", json={"throttle": {"email": {"per_minute": 1}}}))
    clock.set(T - timedelta(minutes=1))
    sequence = build_sequence(acme, {"name": "Launch", "steps": [
        step(0, "Launch day", minutes=1, channel="email")]})
    bulk = ok(acme.post(f"{V1}/sequences/{sequence['id']}/enroll/bulk",
                        json={"contact_ids": CONTACTS[:3]}))
    first = min(e["enrollment_id"] for e in bulk["enrolled"])
    contact = next(e["contact_id"] for e in bulk["enrolled"] if e["enrollment_id"] == first)
    clock.set(T)
    run_scheduler(runtime)
    clock.set(T + timedelta(seconds=30))
    post_event(acme, "evt-failed", "message_failed", contact,
               {"message_id": f"{first}:0:1", "error": "gateway timeout"}, clock())
    let_time_pass(runtime, clock, timedelta(minutes=6), every=timedelta(seconds=10))
    messages = all_messages(acme, runtime)
    [retry] = [m for m in messages if m["message_id"] == f"{first}:0:2"]
    assert datetime.fromisoformat(retry["created_at"]) == T + timedelta(minutes=3)
    assert Counter((m["enrollment_id"], m["message_id"]) for m in messages) == {
        (e["enrollment_id"], f"{e['enrollment_id']}:0:1"): 1 for e in bulk["enrolled"]} | {
        (first, f"{first}:0:2"): 1}
