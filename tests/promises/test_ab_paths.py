"""A/B testing, path experiments (CAPABILITIES §1, the seed's ``SequenceVariant``): each arm
has its own steps and the revision none; a contact follows its arm's steps, every message
carrying the arm, and the holdout waits the first arm's nominal delays and gets nothing. A
path experiment beside top-level steps, or beside another experiment, is a 422."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from tests.api.conftest import V1, ok
from tests.promises.ab_support import all_enrollments, expected_arm, expected_holdout
from tests.promises.support import let_time_pass, message_requests, post_event, step

ARMS = [{"key": "short", "weight": 30, "steps": [step(0, "Short only")]},
        {"key": "long", "weight": 70, "steps": [step(0, "Long one"),
                                                step(1, "Long two", minutes=1440)]}]
PATH = {"id": "paths", "kind": "path", "arms": ARMS, "auto_winner": {"enabled": False}}


def _path_sequence(client: TestClient, **extra: Any) -> dict[str, Any]:
    draft = ok(client.post(f"{V1}/sequences", json={
        "name": "Paths", "holdout_percent": 20, "experiments": [PATH], **extra}), 201)
    return dict(ok(client.post(f"{V1}/sequences/{draft['id']}/activate")))


def test_each_contact_follows_its_arms_steps_and_the_holdout_gets_nothing(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    sequence = _path_sequence(acme)
    sid = sequence["id"]
    assert sequence["steps"] == []
    assert [len(a["steps"]) for a in sequence["experiments"][0]["arms"]] == [1, 2]
    contacts = [f"p-{i}" for i in range(40)]
    ok(acme.post(f"{V1}/sequences/{sid}/enroll/bulk", json={"contact_ids": contacts}))
    let_time_pass(runtime, clock, timedelta(days=1, hours=1), every=timedelta(hours=1))
    runtime.catch_up()
    seen = set()
    for e in all_enrollments(acme, sid):
        contact = e["contact_id"]
        sent = [(m["variant"], m["content"]) for m in message_requests(acme, runtime, contact)]
        if expected_holdout("acme", sid, contact, 20):
            assert (e["holdout"], sent, e["status"]) == (True, [], "completed")
            history = ok(acme.get(f"{V1}/enrollments/{e['id']}/history"))["items"]
            skipped = [h["data"] for h in history if h["type"] == "enrollment.step_skipped"]
            assert [s["reason"] for s in skipped] == ["holdout"]
            # One due time: the first arm's nominal delays (none) after enrolling.
            assert e["completed_at"] == e["enrolled_at"]
            seen.add("holdout")
            continue
        arm = expected_arm("acme", sid, "paths", contact, {"short": 30, "long": 70})
        assert e["assignments"] == {"paths": {"arm": arm, "by": "split"}}
        assert sent == ([("short", "Short only")] if arm == "short" else
                        [("long", "Long one"), ("long", "Long two")])
        seen.add(arm)
    assert seen == {"holdout", "short", "long"}


def test_a_path_experiment_has_no_top_level_steps_and_no_other_experiment(
        acme: TestClient) -> None:
    both = acme.post(f"{V1}/sequences", json={
        "name": "Paths", "steps": [step(0, "Own")], "experiments": [PATH]})
    assert both.status_code == 422
    assert [e["field"] for e in both.json()["errors"]] == ["steps"]
    draft = ok(acme.post(f"{V1}/sequences", json={"name": "Paths", "experiments": [PATH]}),
               201)
    added = acme.post(f"{V1}/sequences/{draft['id']}/steps", json=step(0, "Own"))
    assert [e["field"] for e in added.json()["errors"]] == ["steps"]
    two = acme.put(f"{V1}/sequences/{draft['id']}",
                   json={"experiments": [PATH, {**PATH, "id": "other"}]})
    assert [e["field"] for e in two.json()["errors"]] == ["experiments"]
    bad_arm = acme.put(f"{V1}/sequences/{draft['id']}", json={"experiments": [
        {**PATH, "arms": [{"key": "x", "weight": 100, "steps": []}, ARMS[1]]}]})
    assert [e["field"] for e in bad_arm.json()["errors"]] == ["experiments[0].arms[0].steps"]


def test_the_holdout_counts_for_conversions_so_lift_is_measurable(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    goal = {"event_type": "custom_event", "match": {"name": "purchase"}}
    sid = _path_sequence(acme, goal=goal)["id"]
    contacts = [f"p-{i}" for i in range(60)]  # some held out: all but certain (1 - 0.8^60)
    ok(acme.post(f"{V1}/sequences/{sid}/enroll/bulk", json={"contact_ids": contacts}))
    held = [c for c in contacts if expected_holdout("acme", sid, c, 20)]
    treated = [c for c in contacts if c not in held]
    assert len(held) >= 1
    assert len(treated) >= 2
    clock.set(clock() + timedelta(hours=1))
    for contact in (held[0], *treated[:2]):
        post_event(acme, f"buy-{contact}", "custom_event", contact, {"name": "purchase"},
                   clock() - timedelta(minutes=1))
    runtime.catch_up()
    [view] = ok(acme.get(f"{V1}/sequences/{sid}/experiments"))["items"]
    assert view["holdout"] == {"assigned": len(held), "converted": 1,
                               "conversion_rate": round(1 / len(held), 3)}
    conversions = ok(acme.get(f"{V1}/conversions", params={"sequence_id": sid}))["items"]
    arms = {c: expected_arm("acme", sid, "paths", c, {"short": 30, "long": 70})
            for c in treated[:2]}
    assert sorted((c["contact_id"], c["holdout"], c["variant"]) for c in conversions) == sorted(
        [(held[0], True, None), *((c, False, arms[c]) for c in treated[:2])])
