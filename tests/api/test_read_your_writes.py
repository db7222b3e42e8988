"""Read your writes: every successful write answers with the store position it reached, and a
list, stats or messages read given that position (or ``head``) answers once the read models
include it, or with 503 and Retry-After if they do not in time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import ApiKeys
from dripline.bootstrap import Runtime
from tests.api.conftest import ACME_KEY, KEYS, V1, envelope, ok

STEP = {"order": 0, "name": "hi", "message_template": {"content": "Hi"}}


@pytest.fixture
def impatient(runtime: Runtime) -> Iterator[TestClient]:
    """A client of an app that waits at most 0.2 s for the read models."""
    app = create_app(runtime, api_keys=ApiKeys.parse(KEYS), read_wait_seconds=0.2)
    with TestClient(app, headers={"Authorization": f"Bearer {ACME_KEY}"}) as client:
        yield client


def test_a_read_after_a_write_sees_it_once_the_read_models_have_it(
        impatient: TestClient, runtime: Runtime) -> None:
    created = impatient.post(f"{V1}/sequences", json={"name": "Mine", "steps": [STEP]})
    assert created.status_code == 201
    position = int(created.headers["X-Dripline-Position"])
    assert position >= 1
    # Nothing projects in this test until told: the read models lag, and say so.
    lagging = impatient.get(f"{V1}/sequences", params={"after": position})
    assert lagging.status_code == 503, lagging.text
    assert lagging.headers["Retry-After"] == "1"
    assert ok(impatient.get(f"{V1}/sequences"))["items"] == []  # without after: as it is
    runtime.catch_up()
    seen = ok(impatient.get(f"{V1}/sequences", params={"after": position}))
    assert [s["name"] for s in seen["items"]] == ["Mine"]


def test_events_answer_with_their_position_and_head_means_every_write_before(
        impatient: TestClient, runtime: Runtime) -> None:
    response = impatient.post("/api/v1/events", json=envelope(
        "e-1", "contact_updated", "c-1", {"name": "Ana"}))
    answer = ok(response, 202)
    assert 1 <= answer["position"] <= int(response.headers["X-Dripline-Position"])
    assert impatient.get(f"{V1}/contacts/c-1/enrollments",
                         params={"after": "head"}).status_code == 503
    runtime.catch_up()
    assert ok(impatient.get(f"{V1}/contacts/c-1/enrollments", params={"after": "head"})) == {
        "items": [], "total": 0, "page": 1, "limit": 50}


def test_a_position_no_write_answered_with_is_refused(impatient: TestClient) -> None:
    refused = ok(impatient.get(f"{V1}/messages", params={"after": 10**9}), 422)
    assert refused["errors"][0]["field"] == "after"
    assert ok(impatient.get(f"{V1}/messages", params={"after": "soon"}), 422)
