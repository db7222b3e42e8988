"""Replacing a draft's steps in one write (``PUT …/steps``, and ``…/revisions/{n}/steps``):
swaps, additions, changes and removals together; all or nothing, with a 422 naming the item;
the single-step routes' events, one per step that changes, so the read models follow."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from dripline.bootstrap import Runtime
from tests.api.conftest import V1, build_sequence, ok

STEPS = [{"order": n, "name": f"s{n}", "delay_amount": n, "delay_unit": "hours",
          "message_template": {"type": "text", "content": f"step {n}"}} for n in range(3)]


def draft(client: TestClient) -> dict[str, Any]:
    return dict(ok(client.post(f"{V1}/sequences", json={"name": "Draft", "steps": STEPS}), 201))


def listed(sequence: dict[str, Any]) -> list[dict[str, Any]]:
    """The steps as a client sends them back: each with its id, without provenance."""
    return [{k: v for k, v in s.items() if k != "source_template"} for s in sequence["steps"]]


def put_steps(client: TestClient, path: str, steps: list[Any], version: int | None = None,
              status: int = 200) -> Any:
    headers = {"If-Match": f'"{version}"'} if version is not None else {}
    return ok(client.put(f"{path}/steps", json={"steps": steps}, headers=headers), status)


def head(runtime: Runtime) -> int:
    return runtime.app.recorder.max_notification_id() or 0


def test_two_steps_swap_places_in_one_call(acme: TestClient, runtime: Runtime) -> None:
    sequence = draft(acme)
    path = f"{V1}/sequences/{sequence['id']}"
    s0, s1, s2 = listed(sequence)
    before = head(runtime)
    answer = acme.put(f"{path}/steps", json={"steps": [
        {**s1, "order": 0}, {**s0, "order": 1}, s2]},
        headers={"If-Match": str(sequence["version"])})
    swapped = ok(answer)
    assert [(s["id"], s["order"]) for s in swapped["steps"]] == [
        (s1["id"], 0), (s0["id"], 1), (s2["id"], 2)]
    # One event per step that changed; the unchanged third records none.
    assert swapped["version"] == sequence["version"] + 2
    assert head(runtime) == before + 2
    assert answer.headers["ETag"] == f'"{swapped["version"]}"'
    assert ok(acme.get(path)) == swapped


def test_add_change_and_remove_in_one_call_and_the_read_model_follows(
        acme: TestClient, runtime: Runtime) -> None:
    sequence = draft(acme)
    path = f"{V1}/sequences/{sequence['id']}"
    s0, s1, _ = listed(sequence)
    new = {"order": 1, "name": "new", "delay_amount": 2, "delay_unit": "days",
           "message_template": {"type": "text", "content": "Hi {{contact.name}}"}}
    changed = {**s1, "order": 2, "message_template": {**s1["message_template"],
                                                       "content": "step 1, edited"}}
    saved = put_steps(acme, path, [s0, new, changed], sequence["version"])
    assert [s["name"] for s in saved["steps"]] == ["s0", "new", "s1"]
    assert saved["steps"][0] == sequence["steps"][0]  # kept as it was
    assert saved["steps"][2]["id"] == s1["id"]
    assert saved["steps"][2]["message_template"]["content"] == "step 1, edited"
    assert saved["steps"][1]["id"] not in {s["id"] for s in sequence["steps"]}
    assert saved["version"] == sequence["version"] + 3  # removed, changed, added
    runtime.catch_up()
    [row] = [s for s in ok(acme.get(f"{V1}/sequences"))["items"] if s["id"] == sequence["id"]]
    assert row["steps"] == saved["steps"]
    # The steps' statistics follow the ids once it is live.
    activated = ok(acme.post(f"{path}/activate", headers={"If-Match": str(saved["version"])}))
    runtime.catch_up()
    funnel = ok(acme.get(f"{path}/stats"))["steps"]
    assert [(f["step_order"], f["step_id"]) for f in funnel] == [
        (s["order"], s["id"]) for s in activated["steps"]]


def test_the_same_list_again_records_nothing(acme: TestClient, runtime: Runtime) -> None:
    sequence = draft(acme)
    before = head(runtime)
    again = put_steps(acme, f"{V1}/sequences/{sequence['id']}", listed(sequence),
                      sequence["version"])
    assert (again["version"], head(runtime)) == (sequence["version"], before)


def _unchanged(client: TestClient, runtime: Runtime, sequence: dict[str, Any],
               before: int) -> None:
    shown = ok(client.get(f"{V1}/sequences/{sequence['id']}"))
    assert (shown["version"], shown["steps"]) == (sequence["version"], sequence["steps"])
    assert head(runtime) == before


def test_a_bad_third_item_changes_nothing(acme: TestClient, runtime: Runtime) -> None:
    sequence = draft(acme)
    path = f"{V1}/sequences/{sequence['id']}"
    s0, s1, s2 = listed(sequence)
    before = head(runtime)
    # Refused by the schema: a negative delay.
    problem = put_steps(acme, path, [{**s1, "order": 0}, {**s0, "order": 1},
                                     {**s2, "delay_amount": -1}], sequence["version"], 422)
    assert problem["field"] == "steps[2].delay_amount"
    assert [e["field"] for e in problem["errors"]] == ["steps[2].delay_amount"]
    _unchanged(acme, runtime, sequence, before)
    # Refused by the domain: a template that cannot be rendered, on a new step.
    unrenderable = {k: v for k, v in s2.items() if k != "id"}
    unrenderable.update(order=3, message_template={"type": "text",
                                                   "content": "Hi {{contact."})
    problem = put_steps(acme, path, [{**s1, "order": 0}, {**s0, "order": 1}, unrenderable],
                        sequence["version"], 422)
    assert problem["field"] == "steps[2].message_template.content"
    assert problem["errors"][0]["field"] == "steps[2].message_template.content"
    _unchanged(acme, runtime, sequence, before)
    # A text message without content: the schema lets it pass, the domain names it.
    empty = {**unrenderable, "message_template": {"type": "text", "content": ""}}
    problem = put_steps(acme, path, [s0, s1, empty], sequence["version"], 422)
    assert problem["field"] == "steps[2].message_template.content"
    _unchanged(acme, runtime, sequence, before)


def test_ids_must_be_the_drafts_and_each_listed_once(acme: TestClient,
                                                     runtime: Runtime) -> None:
    sequence = draft(acme)
    other = draft(acme)
    path = f"{V1}/sequences/{sequence['id']}"
    s0, s1, s2 = listed(sequence)
    before = head(runtime)
    foreign = {**listed(other)[1], "order": 1}  # a step of another sequence
    problem = put_steps(acme, path, [s0, foreign, s2], sequence["version"], 422)
    assert problem["field"] == "steps[1].id"
    assert "leave id out for a new step" in problem["detail"]
    problem = put_steps(acme, path, [s0, s1, {**s1, "order": 2}], sequence["version"], 422)
    assert (problem["field"], "listed twice" in problem["detail"]) == ("steps[2].id", True)
    problem = put_steps(acme, path, [s0, {**s1, "id": "not-a-uuid"}], sequence["version"], 422)
    assert problem["field"] == "steps[1].id"
    # Orders are checked on the final list.
    problem = put_steps(acme, path, [s0, {**s1, "order": 0}], sequence["version"], 422)
    assert problem["field"] == "steps[1].order"
    problem = put_steps(acme, path, [{**s0, "order": n} for n in range(101)],
                        sequence["version"], 422)
    assert problem["field"] == "steps"
    _unchanged(acme, runtime, sequence, before)


def test_a_stale_if_match_is_412_and_changes_nothing(acme: TestClient,
                                                     runtime: Runtime) -> None:
    sequence = draft(acme)
    path = f"{V1}/sequences/{sequence['id']}"
    s0, _, _ = listed(sequence)
    renamed = ok(acme.put(path, json={"name": "Renamed"},
                          headers={"If-Match": str(sequence["version"])}))
    before = head(runtime)
    problem = put_steps(acme, path, [s0], sequence["version"], 412)
    assert problem["status"] == 412
    shown = ok(acme.get(path))
    assert (shown["version"], shown["steps"]) == (renamed["version"], sequence["steps"])
    assert head(runtime) == before


def test_an_active_sequence_answers_as_the_single_step_routes_do(acme: TestClient) -> None:
    sequence = build_sequence(acme, {"name": "Live", "steps": STEPS})
    path = f"{V1}/sequences/{sequence['id']}"
    s0, _, _ = listed(sequence)
    single = ok(acme.put(f"{path}/steps/{s0['id']}", json={"name": "x"}), 409)
    whole = put_steps(acme, path, [{**s0, "name": "x"}], status=409)
    assert whole["detail"].replace("change steps", "") == single["detail"].replace(
        "change steps", "")
    assert "create a revision" in whole["detail"]
    assert ok(acme.get(path))["steps"] == sequence["steps"]


def test_a_draft_revision_is_replaced_and_the_live_one_is_not(acme: TestClient) -> None:
    sequence = build_sequence(acme, {"name": "Live", "steps": STEPS})
    path = f"{V1}/sequences/{sequence['id']}"
    ok(acme.post(f"{path}/revisions", json={}), 201)
    current = ok(acme.get(f"{path}/revisions/2"))
    s0, s1, s2 = listed(current)
    answer = acme.put(f"{path}/revisions/2/steps", json={"steps": [
        {**s2, "order": 0}, {**s0, "order": 1, "name": "first, now second"}]},
        headers={"If-Match": str(current["version"])})
    revised = ok(answer)
    assert (revised["revision"], revised["status"]) == (2, "draft")
    assert [(s["id"], s["name"]) for s in revised["steps"]] == [
        (s2["id"], "s2"), (s0["id"], "first, now second")]
    assert answer.headers["ETag"] == f'"{current["version"] + 3}"'
    assert ok(acme.get(f"{path}/revisions/2"))["steps"] == revised["steps"]
    assert ok(acme.get(path))["steps"] == sequence["steps"]  # live: untouched
    # A published revision never changes, all at once no more than one by one.
    assert put_steps(acme, f"{path}/revisions/1", [s0], status=409)["status"] == 409
    # The draft's errors name the item as the sequence's do.
    problem = put_steps(acme, f"{path}/revisions/2", [s2, s1], status=422)
    assert problem["field"] == "steps[1].id"  # removed from the draft a moment ago


def test_a_step_from_a_template_keeps_its_provenance(acme: TestClient) -> None:
    sequence = draft(acme)
    path = f"{V1}/sequences/{sequence['id']}"
    s0, s1, s2 = listed(sequence)
    template = ok(acme.get(f"{V1}/templates/builtin:we-miss-you"))
    saved = put_steps(acme, path, [s0, {"template_id": template["id"], "order": 1,
                                        "overrides": {"delay_amount": 4}},
                                   {**s1, "order": 2}], sequence["version"])
    copied = saved["steps"][1]
    assert copied["source_template"] == {"id": "builtin:we-miss-you",
                                         "version": template["version"]}
    assert (copied["name"], copied["delay_amount"]) == (template["body"]["name"], 4)
    assert copied["message_template"] == {**template["body"]["message_template"]}
    # Kept by its id and edited: the provenance stays.
    kept = {k: v for k, v in copied.items() if k != "source_template"}
    edited = put_steps(acme, path, [s0, {**kept, "name": "Miss you, edited"}],
                       saved["version"])
    assert edited["steps"][1]["source_template"] == copied["source_template"]
    assert edited["steps"][1]["name"] == "Miss you, edited"
    assert s2["id"] not in {s["id"] for s in edited["steps"]}
    # A template item's own errors name it.
    problem = put_steps(acme, path, [s0, {"template_id": "builtin:nope", "order": 1}],
                        edited["version"], 422)
    assert problem["field"] == "steps[1].template_id"
    problem = put_steps(acme, path, [s0, {"template_id": "builtin:we-miss-you", "order": 1,
                                          "overrides": {"delay_unit": "weeks"}}],
                        edited["version"], 422)
    assert problem["field"] == "steps[1].overrides.delay_unit"
    # The first item that is wrong is the one named, whatever its form.
    empty = {**s0, "message_template": {"type": "text", "content": " "}}
    problem = put_steps(acme, path, [empty, {"template_id": "builtin:nope", "order": 1}],
                        edited["version"], 422)
    assert problem["field"] == "steps[0].message_template.content"


def test_the_rules_of_the_single_step_routes_hold(acme: TestClient) -> None:
    # A path experiment's revision has no steps of its own: the same 422 as adding one.
    arms = [{"key": k, "weight": 50, "steps": [STEPS[0]]} for k in "AB"]
    paths = ok(acme.post(f"{V1}/sequences", json={"name": "Paths", "experiments": [
        {"id": "paths", "kind": "path", "arms": arms}]}), 201)
    path = f"{V1}/sequences/{paths['id']}"
    one = ok(acme.post(f"{path}/steps", json=STEPS[0]), 422)
    whole = put_steps(acme, path, [STEPS[0]], status=422)
    assert (whole["field"], whole["detail"]) == (one["field"], one["detail"])
    assert put_steps(acme, path, [])["steps"] == []  # none of its own: fine
    # Removing the step a content test varies is allowed, as DELETE allows it; activating
    # then names the experiment.
    tested = draft(acme)
    path = f"{V1}/sequences/{tested['id']}"
    s0, s1, _ = listed(tested)
    content = [{"key": k, "weight": 50, "message_template": {"type": "text", "content": k}}
               for k in "AB"]
    ok(acme.put(path, json={"experiments": [{"id": "subject", "step_id": s1["id"],
                                             "arms": content}]}))
    put_steps(acme, path, [s0])
    assert ok(acme.post(f"{path}/activate"), 422)["field"] == "experiments[0].step_id"
