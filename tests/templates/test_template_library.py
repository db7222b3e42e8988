"""CAPABILITIES §5, the template library, through HTTP: built-ins, a tenant's templates,
sequences and steps copied from templates (with provenance), and previews that render exactly
what would be sent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from tests.api.conftest import V1, envelope, ok
from tests.promises.support import let_time_pass, message_requests, post_event

TEMPLATES = f"{V1}/templates"
GREETING = {"kind": "step", "name": "Greeting", "category": "nurture",
            "description": "Say hello", "delay_amount": 2, "delay_unit": "hours",
            "message_template": {"type": "text", "content": "Hi {{contact.name}}",
                                 "variables": {"contact.name": "friend"}}}


def _list(client: TestClient, runtime: Runtime, **params: Any) -> dict[str, Any]:
    runtime.catch_up()
    return dict(ok(client.get(TEMPLATES, params={"limit": 500, **params})))


def _problem_field(answer: Any, status: int) -> str:
    assert answer.status_code == status, answer.text
    problem = answer.json()
    return str(problem.get("field") or problem["errors"][0]["field"])


# --- check 1: the built-ins ----------------------------------------------------------------------

def test_built_ins_are_listed_by_category_and_kind(acme: TestClient, runtime: Runtime) -> None:
    onboarding = _list(acme, runtime, category="onboarding")
    assert onboarding["items"], "no onboarding built-ins"
    assert {t["source"] for t in onboarding["items"]} == {"builtin"}
    assert {t["category"] for t in onboarding["items"]} == {"onboarding"}
    patterns = _list(acme, runtime, kind="sequence")
    assert {t["id"]: len(t["body"]["steps"]) for t in patterns["items"]} == {
        "builtin:onboarding-welcome": 5, "builtin:lead-nurture": 3, "builtin:win-back": 4,
        "builtin:webinar-follow-up": 3}
    assert patterns["total"] == 4


def test_every_built_in_is_a_valid_template(acme: TestClient, runtime: Runtime) -> None:
    # What the API would refuse from a tenant, it must not ship: each built-in saved back as a
    # tenant template is accepted unchanged.
    for template in _list(acme, runtime, source="builtin")["items"]:
        copy = ok(acme.post(f"{TEMPLATES}/{template['id']}/clone", json={}), 201)
        assert copy["body"] == template["body"]
        assert copy["source"] == "tenant"
        assert copy["cloned_from"] == template["id"]


def test_search_and_paging_cover_built_ins_and_own_templates(
        acme: TestClient, runtime: Runtime) -> None:
    ok(acme.post(TEMPLATES, json={**GREETING, "name": "Zebra 100% greeting"}), 201)
    assert [t["name"] for t in _list(acme, runtime, q="100%")["items"]] == [
        "Zebra 100% greeting"]
    assert _list(acme, runtime, q="webinar")["total"] == 1
    everything = _list(acme, runtime)
    pages = [ok(acme.get(TEMPLATES, params={"limit": 3, "page": n}))
             for n in range(1, everything["total"] // 3 + 2)]
    assert [t["id"] for p in pages for t in p["items"]] == [
        t["id"] for t in everything["items"]]
    assert everything["items"][-1]["source"] == "tenant"


# --- check 2: a sequence from a built-in ---------------------------------------------------------

def test_lead_nurture_becomes_a_draft_that_activates_and_sends(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    sequence = ok(acme.post(f"{V1}/sequences/from-template",
                            json={"template_id": "builtin:lead-nurture", "name": "Nurture"}),
                  201)
    assert sequence["status"] == "draft"
    assert [(s["order"], s["delay_amount"], s["delay_unit"]) for s in sequence["steps"]] == [
        (0, 5, "minutes"), (1, 2, "days"), (2, 5, "days")]
    assert {s["source_template"]["id"] for s in sequence["steps"]} == {"builtin:lead-nurture"}
    assert sequence["trigger_type"] == "tag_added"
    ok(acme.post(f"{V1}/sequences/{sequence['id']}/activate", json={}))
    post_event(acme, "tag-ana", "contact_updated", "ana", {"name": "Ana"}, clock())
    post_event(acme, "tag-ana-2", "tag_added", "ana",
               {"tag_id": "t1", "tag_name": "cold-lead"}, clock())
    let_time_pass(runtime, clock, timedelta(minutes=6))
    [sent] = message_requests(acme, runtime, "ana")
    assert sent["step_order"] == 0
    assert sent["content"].startswith("Hi Ana, I saw you're interested in our product.")


def test_from_template_refuses_what_it_cannot_use(acme: TestClient) -> None:
    made = f"{V1}/sequences/from-template"
    assert _problem_field(acme.post(made, json={"template_id": "builtin:nope",
                                                "name": "X"}), 422) == "template_id"
    assert _problem_field(acme.post(made, json={"template_id": "builtin:welcome-message",
                                                "name": "X"}), 422) == "template_id"
    assert _problem_field(acme.post(made, json={"template_id": "builtin:lead-nurture",
                                                "name": "X", "trigger_type": "form_submit"}),
                          422) == "trigger_data.form_id"


# --- check 3: a tenant's own templates -----------------------------------------------------------

def test_a_tenant_template_is_created_changed_and_deleted(
        acme: TestClient, globex: TestClient, runtime: Runtime) -> None:
    created = acme.post(TEMPLATES, json=GREETING)
    template = ok(created, 201)
    assert created.headers["ETag"] == '"1"'
    assert template["source"] == "tenant"
    url = f"{TEMPLATES}/{template['id']}"
    assert ok(acme.get(url))["body"]["message_template"]["content"] == "Hi {{contact.name}}"
    assert globex.get(url).status_code == 404
    assert globex.put(url, json={"name": "Mine"}).status_code == 404
    assert globex.delete(url).status_code == 404
    assert acme.put(url, json={"name": "Old"}, headers={"If-Match": '"7"'}).status_code == 412
    changed = ok(acme.put(url, json={"delay_amount": 3}, headers={"If-Match": '"1"'}))
    assert changed["version"] == 2
    assert changed["body"]["delay_amount"] == 3
    assert changed["body"]["name"] == "Greeting"  # the fields not given keep their values
    listed = _list(acme, runtime, source="tenant")
    assert [(t["id"], t["version"]) for t in listed["items"]] == [(template["id"], 2)]
    assert _list(globex, runtime, source="tenant")["items"] == []
    assert acme.delete(url, headers={"If-Match": '"2"'}).status_code == 204
    assert acme.get(url).status_code == 404
    assert _list(acme, runtime, source="tenant")["total"] == 0


def test_built_ins_are_read_only(acme: TestClient) -> None:
    url = f"{TEMPLATES}/builtin:welcome-message"
    assert ok(acme.get(url))["source"] == "builtin"
    for answer in (acme.put(url, json={"name": "Mine"}), acme.delete(url)):
        assert answer.status_code == 409, answer.text
        assert "clone it" in answer.json()["detail"]
    copy = ok(acme.post(f"{url}/clone", json={"name": "My welcome"}), 201)
    assert ok(acme.put(f"{TEMPLATES}/{copy['id']}", json={"category": "my-own"}))[
        "category"] == "my-own"


def test_templates_are_validated_like_steps(acme: TestClient) -> None:
    bad = {**GREETING, "message_template": {"type": "text", "content": "{{ x.__class__ }}"}}
    assert _problem_field(acme.post(TEMPLATES, json=bad), 422) == "message_template.content"
    assert _problem_field(acme.post(TEMPLATES, json={**GREETING, "category": "Bad Cat"}),
                          422) == "category"
    assert _problem_field(acme.post(TEMPLATES, json={**GREETING, "trigger_type": "manual"}),
                          422) == "trigger_type"
    no_steps = {"kind": "sequence", "name": "S", "category": "nurture", "steps": []}
    assert _problem_field(acme.post(TEMPLATES, json=no_steps), 422) == "steps"
    negative = {**GREETING, "delay_amount": -1}
    assert _problem_field(acme.post(TEMPLATES, json=negative), 422) == "delay_amount"
    assert acme.get(f"{TEMPLATES}/not-a-template").status_code == 404


# --- check 4: previews ---------------------------------------------------------------------------

def test_preview_renders_for_a_contact_an_unknown_one_and_an_inline_one(
        acme: TestClient, globex: TestClient, clock: ManualClock) -> None:
    template = ok(acme.post(TEMPLATES, json=GREETING), 201)
    url = f"{TEMPLATES}/{template['id']}/preview"
    post_event(acme, "ana-1", "contact_updated", "ana", {"name": "Ana"}, clock())
    ana = ok(acme.post(url, json={"contact_id": "ana"}))
    assert ana["rendered"]["content"] == "Hi Ana"
    assert ana["missing"] == []
    assert ana["contact_known"] is True
    stranger = ok(acme.post(url, json={"contact_id": "nobody"}))
    assert stranger["rendered"]["content"] == "Hi friend"
    assert stranger["missing"] == ["contact.name"]
    assert stranger["contact_known"] is False
    # Another tenant's contact is no contact: nothing of Ana leaks to globex.
    ok(globex.post("/api/v1/events", json=envelope(
        "zed-1", "contact_updated", "zed", {"name": "Zed"}, tenant="globex",
        at=clock().strftime("%Y-%m-%dT%H:%M:%SZ"))), 202)
    assert ok(acme.post(url, json={"contact_id": "zed"}))["rendered"]["content"] == "Hi friend"
    # A custom field called "name" is not the contact's name: the fallback shows, and says so.
    named = ok(acme.post(url, json={"contact": {"custom_fields": {"name": "X"}}}))
    assert named["rendered"]["content"] == "Hi friend"
    assert named["missing"] == ["contact.name"]
    inline = ok(acme.post(url, json={"contact": {"name": "Bea", "tags": ["vip"]}}))
    assert inline["rendered"]["content"] == "Hi Bea"
    assert inline["contact_known"] is True
    nobody = ok(acme.post(url, json={}))
    assert nobody["rendered"]["content"] == "Hi friend"
    assert nobody["missing"] == [
        "contact.name"]
    assert _problem_field(acme.post(url, json={"contact_id": "ana", "contact": {}}),
                          422) == "contact"


def test_preview_of_a_sequence_template_shows_every_step(acme: TestClient) -> None:
    shown = ok(acme.post(f"{TEMPLATES}/builtin:lead-nurture/preview",
                         json={"contact": {"name": "Ana"}}))
    assert [s["order"] for s in shown["steps"]] == [0, 1, 2]
    assert shown["rendered"] == shown["steps"][0]["rendered"]
    assert shown["rendered"]["content"].startswith("Hi Ana, I saw")


def test_preview_writes_nothing(acme: TestClient, runtime: Runtime) -> None:
    before = runtime.app.recorder.max_notification_id()
    ok(acme.post(f"{TEMPLATES}/builtin:welcome-message/preview", json={"contact_id": "ana"}))
    assert runtime.app.recorder.max_notification_id() == before


def test_a_step_preview_renders_the_step_as_it_would_be_sent(
        acme: TestClient, globex: TestClient, clock: ManualClock) -> None:
    sequence = ok(acme.post(f"{V1}/sequences/from-template",
                            json={"template_id": "builtin:lead-nurture", "name": "N"}), 201)
    first = sequence["steps"][0]
    url = f"{V1}/sequences/{sequence['id']}/steps/{first['id']}/preview"
    post_event(acme, "ana-1", "contact_updated", "ana", {"name": "Ana"}, clock())
    assert ok(acme.post(url, json={"contact_id": "ana"}))["rendered"]["content"].startswith(
        "Hi Ana,")
    ok(acme.post(f"{V1}/sequences/{sequence['id']}/activate", json={}))
    assert ok(acme.post(url, json={"contact_id": "ana"}))["contact_known"] is True
    assert globex.post(url, json={}).status_code == 404


def test_a_step_preview_renders_an_unsaved_edit_and_names_a_bad_one(acme: TestClient) -> None:
    sequence = ok(acme.post(f"{V1}/sequences/from-template",
                            json={"template_id": "builtin:lead-nurture", "name": "N"}), 201)
    first = sequence["steps"][0]
    url = f"{V1}/sequences/{sequence['id']}/steps/{first['id']}/preview"
    edit = {"type": "text", "content": "Bye {{contact.name}} at {{contact.email}}",
            "variables": {"contact.email": "your inbox"}}
    shown = ok(acme.post(url, json={"contact": {"name": "Ana"}, "message_template": edit}))
    assert shown["rendered"]["content"] == "Bye Ana at your inbox"
    assert shown["missing"] == ["contact.email"]
    bad = acme.post(url, json={"message_template": {"type": "text", "content": "{{contact."}})
    assert bad.status_code == 422
    assert bad.json()["field"].startswith("message_template")
    # The saved step is untouched: a preview writes nothing.
    stored = ok(acme.get(f"{V1}/sequences/{sequence['id']}"))["steps"][0]
    assert stored["message_template"] == first["message_template"]


# --- check 5: a step from a template is a copy ---------------------------------------------

def test_a_step_from_a_template_keeps_its_content_when_the_template_changes(
        acme: TestClient) -> None:
    template = ok(acme.post(TEMPLATES, json=GREETING), 201)
    draft = ok(acme.post(f"{V1}/sequences", json={"name": "Draft"}), 201)
    steps = f"{V1}/sequences/{draft['id']}/steps"
    added = ok(acme.post(steps, json={"template_id": template["id"], "order": 0,
                                      "overrides": {"name": "Hello"}}), 201)["step"]
    assert added["name"] == "Hello"
    assert added["delay_amount"] == 2
    assert added["source_template"] == {"id": template["id"], "version": 1}
    ok(acme.put(f"{TEMPLATES}/{template['id']}",
                json={"message_template": {"type": "text", "content": "Changed"}}))
    stored = ok(acme.get(f"{V1}/sequences/{draft['id']}"))["steps"][0]
    assert stored["message_template"]["content"] == "Hi {{contact.name}}"
    assert stored["source_template"] == {"id": template["id"], "version": 1}
    # Editing the step keeps where it came from.
    edited = ok(acme.put(f"{steps}/{added['id']}", json={"delay_amount": 1}))["step"]
    assert edited["source_template"] == {"id": template["id"], "version": 1}
    built_in = ok(acme.post(steps, json={"template_id": "builtin:setup-guide",
                                         "order": 1}), 201)["step"]
    assert built_in["delay_amount"] == 1
    assert built_in["delay_unit"] == "days"


def test_a_step_from_a_template_is_checked(acme: TestClient) -> None:
    draft = ok(acme.post(f"{V1}/sequences", json={"name": "Draft"}), 201)
    steps = f"{V1}/sequences/{draft['id']}/steps"
    assert _problem_field(acme.post(steps, json={"template_id": "builtin:lead-nurture",
                                                 "order": 0}), 422) == "template_id"
    assert _problem_field(acme.post(steps, json={"template_id": "builtin:setup-guide",
                                                 "order": 0,
                                                 "overrides": {"delay_amount": -1}}),
                          422) == "overrides.delay_amount"
    hostile = {"message_template": {"type": "text", "content": "{{ x.__class__ }}"}}
    assert _problem_field(acme.post(steps, json={"template_id": "builtin:setup-guide",
                                                 "order": 0, "overrides": hostile}),
                          422) == "overrides.message_template.content"
    assert _problem_field(acme.post(steps, json={"order": 0, "name": "x",
                                                 "delay_amount": -1,
                                                 "message_template": {"content": "x"}}),
                          422) == "delay_amount"


def test_a_draft_revision_takes_a_step_from_a_template(acme: TestClient) -> None:
    sequence = ok(acme.post(f"{V1}/sequences/from-template",
                            json={"template_id": "builtin:win-back", "name": "W"}), 201)
    ok(acme.post(f"{V1}/sequences/{sequence['id']}/activate", json={}))
    revisions = f"{V1}/sequences/{sequence['id']}/revisions"
    draft = ok(acme.post(revisions, json={}), 201)
    added = ok(acme.post(f"{revisions}/{draft['revision']}/steps",
                         json={"template_id": "builtin:vip-offer", "order": 9}), 201)["step"]
    assert added["source_template"] == {"id": "builtin:vip-offer", "version": 1}
    assert added["conditions"][0]["value"] == "vip"

