"""The daily series (CAPABILITIES §2 rule 6, acceptance check 5): each event counted in the
15-minute UTC bucket of its own time, the buckets folded into the local days of ``tz``; the
days add up to the stats; bad ranges and zones are 422 naming the field."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from tests.api.conftest import V1, build_sequence, envelope, ok

STEP = {"order": 0, "name": "hello", "delay_amount": 0, "delay_unit": "minutes",
        "message_template": {"type": "text", "content": "hi", "channel": "email"}}


def _enrolled(acme: TestClient, runtime: Runtime, sequence: dict[str, Any],
              contact: str) -> str:
    enrolled = ok(acme.post(f"{V1}/sequences/{sequence['id']}/enroll",
                            json={"contact_id": contact}), 201)
    runtime.catch_up()
    messages = ok(acme.get(f"{V1}/messages", params={"enrollment_id": enrolled["id"]}))["items"]
    return str(messages[0]["message_id"])


def test_an_open_late_in_the_evening_lands_on_each_zones_day(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    clock.set(datetime.fromisoformat("2026-11-30T23:00:00+00:00"))
    sequence = build_sequence(acme, {"name": "Evening", "steps": [STEP]})
    message_id = _enrolled(acme, runtime, sequence, "c-1")
    clock.set(datetime.fromisoformat("2026-11-30T23:40:00+00:00"))
    ok(acme.post(f"{V1.rsplit('/automation', 1)[0]}/events", json=envelope(
        "evt-open", "message_opened", "c-1", {"message_id": message_id},
        at="2026-11-30T23:30:00Z")), 202)
    base = f"{V1}/sequences/{sequence['id']}/stats"
    span = {"from": "2026-11-30", "to": "2026-12-01"}
    runtime.catch_up()

    utc = ok(acme.get(f"{base}/daily", params=span))["items"]
    berlin = ok(acme.get(f"{base}/daily", params={**span, "tz": "Europe/Berlin"}))["items"]
    assert [(d["date"], d["opened"], d["sent"]) for d in utc] == [
        ("2026-11-30", 1, 1), ("2026-12-01", 0, 0)]
    # 23:00Z (sent) and 23:30Z (opened) are 00:00 and 00:30 on December 1st in Berlin.
    assert [(d["date"], d["opened"], d["sent"]) for d in berlin] == [
        ("2026-11-30", 0, 0), ("2026-12-01", 1, 1)]
    kolkata = ok(acme.get(f"{base}/daily", params={**span, "tz": "Asia/Kolkata"}))["items"]
    assert [d["opened"] for d in kolkata] == [0, 1]  # 05:00 on December 1st
    new_york = ok(acme.get(f"{base}/daily", params={**span, "tz": "America/New_York"}))
    assert [d["opened"] for d in new_york["items"]] == [1, 0]  # 18:30 on November 30th

    stats = ok(acme.get(base))
    for days in (utc, berlin, kolkata, new_york["items"]):
        assert sum(d["enrolled"] for d in days) == stats["total_enrolled"] == 1
        assert sum(d["sent"] for d in days) == sum(s["message_requested"]
                                                   for s in stats["steps"])


def test_days_without_events_are_zeros_and_pages_split_them(
        acme: TestClient, runtime: Runtime, clock: ManualClock) -> None:
    sequence = build_sequence(acme, {"name": "Quiet", "steps": [STEP]})
    base = f"{V1}/sequences/{sequence['id']}/stats/daily"
    today = clock().date()
    page = ok(acme.get(base, params={"from": str(today - timedelta(days=9)), "to": str(today),
                                     "limit": 4, "page": 3}))
    assert (page["total"], len(page["items"])) == (10, 2)
    assert page["items"][-1]["date"] == str(today)
    assert all(d["enrolled"] == 0 for d in page["items"])
    assert len(ok(acme.get(base))["items"]) == 30  # default: the 30 days ending today


def test_bad_ranges_and_zones_are_422_naming_the_field(acme: TestClient) -> None:
    sequence = build_sequence(acme, {"name": "Bad", "steps": [STEP]})
    base = f"{V1}/sequences/{sequence['id']}/stats/daily"
    assert ok(acme.get(base, params={"tz": "Mars/Olympus"}), 422)["field"] == "tz"
    assert ok(acme.get(base, params={"from": "2026-12-02", "to": "2026-12-01"}),
              422)["field"] == "to"
    assert ok(acme.get(base, params={"from": "2025-01-01", "to": "2026-12-01"}),
              422)["field"] == "from"
    assert ok(acme.get(base, params={"revision": 9}), 404)
    for edge in ({"from": "0001-01-01", "to": "0001-01-02", "tz": "Asia/Tokyo"},
                 {"from": "9999-12-30", "to": "9999-12-31"}, {"to": "0001-01-05"}):
        assert ok(acme.get(base, params=edge), 422)["field"] == "from"
