"""A/B testing, assignment (CAPABILITIES §1, acceptance checks 1 and 5): 10,000 contacts
enrolled in bulk into a 50/50 content test with a 10 % holdout land exactly where the
documented SHA-256 formula (computed here) puts them; the holdout gets no message and
completes, skipped ``holdout``; contacts enrolled again keep their arm. Bad weights and a
conversion metric without a goal are refused naming the field."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from tests.api.conftest import V1, ok
from tests.promises.ab_support import (
    ab_sequence,
    all_enrollments,
    expected_arm,
    expected_holdout,
    experiment,
)
from tests.promises.support import cold_lead_sequence, run_scheduler, step, tagged_cold_lead

CONTACTS = [f"c-{i}" for i in range(10_000)]
WEIGHTS = {"A": 50, "B": 50}


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url  # 10,000 enrollments: the formula is the same on either store


def _check(items: list[dict[str, Any]], sequence_id: str) -> None:
    for e in items:
        held = expected_holdout("acme", sequence_id, e["contact_id"], 10)
        assert e["holdout"] is held, e
        if held:
            assert e["assignments"] == {}
        else:
            arm = expected_arm("acme", sequence_id, "subject-test", e["contact_id"], WEIGHTS)
            assert e["assignments"] == {"subject-test": {"arm": arm, "by": "split"}}, e


def test_bulk_enrollment_splits_by_the_documented_formula_and_the_holdout_gets_nothing(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    sequence = ab_sequence(acme, [step(0, "Original", minutes=60)], tested=0, holdout=10,
                           reenrollment="always")
    sid = sequence["id"]
    bulk = ok(acme.post(f"{V1}/sequences/{sid}/enroll/bulk", json={"contact_ids": CONTACTS}))
    assert bulk["enrolled_count"] == 10_000
    runtime.catch_up()
    items = all_enrollments(acme, sid)
    assert len(items) == 10_000
    _check(items, sid)
    held = [e for e in items if e["holdout"]]
    arms = Counter(e["assignments"]["subject-test"]["arm"] for e in items if not e["holdout"])
    assert abs(len(held) / 10_000 - 0.10) <= 0.015
    assert abs(arms["A"] / (10_000 - len(held)) - 0.5) <= 0.02

    # 100 contacts leave and come back: the same arm (and holdout) as before.
    again = items[:100]
    for e in again:
        ok(acme.post(f"{V1}/enrollments/{e['id']}/exit", json={}))
    ok(acme.post(f"{V1}/sequences/{sid}/enroll/bulk",
                 json={"contact_ids": [e["contact_id"] for e in again]}))
    runtime.catch_up()
    second = {e["contact_id"]: e for e in all_enrollments(acme, sid) if e["number"] == 2}
    assert len(second) == 100
    for e in again:
        assert (second[e["contact_id"]]["holdout"], second[e["contact_id"]]["assignments"]) == (
            e["holdout"], e["assignments"])

    clock.set(clock() + timedelta(hours=1))
    while run_scheduler(runtime):
        pass
    runtime.catch_up()
    messages = []
    page = 1
    while True:
        found = ok(acme.get(f"{V1}/messages", params={"sequence_id": sid, "page": page,
                                                      "limit": 500}))
        messages += found["items"]
        if len(messages) >= found["total"]:
            break
        page += 1
    by_contact = {m["contact_id"]: m for m in messages}
    for e in all_enrollments(acme, sid):
        if e["status"] == "exited":
            continue
        if e["holdout"]:
            assert e["contact_id"] not in by_contact
            assert e["status"] == "completed"
        else:
            arm = e["assignments"]["subject-test"]["arm"]
            sent = by_contact[e["contact_id"]]
            assert (sent["variant"], sent["content"]) == (arm, f"Hi {arm}")


def test_weights_not_summing_to_100_and_a_conversion_test_without_a_goal_are_422s(
        acme: TestClient) -> None:
    draft = ok(acme.post(f"{V1}/sequences", json={"name": "AB", "steps": [step(0, "x")]}), 201)
    step_id = draft["steps"][0]["id"]
    url = f"{V1}/sequences/{draft['id']}"
    bad = acme.put(url, json={"experiments": [experiment(step_id, weights=(50, 40))]})
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["experiments[0].arms"]
    no_goal = acme.put(url, json={"experiments": [experiment(step_id, metric="conversion")]})
    assert no_goal.status_code == 422
    assert [e["field"] for e in no_goal.json()["errors"]] == ["experiments[0].metric"]
    assert ok(acme.get(url))["experiments"] == []
    # With a goal, the same conversion test is accepted.
    goal = {"event_type": "custom_event", "match": {"name": "purchase"}}
    ok(acme.put(url, json={"goal": goal,
                           "experiments": [experiment(step_id, metric="conversion")]}))
    assert [x["metric"] for x in ok(acme.get(url))["experiments"]] == ["conversion"]
    # auto_winner null is the default rules, as absent is.
    nulled = {**experiment(step_id), "auto_winner": None}
    ok(acme.put(url, json={"experiments": [nulled]}))
    assert ok(acme.get(url))["experiments"][0]["auto_winner"]["enabled"] is True
    wrong_step = acme.put(url, json={"experiments": [experiment(draft["id"])]})
    assert [e["field"] for e in wrong_step.json()["errors"]] == ["experiments[0].step_id"]


def test_a_trigger_enrollment_keeps_its_arm_when_the_contact_is_enrolled_again(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    draft = ok(acme.post(f"{V1}/sequences", json={
        **cold_lead_sequence(step(0, "Original", minutes=60)),
        "reenrollment": {"policy": "always"}}), 201)
    test = experiment(draft["steps"][0]["id"])
    ok(acme.put(f"{V1}/sequences/{draft['id']}", json={"experiments": [test]}))
    sid = ok(acme.post(f"{V1}/sequences/{draft['id']}/activate"))["id"]
    contacts = [f"t-{i}" for i in range(20)]
    for contact in contacts:
        assert tagged_cold_lead(acme, f"tag-{contact}", contact, clock())["outcome"] == "applied"
    runtime.catch_up()
    first = {e["contact_id"]: e for e in all_enrollments(acme, sid)}
    assert sorted(first) == sorted(contacts)
    for contact, e in first.items():
        arm = expected_arm("acme", sid, "subject-test", contact, WEIGHTS)
        assert e["assignments"] == {"subject-test": {"arm": arm, "by": "split"}}
        ok(acme.post(f"{V1}/enrollments/{e['id']}/exit", json={}))
    clock.set(clock() + timedelta(minutes=1))
    for contact in contacts:
        tagged_cold_lead(acme, f"tag-again-{contact}", contact, clock())
    runtime.catch_up()
    second = {e["contact_id"]: e for e in all_enrollments(acme, sid) if e["number"] == 2}
    assert sorted(second) == sorted(contacts)
    for contact, e in second.items():
        assert e["assignments"] == first[contact]["assignments"]
