"""Every operation of the API, taken from its own OpenAPI document so that a new route cannot
escape: no key or a wrong key is 401; another tenant's key on acme's ids is 404 (or, where
there is no id, shows nothing of acme's) — and acme's own key then succeeds, so the 404 is
about the tenant and not about the request."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import V1, build_sequence, envelope, ok, spec_app

PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")}
REVISIONS = "/api/v1/automation/sequences/{sequence_id}/revisions"
TEMPLATES = "/api/v1/automation/templates"
EXPERIMENTS = "/api/v1/automation/sequences/{sequence_id}/experiments"
SETTINGS = "/api/v1/automation/settings"
STEP = {"order": 5, "name": "Extra", "delay_amount": 1, "delay_unit": "days",
        "message_template": {"type": "text", "content": "Hello {{contact.name}}"}}
# A valid body for every operation that takes one; a new one without an entry fails here.
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/v1/automation/sequences"): {"name": "New"},
    ("PUT", "/api/v1/automation/sequences/{sequence_id}"): {"name": "Renamed"},
    ("POST", "/api/v1/automation/sequences/{sequence_id}/activate"): {},
    ("POST", "/api/v1/automation/sequences/{sequence_id}/clone"): {"name": "Copy"},
    ("POST", "/api/v1/automation/sequences/{sequence_id}/steps"): STEP,
    ("PUT", "/api/v1/automation/sequences/{sequence_id}/steps/{step_id}"): {"name": "Re"},
    ("PUT", "/api/v1/automation/sequences/{sequence_id}/steps"): {"steps": [STEP]},
    ("POST", "/api/v1/automation/sequences/{sequence_id}/enroll"): {"contact_id": "new-1"},
    ("POST", "/api/v1/automation/sequences/{sequence_id}/enroll/bulk"): {
        "contact_ids": ["new-2", "new-3"]},
    ("POST", "/api/v1/automation/enrollments/{enrollment_id}/exit"): {"reason": "manual_exit"},
    ("POST", "/api/v1/events"): envelope("evt-iso", "tag_added", "dan", {"tag_name": "x"}),
    ("POST", f"{REVISIONS}"): {},
    ("PUT", f"{REVISIONS}/{{number}}"): {"exit_on_reply": False},
    ("POST", f"{REVISIONS}/{{number}}/steps"): STEP,
    ("PUT", f"{REVISIONS}/{{number}}/steps/{{step_id}}"): {"name": "Re"},
    ("PUT", f"{REVISIONS}/{{number}}/steps"): {"steps": [STEP]},
    ("POST", f"{REVISIONS}/{{number}}/publish"): {},
    ("POST", f"{TEMPLATES}"): {"kind": "step", "name": "T", "category": "nurture",
                               "message_template": {"content": "Hi"}},
    ("PUT", f"{TEMPLATES}/{{template_id}}"): {"name": "Renamed"},
    ("POST", f"{TEMPLATES}/{{template_id}}/clone"): {},
    ("POST", f"{TEMPLATES}/{{template_id}}/preview"): {"contact_id": "ana"},
    ("POST", "/api/v1/automation/sequences/from-template"): {
        "template_id": "builtin:win-back", "name": "From a template"},
    ("POST", "/api/v1/automation/sequences/{sequence_id}/steps/{step_id}/preview"): {
        "contact_id": "ana"},
    ("POST", f"{EXPERIMENTS}/{{experiment_id}}/conclude"): {"winner": "B"},
    ("PUT", SETTINGS): {"timezone": "Asia/Tokyo"},
}
# Operations on a draft act on the draft; the others on the active sequence.
ON_DRAFT = {"/api/v1/automation/sequences/{sequence_id}",
            "/api/v1/automation/sequences/{sequence_id}/activate",
            "/api/v1/automation/sequences/{sequence_id}/steps",
            "/api/v1/automation/sequences/{sequence_id}/steps/{step_id}",
            "/api/v1/automation/sequences/{sequence_id}/steps/{step_id}/preview"}


def _operations() -> list[tuple[str, str]]:
    spec = spec_app().openapi()
    return sorted((method.upper(), path) for path, item in spec["paths"].items()
                  for method in item)


OPERATIONS = _operations()
PRIVATE = [op for op in OPERATIONS if op not in PUBLIC]


def test_the_route_list_is_complete() -> None:
    # DESIGN 3.3 and CAPABILITIES §1 (experiments), §2 (daily stats), §3 (conversions),
    # §4 (tenant settings), §5 (templates), §7 (an enrollment's why, the stuck list), §8
    # (revisions): every authenticated operation.
    assert len(PRIVATE) == 54
    assert {op for op in PRIVATE if op[0] in ("POST", "PUT")} - set(BODIES) == {
        ("POST", f"/api/v1/automation/{p}") for p in (
            "sequences/{sequence_id}/pause", "sequences/{sequence_id}/resume",
            "sequences/{sequence_id}/archive", "enrollments/{enrollment_id}/pause",
            "enrollments/{enrollment_id}/resume")}


def _acme_world(acme: TestClient) -> dict[str, str]:
    draft = ok(acme.post(f"{V1}/sequences", json={"name": "Draft", "steps": [
        {**STEP, "order": 0}]}), 201)
    active = build_sequence(acme, {"name": "Active", "steps": [{**STEP, "order": 0}]})
    enrolled = ok(acme.post(f"{V1}/sequences/{active['id']}/enroll",
                            json={"contact_id": "ana"}), 201)
    # A live sequence with a draft revision 2 (its routes act on it), and one whose
    # revision 2 was published with a migration (the migration's route reads it).
    revised = build_sequence(acme, {"name": "Revised", "steps": [{**STEP, "order": 0}]})
    ok(acme.post(f"{V1}/sequences/{revised['id']}/revisions"), 201)
    ok(acme.put(SETTINGS, json={"timezone": "Europe/Berlin"}))
    migrated = build_sequence(acme, {"name": "Migrated", "steps": [{**STEP, "order": 0}]})
    ok(acme.post(f"{V1}/sequences/{migrated['id']}/revisions"), 201)
    ok(acme.post(f"{V1}/sequences/{migrated['id']}/revisions/2/publish",
                 json={"migrate": {"step_map": {}}}))
    # A live sequence with an A/B test (its experiment routes read and conclude it).
    tested = ok(acme.post(f"{V1}/sequences", json={"name": "Tested", "steps": [
        {**STEP, "order": 0}]}), 201)
    arms = [{"key": k, "weight": 50, "message_template": {"type": "text", "content": k}}
            for k in "AB"]
    ok(acme.put(f"{V1}/sequences/{tested['id']}", json={"experiments": [
        {"id": "subject", "step_id": tested["steps"][0]["id"], "arms": arms}]}))
    ok(acme.post(f"{V1}/sequences/{tested['id']}/activate"))
    template = ok(acme.post(TEMPLATES, json=BODIES[("POST", TEMPLATES)]), 201)
    return {"template_id": template["id"], "draft": draft["id"],
            "step_id": draft["steps"][0]["id"], "tested": tested["id"],
            "active": active["id"], "enrollment_id": enrolled["id"], "contact_id": "ana",
            "revised": revised["id"], "revised_step": revised["steps"][0]["id"],
            "migrated": migrated["id"]}


def _url(path: str, world: dict[str, str]) -> str:
    sequence, step = (world["draft"] if path in ON_DRAFT else world["active"]), world["step_id"]
    if path.startswith(REVISIONS + "/{number}"):  # a draft revision's routes
        sequence, step = world.get("revised", sequence), world.get("revised_step", step)
    if path.endswith("/migration"):
        sequence = world.get("migrated", sequence)
    if path.startswith(EXPERIMENTS):
        sequence = world.get("tested", sequence)
    return path.format(sequence_id=sequence, step_id=step, number=2, experiment_id="subject",
                       enrollment_id=world["enrollment_id"], contact_id=world["contact_id"],
                       template_id=world.get("template_id", str(uuid4())))


@pytest.mark.parametrize(("method", "path"), PRIVATE)
def test_without_a_valid_key_every_route_is_401(acme: TestClient, method: str,
                                                path: str) -> None:
    # Made-up ids: the key is checked before anything is looked up.
    world = {"draft": str(uuid4()), "active": str(uuid4()), "step_id": str(uuid4()),
             "enrollment_id": str(uuid4()), "contact_id": "ana"}
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer wrong-key"},
                    {"Authorization": f"Basic {acme.headers['Authorization'][7:]}"}):
        answer = acme.request(method, _url(path, world), json=BODIES.get((method, path)),
                              headers=headers)
        assert answer.status_code == 401, answer.text
        assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("method", "path"), PRIVATE)
def test_another_tenant_cannot_see_or_touch_acme(acme: TestClient, globex: TestClient,
                                                 runtime: Any, method: str,
                                                 path: str) -> None:
    world = _acme_world(acme)
    if path.endswith("/resume"):  # something to resume
        ok(acme.post(_url(path, world).replace("/resume", "/pause")))
    runtime.catch_up()
    url, body = _url(path, world), BODIES.get((method, path))
    theirs = globex.request(method, url, json=body)
    if "{" in path and not path.startswith(f"{V1}/contacts/"):
        assert theirs.status_code == 404, theirs.text
        assert theirs.json()["status"] == 404
    elif path == TEMPLATES and method == "GET":  # the built-ins, nothing of acme's
        assert {t["source"] for t in ok(theirs)["items"]} == {"builtin"}
    elif path == SETTINGS:  # each tenant its own: acme's are neither shown nor changed
        assert ok(theirs)["timezone"] in (None, "Asia/Tokyo")
        assert ok(acme.get(SETTINGS))["timezone"] == "Europe/Berlin"
    elif method == "GET":  # lists and a contact's enrollments: nothing of acme's
        assert ok(theirs)["items"] == []
    elif path == "/api/v1/events":  # an event of acme's is refused on globex's key
        assert ok(theirs, 403)["field"] == "tenant_id"
    elif path == TEMPLATES:  # creating a template: globex's own, invisible to acme
        created = ok(theirs, 201)
        ok(acme.get(f"{TEMPLATES}/{created['id']}"), 404)
    else:  # creating a sequence: globex's own, invisible to acme
        created = ok(theirs, 201)
        ok(acme.get(f"{V1}/sequences/{created['id']}"), 404)

    mine = acme.request(method, url, json=body)
    assert mine.status_code < 300, mine.text
