"""A contact's stream may grow forever (a shop's webhook per page view), so applying one more
event to it must cost the same whatever its history. ``GET /metrics`` counts the stored
events decoded to rebuild aggregates (a snapshot counts as one): posting N events for one
contact may grow the ``contact`` series by O(N), never O(N²)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.auth import ApiKeys
from domain.clock import ManualClock
from dripline.bootstrap import Runtime

KEY = "acme-key-0123456789"
EVENTS = 400
PER_EVENT = 20  # decoded stored events allowed per posted event, on average
REPLAYED = "dripline_aggregate_events_replayed_total"


@pytest.fixture
def acme(runtime: Runtime) -> Iterator[TestClient]:
    app = create_app(runtime, api_keys=ApiKeys.parse(f"acme:{KEY}"))
    with TestClient(app, headers={"Authorization": f"Bearer {KEY}"}) as client:
        yield client


def test_one_more_event_costs_the_same_however_long_the_contacts_history(
        acme: TestClient, clock: ManualClock) -> None:
    before = _contact_replays(acme)
    for n in range(EVENTS):
        answer = acme.post("/api/v1/events", json=_page_view(n, clock))
        assert answer.status_code == 202, answer.text
        assert answer.json()["applied"] == 1, answer.text
        clock.advance(timedelta(seconds=1))
    after = _contact_replays(acme)

    assert after is not None, (
        f"GET /metrics has no {REPLAYED}{{aggregate=\"contact\"}} series after {EVENTS} "
        "events for one contact: the cost of rebuilding the contact is not observable")
    replayed = after - (before or 0.0)
    assert replayed <= PER_EVENT * EVENTS, (
        f"{EVENTS} events for one contact decoded {replayed:.0f} stored contact events to "
        f"rebuild it (at most {PER_EVENT * EVENTS} allowed): the cost grows with its history")


def _page_view(n: int, clock: ManualClock) -> dict[str, Any]:
    """Mostly profile updates, with a tag coming and going: what a chatty CRM sends."""
    kind, data = [
        ("contact_updated", {"name": "Ana", "custom_fields": {"page_views": n}}),
        ("contact_updated", {"custom_fields": {"last_page": f"/products/{n}"}}),
        ("tag_added", {"tag_id": "t-browsing", "tag_name": "browsing"}),
        ("tag_removed", {"tag_id": "t-browsing", "tag_name": "browsing"}),
    ][n % 4]
    return {"event_id": f"evt-{n}", "type": kind, "tenant_id": "acme", "contact_id": "c-42",
            "occurred_at": clock().isoformat(), "data": data}


def _contact_replays(client: TestClient) -> float | None:
    """The ``contact`` sample of the counter, or None while the API does not expose it."""
    answer = client.get("/metrics")
    assert answer.status_code == 200, answer.text
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            if sample.name == REPLAYED and sample.labels.get("aggregate") == "contact":
                return float(sample.value)
    return None
