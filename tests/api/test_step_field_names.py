"""The single-step routes name a 422's field one way, whoever refuses the body: the request
schema (a value out of its range or of the wrong type) or the domain (a template that cannot
render, a condition without its field, a delay longer than its unit allows). A client places
the message beside its control by that name alone (``message_template.content``), as
``PUT …/steps`` names ``steps[2].message_template.content``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import V1, build_sequence, ok

STEP = {"order": 0, "name": "Hello", "delay_amount": 0, "delay_unit": "hours",
        "message_template": {"type": "text", "content": "Hi {{contact.name}}"}}
TEXT = {"type": "text", "content": "x" * 10_001}

# Each field, refused once by the request schema and once by the domain.
REFUSALS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("message_template.content",
     {"message_template": TEXT},
     {"message_template": {"type": "text", "content": "Hi {{contact."}}),
    ("conditions[0].field",
     {"conditions": [{"type": "custom_field", "operator": "equals", "value": "x",
                      "field": "f" * 201}]},
     {"conditions": [{"type": "custom_field", "operator": "equals", "value": "x"}]}),
    ("delay_amount",
     {"delay_amount": -1},
     {"delay_amount": 10_000, "delay_unit": "days"}),
]

Route = Callable[[TestClient, dict[str, Any]], Any]


def _draft_add(client: TestClient, change: dict[str, Any]) -> Any:
    sequence = ok(client.post(f"{V1}/sequences", json={"name": "Draft"}), 201)
    return client.post(f"{V1}/sequences/{sequence['id']}/steps", json={**STEP, **change})


def _draft_change(client: TestClient, change: dict[str, Any]) -> Any:
    sequence = ok(client.post(f"{V1}/sequences", json={"name": "Draft", "steps": [STEP]}), 201)
    step_id = sequence["steps"][0]["id"]
    return client.put(f"{V1}/sequences/{sequence['id']}/steps/{step_id}", json=change)


def _revision(client: TestClient) -> tuple[str, str]:
    """A live sequence with a draft revision 2: its path and the id of its step."""
    sequence = build_sequence(client, {"name": "Live", "steps": [STEP]})
    base = f"{V1}/sequences/{sequence['id']}"
    ok(client.post(f"{base}/revisions", json={}), 201)
    return f"{base}/revisions/2", sequence["steps"][0]["id"]


def _revision_add(client: TestClient, change: dict[str, Any]) -> Any:
    path, _ = _revision(client)
    return client.post(f"{path}/steps", json={**STEP, "order": 1, **change})


def _revision_change(client: TestClient, change: dict[str, Any]) -> Any:
    path, step_id = _revision(client)
    return client.put(f"{path}/steps/{step_id}", json=change)


ROUTES: dict[str, Route] = {"draft add": _draft_add, "draft change": _draft_change,
                            "revision add": _revision_add,
                            "revision change": _revision_change}


def named(answer: Any) -> str:
    problem = ok(answer, 422)
    assert [e["field"] for e in problem["errors"]] == [problem["field"]], problem
    return str(problem["field"])


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(("field", "schema_refuses", "domain_refuses"), REFUSALS,
                         ids=[r[0] for r in REFUSALS])
def test_schema_and_domain_refusals_name_the_field_alike(
        acme: TestClient, route: str, field: str, schema_refuses: dict[str, Any],
        domain_refuses: dict[str, Any]) -> None:
    send = ROUTES[route]
    assert named(send(acme, schema_refuses)) == field
    assert named(send(acme, domain_refuses)) == field


@pytest.mark.parametrize("where", ["draft", "revision"])
@pytest.mark.parametrize(("field", "schema_refuses", "domain_refuses"), REFUSALS,
                         ids=[r[0] for r in REFUSALS])
def test_a_step_from_a_template_names_its_overrides_alike(
        acme: TestClient, where: str, field: str, schema_refuses: dict[str, Any],
        domain_refuses: dict[str, Any]) -> None:
    if where == "draft":
        sequence = ok(acme.post(f"{V1}/sequences", json={"name": "Draft"}), 201)
        path = f"{V1}/sequences/{sequence['id']}"
    else:
        path, _ = _revision(acme)
    for overrides in (schema_refuses, domain_refuses):
        answer = acme.post(f"{path}/steps", json={
            "template_id": "builtin:we-miss-you", "order": 1, "overrides": overrides})
        assert named(answer) == f"overrides.{field}"
