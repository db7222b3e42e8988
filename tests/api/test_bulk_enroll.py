"""Bulk enrollment of 10,000 contacts in one request (its time is measured in bench/)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from dripline.bootstrap import Runtime
from tests.api.conftest import V1, build_sequence, ok

STEP = {"order": 0, "name": "We Miss You", "message_template": {
    "content": "We noticed you haven't been around lately. Is everything okay?"}}


@pytest.mark.slow
def test_ten_thousand_contacts_in_one_request(acme: TestClient, runtime: Runtime) -> None:
    sequence = build_sequence(acme, {"name": "Win-back", "steps": [STEP]})
    url = f"{V1}/sequences/{sequence['id']}"
    ok(acme.post(f"{url}/enroll", json={"contact_id": "c-00042"}), 201)
    ids = [f"c-{i:05d}" for i in range(10_000)]

    answer = ok(acme.post(f"{url}/enroll/bulk", json={"contact_ids": ids}))

    assert (answer["enrolled_count"], answer["skipped_count"]) == (9_999, 1)
    assert answer["skipped"][0]["contact_id"] == "c-00042"
    assert len({e["enrollment_id"] for e in answer["enrolled"]}) == 9_999
    runtime.catch_up()
    stats = ok(acme.get(f"{url}/stats"))
    assert (stats["total_enrolled"], stats["active_count"]) == (10_000, 10_000)
    page = ok(acme.get(f"{url}/enrollments", params={"page": 100, "limit": 100}))
    assert (page["total"], len(page["items"])) == (10_000, 100)


def test_more_than_ten_thousand_is_refused(acme: TestClient) -> None:
    sequence = build_sequence(acme, {"name": "Win-back", "steps": [STEP]})
    too_many = {"contact_ids": [f"c-{i}" for i in range(10_001)]}
    refused = ok(acme.post(f"{V1}/sequences/{sequence['id']}/enroll/bulk", json=too_many), 422)
    assert refused["field"] == "contact_ids"
