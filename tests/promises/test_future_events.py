"""An event cannot have happened in the future: one whose ``occurred_at`` is more than five
minutes ahead of Dripline's clock is refused, naming the field, and changes nothing (a CRM
with a broken clock must not be able to place a contact's facts years ahead)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from tests.api.conftest import V1, build_sequence, envelope, ok
from tests.promises.support import EVENTS, at, cold_lead_sequence, stamp, step

NOW = at("10:10")
TAG = {"tag_id": "t-cold", "tag_name": "cold-lead"}
AHEAD = {"year 9999": "9999-12-31T23:59:59Z",
         "a day ahead": stamp(NOW + timedelta(days=1)),
         "six minutes ahead": stamp(NOW + timedelta(minutes=6))}


def _enrollments_of(client: TestClient, runtime: Runtime, contact: str) -> list[Any]:
    runtime.catch_up()
    return list(ok(client.get(f"{V1}/contacts/{contact}/enrollments"))["items"])


@pytest.mark.parametrize("occurred", AHEAD.values(), ids=AHEAD.keys())
def test_a_single_event_from_the_future_is_a_422_naming_occurred_at(
        acme: TestClient, runtime: Runtime, clock: ManualClock, occurred: str) -> None:
    build_sequence(acme, cold_lead_sequence(step(0, "Hi there")))
    clock.set(NOW)
    refused = acme.post(EVENTS, json=envelope("evt-ahead", "tag_added", "ana", TAG,
                                              at=occurred))
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["field"] == "occurred_at"
    assert _enrollments_of(acme, runtime, "ana") == []  # nothing was recorded


def test_a_little_clock_skew_is_tolerated(acme: TestClient, runtime: Runtime,
                                          clock: ManualClock) -> None:
    """Four minutes ahead is within the tolerance; six are not."""
    build_sequence(acme, cold_lead_sequence(step(0, "Hi there")))
    clock.set(NOW)
    answer = ok(acme.post(EVENTS, json=[
        envelope("evt-skewed", "tag_added", "ana", TAG, at=stamp(NOW + timedelta(minutes=4))),
        envelope("evt-ahead", "tag_added", "bob", TAG, at=stamp(NOW + timedelta(minutes=6))),
    ]), 202)
    assert [r["outcome"] for r in answer["results"]] == ["applied", "rejected"]
    assert len(_enrollments_of(acme, runtime, "ana")) == 1


def test_in_a_list_the_event_from_the_future_is_rejected_and_the_others_apply(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    build_sequence(acme, cold_lead_sequence(step(0, "Hi there")))
    clock.set(NOW)
    answer = ok(acme.post(EVENTS, json=[
        envelope("evt-ana", "tag_added", "ana", TAG, at=stamp(at("10:00"))),
        envelope("evt-bea", "tag_added", "bea", TAG, at="9999-12-31T23:59:59Z"),
        envelope("evt-cy", "tag_added", "cy", TAG, at=stamp(at("10:09"))),
    ]), 202)

    assert (answer["applied"], answer["rejected"]) == (2, 1)
    ana, bea, cy = answer["results"]
    assert (bea["outcome"], bea["field"]) == ("rejected", "occurred_at")
    assert (ana["outcome"], cy["outcome"]) == ("applied", "applied")
    assert [len(_enrollments_of(acme, runtime, c)) for c in ("ana", "bea", "cy")] == [1, 0, 1]
