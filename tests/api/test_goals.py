"""Goals over HTTP (CAPABILITIES §3): set on a sequence and on a draft revision, shown,
copied, refused with the field named; conversions listed per tenant, filtered, and counted
in a sequence's conversion statistics."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, get_args

from fastapi.testclient import TestClient

from api.schemas.sequences import GoalEventType
from domain.clock import ManualClock
from domain.goals import GOAL_EVENT_TYPES
from dripline.bootstrap import Runtime
from tests.api.conftest import V1, build_sequence, envelope, ok

WON = {"event_type": "pipeline_status_changed",
       "match": {"pipeline_id": "p-1", "status": "won"}}
FULL_WON = {**WON, "attribution_window_hours": 168, "exit_on_goal": True}
PURCHASE = {"event_type": "custom_event", "match": {"name": "purchase",
                                                    "properties.plan": "pro"},
            "attribution_window_hours": 24, "exit_on_goal": False}
STEPS = [{"order": 0, "name": "Hello", "delay_amount": 0, "delay_unit": "minutes",
          "message_template": {"type": "text", "content": "Hello"}},
         {"order": 1, "name": "Later", "delay_amount": 3, "delay_unit": "days",
          "message_template": {"type": "text", "content": "Later"}}]


def won(contact: str, event_id: str, tenant: str = "acme",
        at: str = "2026-11-29T10:00:00Z") -> dict[str, Any]:
    return envelope(event_id, "pipeline_status_changed", contact,
                    {"pipeline_id": "p-1", "status": "won"}, tenant=tenant, at=at)


def test_the_schema_offers_exactly_the_goal_event_types() -> None:
    assert set(get_args(GoalEventType)) == set(GOAL_EVENT_TYPES)


def test_a_goal_is_set_shown_changed_removed_and_copied_to_a_revision(
        acme: TestClient, runtime: Runtime) -> None:
    created = ok(acme.post(f"{V1}/sequences", json={"name": "Deals", "goal": WON}), 201)
    assert created["goal"] == FULL_WON
    sequence_id = created["id"]
    changed = ok(acme.put(f"{V1}/sequences/{sequence_id}", json={"goal": PURCHASE}))
    assert changed["goal"] == PURCHASE
    assert ok(acme.get(f"{V1}/sequences/{sequence_id}"))["goal"] == PURCHASE
    assert ok(acme.put(f"{V1}/sequences/{sequence_id}", json={"goal": None}))["goal"] is None
    ok(acme.put(f"{V1}/sequences/{sequence_id}", json={"goal": WON}))
    ok(acme.post(f"{V1}/sequences/{sequence_id}/steps", json=STEPS[0]), 201)
    ok(acme.post(f"{V1}/sequences/{sequence_id}/activate"))
    ok(acme.put(f"{V1}/sequences/{sequence_id}", json={"goal": PURCHASE}), 409)

    draft = ok(acme.post(f"{V1}/sequences/{sequence_id}/revisions"), 201)
    assert draft["goal"] == FULL_WON  # copied from its base
    edited = ok(acme.put(f"{V1}/sequences/{sequence_id}/revisions/2", json={"goal": PURCHASE}))
    assert edited["goal"] == PURCHASE
    assert ok(acme.get(f"{V1}/sequences/{sequence_id}/revisions/1"))["goal"] == FULL_WON
    assert ok(acme.get(f"{V1}/sequences/{sequence_id}"))["goal"] == FULL_WON  # live: rev 1
    ok(acme.post(f"{V1}/sequences/{sequence_id}/revisions/2/publish"))
    assert ok(acme.get(f"{V1}/sequences/{sequence_id}"))["goal"] == PURCHASE
    ok(acme.put(f"{V1}/sequences/{sequence_id}/revisions/2", json={"goal": None}), 409)


def test_a_refused_goal_is_422_naming_the_field(acme: TestClient) -> None:
    for goal, field in (({"event_type": "message_opened", "match": {"a": "b"}},
                         "goal.event_type"),
                        ({"event_type": "contact_unsubscribed", "match": {"a": "b"}},
                         "goal.event_type"),
                        ({**WON, "match": {}}, "goal.match"),
                        ({**WON, "attribution_window_hours": 2161},
                         "goal.attribution_window_hours"),
                        ({**WON, "unknown": True}, "goal.unknown")):
        answer = ok(acme.post(f"{V1}/sequences", json={"name": "Bad", "goal": goal}), 422)
        assert [e["field"] for e in answer["errors"]] == [field], answer


def test_conversions_are_listed_filtered_and_counted(acme: TestClient, runtime: Runtime,
                                                     clock: ManualClock) -> None:
    deals = build_sequence(acme, {"name": "Deals", "goal": WON, "steps": STEPS})
    other = build_sequence(acme, {"name": "Other", "goal": WON, "steps": STEPS})
    enrolled = {c: ok(acme.post(f"{V1}/sequences/{deals['id']}/enroll",
                                json={"contact_id": c}), 201) for c in ("ana", "bob", "cy")}
    in_other = ok(acme.post(f"{V1}/sequences/{other['id']}/enroll",
                            json={"contact_id": "ana"}), 201)
    clock.advance(timedelta(hours=3))  # the goal events are in the past
    answer = ok(acme.post("/api/v1/events", json=[
        won("ana", "deal-ana"), won("bob", "deal-bob", at="2026-11-29T11:00:00Z")]), 202)
    assert answer["applied"] == 2

    runtime.catch_up()  # what `dripline project` does; `after` then answers at once
    listed = ok(acme.get(f"{V1}/conversions", params={"after": answer["position"]}))
    assert listed["total"] == 3
    by_enrollment = {i["enrollment_id"]: i for i in listed["items"]}
    first = by_enrollment[enrolled["ana"]["id"]]
    assert {k: first[k] for k in ("event_id", "event_type", "contact_id", "sequence_id",
                                  "step_order", "variant", "holdout", "revision")} == {
        "event_id": "deal-ana", "event_type": "pipeline_status_changed", "contact_id": "ana",
        "sequence_id": deals["id"], "step_order": 0, "variant": None, "holdout": False,
        "revision": 1}
    assert first["step_id"] == deals["steps"][0]["id"]
    assert first["message_id"] == f"{enrolled['ana']['id']}:0:1"
    assert first["occurred_at"].startswith("2026-11-29T10:00:00")
    ana = [i for i in listed["items"] if i["contact_id"] == "ana"]
    assert sum(i["exclusive"] for i in ana) == 1  # two sequences, one exclusive
    assert by_enrollment[in_other["id"]]["sequence_id"] == other["id"]

    def ids(**params: str) -> list[str]:
        found = ok(acme.get(f"{V1}/conversions", params=params))["items"]
        return sorted(i["enrollment_id"] for i in found)

    assert ids(contact_id="bob") == [enrolled["bob"]["id"]]
    assert ids(sequence_id=other["id"]) == [in_other["id"]]
    assert ids(**{"from": "2026-11-29T10:30:00Z"}) == [enrolled["bob"]["id"]]
    assert ids(**{"to": "2026-11-29T10:00:00Z"}) == sorted([enrolled["ana"]["id"],
                                                             in_other["id"]])
    assert ok(acme.get(f"{V1}/conversions", params={"limit": 1, "page": 2}))["items"] != []
    bad = ok(acme.get(f"{V1}/conversions", params={"from": "2026-11-30T00:00:00Z",
                                                    "to": "2026-11-29T00:00:00Z"}), 422)
    assert bad["errors"][0]["field"] == "to"

    converted = ok(acme.get(f"{V1}/enrollments/{enrolled['ana']['id']}"))
    assert (converted["status"], converted["exit_reason"]) == ("exited", "goal_reached")
    assert converted["converted_at"].startswith("2026-11-29T10:00:00")
    assert ok(acme.get(f"{V1}/enrollments/{enrolled['cy']['id']}"))["converted_at"] is None
    stats = ok(acme.get(f"{V1}/sequences/{deals['id']}/stats"))
    assert stats["exits_by_reason"] == {"goal_reached": 2}
    assert stats["conversions"]["converted"] == 2  # the stats answer carries the block
    assert stats["steps"][0]["converted"] == 2  # both last touched by step 0
    daily = ok(acme.get(f"{V1}/sequences/{deals['id']}/stats/daily",
                        params={"from": "2026-11-29", "to": "2026-11-29"}))["items"]
    assert [d["converted"] for d in daily] == [2]
    listed_enrollments = ok(acme.get(f"{V1}/sequences/{deals['id']}/enrollments"))["items"]
    assert sum(e["converted_at"] is not None for e in listed_enrollments) == 2

    block = runtime.queries.conversion_stats("acme", deals["id"])
    assert block == {"goal": FULL_WON, "converted": 2,
                     "converted_exclusive": block["converted_exclusive"],
                     "conversion_rate": 0.667, "avg_seconds_to_convert": 5400.0,
                     "holdout": {"enrolled": 0, "converted": 0, "conversion_rate": None},
                     "lift": None}
    other_block = runtime.queries.conversion_stats("acme", other["id"], revision=1)
    assert block["converted_exclusive"] + other_block["converted_exclusive"] == 2
    assert runtime.queries.conversion_stats("acme", deals["id"], revision=2)["goal"] is None


def test_another_tenant_sees_no_conversion(acme: TestClient, globex: TestClient,
                                           runtime: Runtime, clock: ManualClock) -> None:
    deals = build_sequence(acme, {"name": "Deals", "goal": WON, "steps": STEPS})
    ok(acme.post(f"{V1}/sequences/{deals['id']}/enroll", json={"contact_id": "ana"}), 201)
    mine = build_sequence(globex, {"name": "Theirs", "goal": WON, "steps": STEPS})
    ok(globex.post(f"{V1}/sequences/{mine['id']}/enroll", json={"contact_id": "ana"}), 201)
    clock.advance(timedelta(hours=1))
    ok(acme.post("/api/v1/events", json=won("ana", "deal-1")), 202)
    runtime.catch_up()
    assert ok(acme.get(f"{V1}/conversions"))["total"] == 1
    for params in ({}, {"contact_id": "ana"}, {"sequence_id": deals["id"]}):
        assert ok(globex.get(f"{V1}/conversions", params=params))["items"] == []
    # The same CRM event id and contact in globex is globex's own conversion.
    ok(globex.post("/api/v1/events", json=won("ana", "deal-1", tenant="globex")), 202)
    runtime.catch_up()
    [theirs] = ok(globex.get(f"{V1}/conversions"))["items"]
    assert theirs["sequence_id"] == mine["id"]
    assert ok(acme.get(f"{V1}/conversions"))["total"] == 1
    assert runtime.queries.conversion_stats("globex", deals["id"])["converted"] == 0
