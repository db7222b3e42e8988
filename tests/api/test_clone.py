"""Cloning a sequence over HTTP: the new draft copies the live revision whole — steps under
new ids, journey settings, A/B tests (each pointing at the copy's own steps) and holdout —
and is a sequence of its own that activates, with events that replay to the same read
models."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from dripline.bootstrap import Runtime
from projections import replay
from projections.checksum import checksum
from tests.api.conftest import V1, ok


def _step(order: int, content: str, hours: int = 0) -> dict[str, Any]:
    return {"order": order, "name": f"Step {order}", "delay_amount": hours,
            "delay_unit": "hours", "message_template": {"type": "text", "content": content}}


AUTO = {"enabled": True, "min_exposures_per_arm": 50, "outcome_window_hours": 48,
        "alpha": 0.01, "evaluate_every_hours": 12, "max_looks": 3, "fallback": "best_observed"}
ARMS = [{"key": "plain", "weight": 40, "message_template": {"type": "text", "content": "Hi"}},
        {"key": "bold", "weight": 60, "message_template": {"type": "text", "content": "HI!"}}]
JOURNEY = {"exit_on_reply": False, "resume_policy": "skip_missed",
           "send_window": {"hours": [9, 10, 11], "weekdays": ["mon", "thu"],
                           "timezone": "Europe/Lisbon"},
           "goal": {"event_type": "pipeline_status_changed",
                    "match": {"pipeline_id": "p-1", "status": "won"}},
           "frequency_cap_exempt": True}
COPIED = ("exit_on_reply", "resume_policy", "send_window", "goal", "frequency_cap_exempt",
          "holdout_percent", "trigger_type", "trigger_data", "reenrollment", "description")


def _with_content_test(client: TestClient) -> dict[str, Any]:
    """An active sequence of three steps with a content test on its second, holdout 10."""
    draft = ok(client.post(f"{V1}/sequences", json={
        "name": "Tested", "description": "with a test", "steps": [
            _step(0, "one"), _step(1, "two", 24), _step(2, "three", 48)], **JOURNEY}), 201)
    second = draft["steps"][1]["id"]
    tested = ok(client.put(f"{V1}/sequences/{draft['id']}", json={
        "holdout_percent": 10, "experiments": [{
            "id": "subject", "kind": "content", "step_id": second, "metric": "conversion",
            "arms": ARMS, "auto_winner": AUTO}]}))
    assert tested["experiments"][0]["step_id"] == second
    return dict(ok(client.post(f"{V1}/sequences/{draft['id']}/activate")))


def _clone(client: TestClient, sequence_id: str) -> dict[str, Any]:
    return dict(ok(client.post(f"{V1}/sequences/{sequence_id}/clone", json={}), 201))


def _without_ids(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in s.items() if k != "id"} for s in steps]


def test_a_clone_keeps_the_content_test_on_its_own_second_step_and_the_holdout(
        acme: TestClient, runtime: Runtime) -> None:
    source = _with_content_test(acme)
    clone = _clone(acme, source["id"])
    assert (clone["status"], clone["name"]) == ("draft", "Tested (copy)")
    new_ids = [s["id"] for s in clone["steps"]]
    assert not set(new_ids) & {s["id"] for s in source["steps"]}
    assert _without_ids(clone["steps"]) == _without_ids(source["steps"])
    for key in COPIED:
        assert clone[key] == source[key], key
    assert clone["holdout_percent"] == 10
    [experiment] = clone["experiments"]
    assert experiment["step_id"] == new_ids[1]
    assert ({k: v for k, v in experiment.items() if k != "step_id"}
            == {k: v for k, v in source["experiments"][0].items() if k != "step_id"})
    assert (experiment["arms"], experiment["metric"]) == (source["experiments"][0]["arms"],
                                                          "conversion")
    assert experiment["auto_winner"] == AUTO
    # Shown again (as stored, not only as answered), then activated: the test fits the copy.
    assert ok(acme.get(f"{V1}/sequences/{clone['id']}"))["experiments"] == [experiment]
    active = ok(acme.post(f"{V1}/sequences/{clone['id']}/activate"))
    assert (active["status"], active["experiments"], active["holdout_percent"]) == (
        "active", [experiment], 10)
    # The source is untouched.
    assert ok(acme.get(f"{V1}/sequences/{source['id']}"))["experiments"] == source["experiments"]
    # Its events replay: the read models rebuilt from scratch are the ones projected live.
    runtime.catch_up()
    models = runtime.read_models
    live = {m.name: checksum(models.db, m) for m in models.models}
    for name in models.names():
        replay.rebuild(models, name)
    assert {m.name: checksum(models.db, m) for m in models.models} == live


def test_a_clone_of_a_path_experiment_gives_each_arm_new_step_ids(acme: TestClient) -> None:
    arms = [{"key": "short", "weight": 50, "steps": [_step(0, "short")]},
            {"key": "long", "weight": 50, "steps": [_step(0, "long 1"), _step(1, "long 2", 24)]}]
    draft = ok(acme.post(f"{V1}/sequences", json={
        "name": "Paths", "holdout_percent": 20, "experiments": [
            {"id": "paths", "kind": "path", "arms": arms, "auto_winner": {"enabled": False}}]}),
        201)
    source = ok(acme.post(f"{V1}/sequences/{draft['id']}/activate"))
    clone = _clone(acme, source["id"])
    assert (clone["steps"], clone["holdout_percent"]) == ([], 20)
    [was], [now] = source["experiments"], clone["experiments"]
    assert now["step_id"] is None
    assert ({k: v for k, v in now.items() if k != "arms"}
            == {k: v for k, v in was.items() if k != "arms"})
    for old_arm, new_arm in zip(was["arms"], now["arms"], strict=True):
        assert ({k: v for k, v in new_arm.items() if k != "steps"}
                == {k: v for k, v in old_arm.items() if k != "steps"})
        assert _without_ids(new_arm["steps"]) == _without_ids(old_arm["steps"])
        assert not {s["id"] for s in new_arm["steps"]} & {s["id"] for s in old_arm["steps"]}
    ids = [s["id"] for a in now["arms"] for s in a["steps"]]
    assert len(set(ids)) == len(ids) == 3
    active = ok(acme.post(f"{V1}/sequences/{clone['id']}/activate"))
    assert active["experiments"] == [now]


def test_a_clone_copies_the_live_revision_not_the_draft_one(acme: TestClient) -> None:
    source = _with_content_test(acme)
    base = f"{V1}/sequences/{source['id']}"
    ok(acme.post(f"{base}/revisions", json={}), 201)
    ok(acme.post(f"{base}/revisions/2/steps", json=_step(3, "four", 72)), 201)
    ok(acme.put(f"{base}/revisions/2", json={
        "holdout_percent": 30, "exit_on_reply": True, "experiments": []}))
    clone = _clone(acme, source["id"])
    assert _without_ids(clone["steps"]) == _without_ids(source["steps"])
    assert (clone["holdout_percent"], clone["exit_on_reply"]) == (10, False)
    assert clone["experiments"][0]["step_id"] == clone["steps"][1]["id"]


def test_a_clone_into_another_tenant_keeps_its_test_on_its_own_steps(
        acme: TestClient, globex: TestClient, runtime: Runtime) -> None:
    source = _with_content_test(acme)
    made = runtime.app.clone_sequence("acme", UUID(source["id"]), name="Theirs",
                                      target_tenant_id="globex")
    clone = ok(globex.get(f"{V1}/sequences/{made.id}"))
    assert (clone["name"], clone["holdout_percent"]) == ("Theirs", 10)
    assert clone["experiments"][0]["step_id"] == clone["steps"][1]["id"]
    assert clone["steps"][1]["id"] != source["steps"][1]["id"]
    assert ok(globex.post(f"{V1}/sequences/{made.id}/activate"))["status"] == "active"
    assert acme.get(f"{V1}/sequences/{made.id}").status_code == 404
