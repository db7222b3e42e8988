"""What a client gets when something is wrong: problem+json with a status it can act on."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import ApiKeys, ApiKeysError
from dripline.bootstrap import Runtime
from tests.api.conftest import V1, build_sequence, envelope, ok

STEP = {"order": 0, "name": "Hi", "message_template": {"content": "Hi {{contact.name}}"}}


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = ok(response, status)
    assert {"type", "title", "status", "detail"} <= set(body)
    return body


def test_invalid_bodies_are_422_naming_the_field(acme: TestClient) -> None:
    negative = problem(acme.post(f"{V1}/sequences", json={"name": "N", "steps": [
        {**STEP, "delay_amount": -1}]}), 422)
    assert negative["field"] == "steps[0].delay_amount"
    unknown = problem(acme.post(f"{V1}/sequences", json={"name": "N", "colour": "red"}), 422)
    assert unknown["field"] == "colour"
    missing = problem(acme.post(f"{V1}/sequences", json={}), 422)
    assert missing["field"] == "name"
    # Rules only the domain knows come back the same way.
    no_source = problem(acme.post(f"{V1}/sequences", json={
        "name": "N", "trigger_type": "tag_added", "trigger_data": {}}), 422)
    assert no_source["field"] == "trigger_data.tag_id"
    not_json = problem(acme.post(f"{V1}/sequences", content=b"{nope",
                                 headers={"content-type": "application/json"}), 422)
    assert not_json["errors"]
    assert problem(acme.get(f"{V1}/sequences/not-a-uuid"), 422)["field"] == "path.sequence_id"
    assert problem(acme.get(f"{V1}/sequences", params={"limit": 0}), 422)["field"] == (
        "query.limit")


def test_state_conflicts_are_409(acme: TestClient) -> None:
    empty = ok(acme.post(f"{V1}/sequences", json={"name": "Empty"}), 201)
    refused = problem(acme.post(f"{V1}/sequences/{empty['id']}/activate"), 409)
    assert "add at least one step" in refused["detail"]
    active = build_sequence(acme, {"name": "Live", "steps": [STEP]})
    problem(acme.put(f"{V1}/sequences/{active['id']}", json={"name": "X"}), 409)
    problem(acme.delete(f"{V1}/sequences/{active['id']}"), 409)
    ok(acme.post(f"{V1}/sequences/{active['id']}/enroll", json={"contact_id": "c"}), 201)
    problem(acme.post(f"{V1}/sequences/{active['id']}/enroll", json={"contact_id": "c"}), 409)


def test_a_stale_if_match_is_412_and_a_fresh_one_succeeds(acme: TestClient) -> None:
    draft = ok(acme.post(f"{V1}/sequences", json={"name": "Draft"}), 201)
    url = f"{V1}/sequences/{draft['id']}"
    renamed = ok(acme.put(url, json={"name": "Two"}, headers={"If-Match": '"1"'}))
    assert (renamed["version"], renamed["name"]) == (2, "Two")
    stale = problem(acme.put(url, json={"name": "Three"}, headers={"If-Match": "1"}), 412)
    assert "version 2" in stale["detail"]
    assert ok(acme.get(url))["name"] == "Two"
    assert acme.get(url).headers["etag"] == '"2"'
    problem(acme.delete(url, headers={"If-Match": "1"}), 412)
    assert problem(acme.delete(url, headers={"If-Match": "two"}), 422)["field"] == "If-Match"
    deleted = acme.delete(url, headers={"If-Match": "2"})
    assert deleted.status_code == 204
    problem(acme.get(url), 404)


def test_bodies_over_the_limit_are_413(runtime: Runtime) -> None:
    app = create_app(runtime, api_keys=ApiKeys.parse("acme:k"), max_body_bytes=1000)
    client = TestClient(app, headers={"Authorization": "Bearer k"})
    big = {"contact_ids": [f"c-{i}" for i in range(200)]}
    with client:
        problem(client.post(f"{V1}/sequences/{'0' * 32}/enroll/bulk", json=big), 413)

        def chunks() -> Any:  # no Content-Length: counted as it arrives
            yield b'{"name": "'
            yield b"x" * 2000
            yield b'"}'

        problem(client.post(f"{V1}/sequences", content=chunks(),
                            headers={"content-type": "application/json"}), 413)


def test_events_of_another_tenant_are_refused_whole(acme: TestClient,
                                                     runtime: Runtime) -> None:
    mine = envelope("e-1", "tag_added", "ann", {"tag_name": "vip"})
    theirs = envelope("e-2", "tag_added", "ann", {"tag_name": "vip"}, tenant="globex")
    refused = problem(acme.post("/api/v1/events", json=[mine, theirs]), 403)
    assert refused["field"] == "[1].tenant_id"
    # Nothing was recorded: the first event is still new.
    assert ok(acme.post("/api/v1/events", json=mine), 202)["applied"] == 1


def test_a_batch_reports_each_event(acme: TestClient) -> None:
    batch = [envelope("e-1", "tag_added", "ann", {"tag_name": "vip"}),
             envelope("e-1", "tag_added", "ann", {"tag_name": "vip"}),
             envelope("e-2", "something_new", "ann", {}),
             envelope("e-3", "list_joined", "ann", {})]
    answer = ok(acme.post("/api/v1/events", json=batch), 202)
    assert [r["outcome"] for r in answer["results"]] == [
        "applied", "duplicate", "ignored", "rejected"]
    assert answer["results"][3]["field"] == "data.list_id"
    single = problem(acme.post("/api/v1/events", json=batch[3]), 422)
    assert single["field"] == "data.list_id"
    naive = problem(acme.post("/api/v1/events", json={**batch[0], "occurred_at":
                                                       "2026-11-29T10:00:00"}), 422)
    assert naive["field"] == "occurred_at"


def test_without_configured_keys_a_random_key_is_generated(
        runtime: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    keyless = replace(runtime, settings=runtime.settings.model_copy(update={"api_keys": None}))
    with caplog.at_level(logging.WARNING, logger="dripline.api"):
        first, second = create_app(keyless), create_app(keyless)
    key = first.state.generated_api_key
    assert key
    assert len(key) >= 32
    assert key != second.state.generated_api_key
    assert sum(key in r.getMessage() for r in caplog.records) == 1
    with TestClient(first) as client:
        problem(client.get(f"{V1}/sequences"), 401)
        created = ok(client.post(f"{V1}/sequences", json={"name": "Mine"},
                                 headers={"Authorization": f"Bearer {key}"}), 201)
    assert created["tenant_id"] == "default"
    configured = create_app(runtime, api_keys=ApiKeys.parse("acme:k"))
    assert configured.state.generated_api_key is None


def test_malformed_key_settings_are_refused() -> None:
    for text in ("acme", "acme:", ":key", " , "):
        with pytest.raises(ApiKeysError):
            ApiKeys.parse(text)
    assert ApiKeys.parse("acme:k1, acme:k2,globex:k3").tenant_of("k2") == "acme"


def test_operations_endpoints(acme: TestClient) -> None:
    assert ok(acme.get("/healthz", headers={"Authorization": ""})) == {"status": "ok"}
    assert ok(acme.get("/readyz", headers={"Authorization": ""})) == {"status": "ready"}
    ok(acme.get(f"{V1}/sequences"))
    metrics = acme.get("/metrics", headers={"Authorization": ""})
    assert metrics.status_code == 200
    assert ('dripline_http_requests_total{method="GET",route="/api/v1/automation/sequences",'
            'status="200"} 1.0') in metrics.text
    docs = acme.get("/docs")
    assert docs.status_code == 200
    assert "/api/v1/automation/sequences" in docs.text
    assert "cdn" not in docs.text.lower()
    spec = ok(acme.get("/openapi.json"))
    create = spec["paths"]["/api/v1/automation/sequences"]["post"]
    examples = create["requestBody"]["content"]["application/json"]["examples"]
    assert set(examples) == {"welcome_onboarding", "lead_nurture", "re_engagement",
                             "webinar_follow_up"}
    assert "application/problem+json" in create["responses"]["422"]["content"]
