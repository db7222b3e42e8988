"""Revisions over HTTP (CAPABILITIES §8): the routes' answers, their errors (404, 409, 412,
422 naming the field), a dry run that writes nothing, and a migration's progress."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from dripline.bootstrap import Runtime
from tests.api.conftest import V1, build_sequence, ok

STEPS = [{"order": n, "name": f"s{n}", "delay_amount": 1 if n else 0, "delay_unit": "hours",
          "message_template": {"type": "text", "content": f"step {n}"}} for n in range(3)]


def live(client: TestClient) -> dict[str, Any]:
    return build_sequence(client, {"name": "Nurture", "steps": STEPS})


def enroll(client: TestClient, sequence_id: str, contact: str) -> dict[str, Any]:
    return dict(ok(client.post(f"{V1}/sequences/{sequence_id}/enroll",
                               json={"contact_id": contact}), 201))


def test_a_revision_is_drafted_edited_and_published(acme: TestClient, runtime: Runtime) -> None:
    sequence = live(acme)
    base = f"{V1}/sequences/{sequence['id']}"
    assert (sequence["revision"], sequence["draft_revision"]) == (1, None)
    draft = ok(acme.post(f"{base}/revisions", json={}), 201)
    assert (draft["revision"], draft["status"], draft["base_revision"]) == (2, "draft", 1)
    assert [s["id"] for s in draft["steps"]] == [s["id"] for s in sequence["steps"]]
    assert ok(acme.post(f"{base}/revisions", json={}), 409)["status"] == 409  # one draft

    s1 = sequence["steps"][1]["id"]
    edited = ok(acme.put(f"{base}/revisions/2/steps/{s1}", json={
        "message_template": {"type": "text", "content": "step 1, edited"}}))
    assert edited["step"]["message_template"]["content"] == "step 1, edited"
    assert edited["sequence"]["steps"][1]["message_template"]["content"] == "step 1"  # live
    settings = ok(acme.put(f"{base}/revisions/2", json={"exit_on_reply": False}))
    assert settings["exit_on_reply"] is False
    published = ok(acme.post(f"{base}/revisions/2/publish", json={}))
    assert published["migration"]["id"] is None
    assert published["dry_run"] is False

    shown = ok(acme.get(base))
    assert (shown["revision"], shown["draft_revision"], shown["exit_on_reply"]) == (2, None,
                                                                                   False)
    assert shown["steps"][1]["message_template"]["content"] == "step 1, edited"
    # A published revision never changes.
    assert ok(acme.put(f"{base}/revisions/1/steps/{s1}", json={"name": "x"}), 409)
    assert ok(acme.put(f"{base}/revisions/2", json={"exit_on_reply": True}), 409)
    assert ok(acme.delete(f"{base}/revisions/2"), 409)
    assert "create a revision" in ok(acme.put(base, json={"name": "x"}), 409)["detail"]
    runtime.catch_up()
    listed = ok(acme.get(f"{base}/revisions"))["items"]
    assert [(r["revision"], r["status"], r["retired"]) for r in listed] == [
        (2, "live", False), (1, "retired", True)]
    second_page = ok(acme.get(f"{base}/revisions", params={"page": 2, "limit": 1}))
    assert [r["revision"] for r in second_page["items"]] == [1]
    assert (second_page["total"], second_page["page"]) == (2, 2)
    assert ok(acme.put(f"{base}/revisions/1", json={}), 409)  # nothing to change: still 409


def test_publish_errors_name_what_is_wrong(acme: TestClient, runtime: Runtime) -> None:
    sequence = live(acme)
    base = f"{V1}/sequences/{sequence['id']}"
    enrolled = enroll(acme, sequence["id"], "c-1")
    assert enrolled["revision"] == 1
    s1 = sequence["steps"][1]["id"]
    draft = ok(acme.post(f"{base}/revisions"), 201)
    ok(acme.delete(f"{base}/revisions/2/steps/{s1}"))
    # c-1 waits at s1, which revision 2 no longer has.
    refused = ok(acme.post(f"{base}/revisions/2/publish", json={"migrate": {"step_map": {}}}),
                 422)
    assert f"migrate.step_map.{s1}" in str(refused)
    bad = ok(acme.post(f"{base}/revisions/2/publish", json={"migrate": {
        "step_map": {s1: {"to": s1}}}}), 422)
    assert f"migrate.step_map.{s1}.to" in str(bad)
    unknown = ok(acme.post(f"{base}/revisions/2/publish", json={"migrate": {
        "step_map": {s1: {"exit": True}, "00000000-0000-0000-0000-000000000000": {"exit": True}}}}),
        422)
    assert "migrate.step_map.00000000-0000-0000-0000-000000000000" in str(unknown)
    stale = acme.post(f"{base}/revisions/2/publish", json={},
                      headers={"If-Match": str(draft["version"] - 1)})
    assert stale.status_code == 412, stale.text
    assert ok(acme.get(f"{base}/revisions/2/migration"), 404)
    assert ok(acme.get(f"{base}/revisions/9"), 404)


def test_a_dry_run_writes_nothing_and_says_what_would_move(acme: TestClient,
                                                           runtime: Runtime) -> None:
    sequence = live(acme)
    base = f"{V1}/sequences/{sequence['id']}"
    for n in range(3):
        enroll(acme, sequence["id"], f"c-{n}")
    s1, s2 = sequence["steps"][1]["id"], sequence["steps"][2]["id"]
    ok(acme.post(f"{base}/revisions"), 201)
    ok(acme.delete(f"{base}/revisions/2/steps/{s1}"))
    added = ok(acme.post(f"{base}/revisions/2/steps", json={
        **STEPS[1], "name": "s1 prime",
        "message_template": {"type": "text", "content": "step 1 prime"}}), 201)
    prime = added["step"]["id"]
    head = runtime.app.recorder.max_notification_id()
    migrate = {"step_map": {s1: {"to": prime}, s2: {"exit": True}}}
    dry = ok(acme.post(f"{base}/revisions/2/publish", json={"migrate": migrate,
                                                             "dry_run": True}))
    assert dry["dry_run"] is True
    assert dry["migration"]["planned"] == [{"from_step": s1, "to_step": prime, "count": 3}]
    assert (dry["migration"]["conflicts"], dry["migration"]["pinned"]) == ([], 0)
    assert runtime.app.recorder.max_notification_id() == head
    assert ok(acme.get(base))["revision"] == 1

    done = ok(acme.post(f"{base}/revisions/2/publish", json={"migrate": migrate}))
    assert done["migration"]["id"]
    assert ok(acme.get(f"{base}/revisions/2/migration"))["done"] is False
    while runtime.app.revisions.run_migrations():
        pass
    progress = ok(acme.get(f"{base}/revisions/2/migration"))
    assert {k: progress[k] for k in ("total", "migrated", "exited", "conflicts", "done")} == {
        "total": 3, "migrated": 3, "exited": 0, "conflicts": 0, "done": True}
    runtime.catch_up()
    enrollments = ok(acme.get(f"{base}/enrollments"))["items"]
    assert {e["revision"] for e in enrollments} == {2}
    # Stats by step id: s0 keeps one history across both revisions; s1 stays in revision 1's.
    every = {f["step_id"]: f for f in ok(acme.get(f"{base}/stats"))["steps"]}
    s0 = sequence["steps"][0]["id"]
    assert (every[s0]["reached"], every[s0]["message_requested"]) == (3, 3)
    assert (every[s1]["reached"], every[prime]["reached"]) == (3, 3)
    second = ok(acme.get(f"{base}/stats", params={"revision": 2}))
    assert second["revision"] == 2
    assert {f["step_id"] for f in second["steps"]} == {s0, prime, s2}
    assert {f["step_id"]: f["reached"] for f in second["steps"]}[prime] == 3
    assert ok(acme.get(f"{base}/stats", params={"revision": 9}), 404)


def test_another_tenant_sees_no_revision(acme: TestClient, globex: TestClient) -> None:
    sequence = live(acme)
    base = f"{V1}/sequences/{sequence['id']}"
    assert ok(acme.post(f"{base}/revisions", json={"from_revision": 7}), 404)
    assert ok(globex.post(f"{base}/revisions"), 404)
    ok(acme.post(f"{base}/revisions"), 201)
    assert ok(globex.get(f"{base}/revisions/2"), 404)
    assert ok(globex.post(f"{base}/revisions/2/publish", json={}), 404)
    assert ok(globex.get(f"{base}/revisions/1/migration"), 404)
