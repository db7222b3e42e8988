"""Frequency caps and throttles on ``dripline.events`` (CAPABILITIES §4): a settings change,
each counted send and each batch's throttle slots go out as versioned integration events with
ids only, every type and field described in the AsyncAPI document. The relay runs
in-process against FastStream's test broker."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from tests.api.conftest import V1, build_sequence, ok
from tests.promises.support import run_scheduler, step
from tests.promises.test_integration_events import _documented, relayed_in_process

T = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _story(client: TestClient, runtime: Runtime, clock: ManualClock) -> list[str]:
    """Two contacts capped at one email a day and a throttle of one a minute: the first is
    sent at once (counted), the second waits for the next minute's slot."""
    clock.set(T - timedelta(minutes=1))
    ok(client.put(f"{V1}/settings", json={
        "frequency_cap": {"rules": [{"channel": "email", "max_messages": 1,
                                     "window": "rolling_24h"}]},
        "throttle": {"email": {"per_minute": 1}}}))
    sequence = build_sequence(client, {"name": "News", "steps": [
        step(0, "News of the day", minutes=1, channel="email")]})
    bulk = ok(client.post(f"{V1}/sequences/{sequence['id']}/enroll/bulk",
                          json={"contact_ids": ["ana", "bob"]}))
    clock.set(T)
    run_scheduler(runtime)
    clock.set(T + timedelta(minutes=1))
    run_scheduler(runtime)
    return [e["enrollment_id"] for e in bulk["enrolled"]]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_cap_and_throttle_events_are_published_with_ids_only(
        acme: TestClient, runtime: Runtime, clock: ManualClock, sqlite_url: str) -> None:
    enrolled = await asyncio.to_thread(_story, acme, runtime, clock)
    raw = await relayed_in_process(runtime, sqlite_url)

    records: list[dict[str, Any]] = [json.loads(r) for r in raw]
    [updated] = [r for r in records if r["type"] == "tenant.settings_updated"]
    assert sorted(updated["changes"]) == ["frequency_cap", "throttle"]
    counted = [r for r in records if r["type"] == "ledger.send_counted"]
    assert sorted(r["contact_id"] for r in counted) == ["ana", "bob"]
    assert all(r["channel"] == "email" and r["message_id"].endswith(":0:1") for r in counted)
    reserved = [r for r in records if r["type"] == "throttle.reserved"]
    assert [(r["minute"], r["count"]) for r in reserved] == [
        (T.isoformat(), 1), ((T + timedelta(minutes=1)).isoformat(), 1)]
    assert sorted(i for r in reserved for i in r["enrollment_ids"]) == sorted(enrolled)
    assert "News of the day" not in b"".join(raw).decode()
    words, fields = _documented()
    mine = [r for r in records if r["type"] in
            ("tenant.settings_updated", "ledger.send_counted", "throttle.reserved")]
    assert sorted({r["type"] for r in mine} - words) == []
    assert sorted({f"{r['type']}.{k}" for r in mine for k in r if k not in fields}) == []
    assert all((r["version"], r["tenant_id"]) == (1, "acme") for r in mine)
