"""Fixtures of the API tests: the real application over the real runtime (SQLite and
PostgreSQL via ``database_url``), and HTTP clients holding two tenants' keys."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import ApiKeys
from dripline.bootstrap import Runtime, bootstrap
from dripline.settings import Settings

ACME_KEY, GLOBEX_KEY = "acme-key-0123456789", "globex-key-0123456789"
KEYS = f"acme:{ACME_KEY},globex:{GLOBEX_KEY}"
V1 = "/api/v1/automation"


@pytest.fixture
def api(runtime: Runtime) -> FastAPI:
    return create_app(runtime, api_keys=ApiKeys.parse(KEYS))


@pytest.fixture
def acme(api: FastAPI) -> Iterator[TestClient]:
    with TestClient(api, headers={"Authorization": f"Bearer {ACME_KEY}"}) as client:
        yield client


@pytest.fixture
def globex(api: FastAPI) -> Iterator[TestClient]:
    with TestClient(api, headers={"Authorization": f"Bearer {GLOBEX_KEY}"}) as client:
        yield client


def spec_app() -> FastAPI:
    """An app whose only use is its OpenAPI document (collection time: parametrizing over
    the routes). Its throwaway runtime is closed at once; tests put their own in its state."""
    with tempfile.TemporaryDirectory() as folder:
        runtime = bootstrap(Settings(database_url=f"sqlite:///{folder}/spec.db"))
        try:
            app = create_app(runtime, api_keys=ApiKeys.parse(KEYS))
            app.openapi()
        finally:
            runtime.close()
    return app


def ok(response: Any, status: int = 200) -> Any:
    """The JSON body of an answer that must have ``status``; the body is shown if not."""
    assert response.status_code == status, response.text
    return response.json()


def build_sequence(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    """Create the sequence as a draft, add its steps one by one, then activate it — each
    write naming the version it read (If-Match)."""
    settings = {k: v for k, v in body.items() if k != "steps"}
    sequence = ok(client.post(f"{V1}/sequences", json=settings), 201)
    for step in body["steps"]:
        added = ok(client.post(f"{V1}/sequences/{sequence['id']}/steps", json=step,
                               headers={"If-Match": str(sequence["version"])}), 201)
        sequence = added["sequence"]
    activated = ok(client.post(f"{V1}/sequences/{sequence['id']}/activate",
                               headers={"If-Match": f'"{sequence["version"]}"'}))
    assert activated["status"] == "active"
    assert [s["name"] for s in activated["steps"]] == [s["name"] for s in body["steps"]]
    return dict(activated)


def envelope(event_id: str, kind: str, contact: str, data: dict[str, Any],
             tenant: str = "acme", at: str = "2026-11-29T09:00:00Z") -> dict[str, Any]:
    return {"event_id": event_id, "type": kind, "tenant_id": tenant, "contact_id": contact,
            "occurred_at": at, "data": data}
