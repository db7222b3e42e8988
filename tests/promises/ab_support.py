"""Helpers of the A/B testing promise tests (CAPABILITIES §1), through the public HTTP API:
a sequence with a content experiment, the documented assignment formula computed here (not
imported), and the pages of a sequence's enrollments and an experiment's view."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi.testclient import TestClient

from dripline.bootstrap import Runtime
from tests.api.conftest import V1, ok


def bucket(tenant: str, sequence_id: str, salt: str, contact: str) -> int:
    text = f"{tenant}/{sequence_id}/{salt}/{contact}"
    return int(hashlib.sha256(text.encode()).hexdigest()[:16], 16) % 10000


def expected_arm(tenant: str, sequence_id: str, experiment: str, contact: str,
                 weights: dict[str, int]) -> str:
    b, upper = bucket(tenant, sequence_id, experiment, contact), 0
    for key, weight in weights.items():
        upper += weight * 100
        if b < upper:
            return key
    raise AssertionError("weights do not sum to 100")


def expected_holdout(tenant: str, sequence_id: str, contact: str, percent: int) -> bool:
    return bucket(tenant, sequence_id, "holdout", contact) < percent * 100


def text(content: str) -> dict[str, Any]:
    return {"type": "text", "content": content, "channel": "whatsapp"}


def experiment(step_id: str, *, metric: str = "reply", weights: tuple[int, int] = (50, 50),
               **auto_winner: Any) -> dict[str, Any]:
    return {"id": "subject-test", "kind": "content", "step_id": step_id, "metric": metric,
            "arms": [{"key": "A", "weight": weights[0], "message_template": text("Hi A")},
                     {"key": "B", "weight": weights[1], "message_template": text("Hi B")}],
            "auto_winner": auto_winner}


def ab_sequence(client: TestClient, steps: list[dict[str, Any]], tested: int,
                holdout: int = 0, reenrollment: str = "never",
                **auto_winner: Any) -> dict[str, Any]:
    """An active sequence whose step ``tested`` (an index) has an A/B content test."""
    draft = ok(client.post(f"{V1}/sequences", json={
        "name": "AB", "steps": steps, "exit_on_reply": False,
        "reenrollment": {"policy": reenrollment}}), 201)
    step_id = draft["steps"][tested]["id"]
    draft = ok(client.put(f"{V1}/sequences/{draft['id']}", json={
        "holdout_percent": holdout, "experiments": [experiment(step_id, **auto_winner)]}))
    assert draft["holdout_percent"] == holdout
    return dict(ok(client.post(f"{V1}/sequences/{draft['id']}/activate")))


def all_enrollments(client: TestClient, sequence_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        found = ok(client.get(f"{V1}/sequences/{sequence_id}/enrollments",
                              params={"page": page, "limit": 500}))
        items += found["items"]
        if len(items) >= found["total"]:
            return items
        page += 1


def experiment_view(client: TestClient, runtime: Runtime,
                    sequence_id: str) -> dict[str, Any]:
    """The sequence's one experiment as the API shows it (read models brought up to date)."""
    runtime.catch_up()
    [view] = ok(client.get(f"{V1}/sequences/{sequence_id}/experiments"))["items"]
    return dict(view)
