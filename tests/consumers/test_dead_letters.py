"""Malformed and failing CRM events go to the dead-letter topic with why and where from; the
events around them are applied and the partition's position moves past them."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import Any

from consumers import dlq
from consumers.tracked import position, tracking_name
from domain.clock import ManualClock
from tests.consumers.scenario import enrollment, sequence
from tests.consumers.support import TENANT, Harness, harness


def envelope(event_id: str, contact: str, at: datetime, **data: Any) -> bytes:
    return json.dumps({"event_id": event_id, "type": "tag_added", "tenant_id": TENANT,
                       "contact_id": contact, "occurred_at": at.isoformat(),
                       "data": data}).encode()


def reasons(kafka: Harness) -> list[tuple[str, str]]:
    return [(h[dlq.REASON], h[dlq.SOURCE_OFFSET]) for _, h in kafka.dead]


async def test_each_kind_of_malformed_event_is_dead_lettered_with_its_reason(
        kafka: Harness, clock: ManualClock) -> None:
    seq = sequence(kafka.app, "tag_added", tag_id="t-1")
    await kafka.send("tag_added", "c-1", clock(), tag_id="t-1")  # offset 0
    await kafka.send_raw(b"{not json")  # 1
    await kafka.send_raw(json.dumps({"event_id": "e", "type": "tag_added"}).encode())  # 2
    await kafka.send("list_joined", "c-2", clock(), list_name="no id")  # 3: domain-invalid
    await kafka.send("tag_added", "c-3", clock(), tag_id="t-1")  # 4
    assert reasons(kafka) == [("bad_json", "1"), ("invalid_envelope", "2"),
                              ("invalid_event", "3")]
    value, headers = kafka.dead[0]
    assert value == b"{not json"
    assert headers[dlq.SOURCE_TOPIC] == kafka.settings.topic_crm_events
    assert headers[dlq.SOURCE_PARTITION] == "0"
    assert "data.list_id" in kafka.dead[2][1][dlq.DETAIL]
    assert enrollment(kafka.app, seq, "c-1")
    assert enrollment(kafka.app, seq, "c-3")
    assert position(kafka.app, tracking_name(kafka.settings.topic_crm_events, 0)) == 5


async def test_a_poison_event_inside_a_batch_does_not_hold_back_the_others(
        kafka: Harness, clock: ManualClock) -> None:
    seq = sequence(kafka.app, "tag_added", tag_id="t-1")
    batch = [envelope(f"e-{i}", f"c-{i}", clock(), tag_id="t-1") for i in range(6)]
    batch[3] = envelope("e-3", "c-3", clock())  # a tag event without tag_id or tag_name
    await kafka.edge.broker.publish_batch(*batch, topic=kafka.settings.topic_crm_events)
    assert reasons(kafka) == [("invalid_event", "3")]
    applied = [c for c in (f"c-{i}" for i in range(6)) if enrollment(kafka.app, seq, c)]
    assert applied == ["c-0", "c-1", "c-2", "c-4", "c-5"]


async def test_an_unknown_tenant_is_dead_lettered_when_tenants_are_listed(
        sqlite_url: str, clock: ManualClock) -> None:
    async with harness(sqlite_url, clock, tenants="acme,globex") as kafka:
        await kafka.send("tag_added", "c-1", clock(), tenant="initech", tag_id="t")
        await kafka.send("tag_added", "c-1", clock(), tenant="globex", tag_id="t")
        assert reasons(kafka) == [("unknown_tenant", "0")]


class FailingTriggers:
    """The store, with its trigger index failing for one tenant: ``failures`` times, or
    always (-1); everything else goes to the real store."""

    def __init__(self, store: Any, tenant: str, failures: int) -> None:
        self.store, self.tenant, self.failures, self.calls = store, tenant, failures, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def trigger_view(self, tenants: Collection[str]) -> Any:
        if self.tenant in tenants:
            self.calls += 1
            if self.failures < 0 or self.calls <= self.failures:
                raise RuntimeError("trigger index unavailable")
        return self.store.trigger_view(tenants)


async def test_a_failing_event_is_retried_then_dead_lettered(
        sqlite_url: str, clock: ManualClock) -> None:
    async with harness(sqlite_url, clock) as kafka:
        kafka.app.core.store = FailingTriggers(kafka.app.core.store, "broken", failures=-1)
        seq = sequence(kafka.app, "tag_added", tag_id="t-1")
        await kafka.send("tag_added", "c-1", clock(), tenant="broken", tag_id="t-1")
        await kafka.send("tag_added", "c-2", clock(), tag_id="t-1")
        assert [(h[dlq.REASON], h[dlq.ATTEMPTS]) for _, h in kafka.dead] == [("failed", "3")]
        assert "trigger index unavailable" in kafka.dead[0][1][dlq.DETAIL]
        assert enrollment(kafka.app, seq, "c-2") is not None


async def test_a_transient_failure_is_retried_and_applied(
        sqlite_url: str, clock: ManualClock) -> None:
    async with harness(sqlite_url, clock) as kafka:
        kafka.app.core.store = FailingTriggers(kafka.app.core.store, TENANT, failures=2)
        seq = sequence(kafka.app, "tag_added", tag_id="t-1")
        await kafka.send("tag_added", "c-1", clock(), tag_id="t-1")
        assert kafka.dead == []
        assert enrollment(kafka.app, seq, "c-1") is not None
