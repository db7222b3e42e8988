"""From Kafka too, an event dated in the future (or naming an impossible contact id) is not
applied: it goes to the dead-letter topic with the reason, and the events around it are
applied. Real broker, the intake role on the test's clock, results read over HTTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from consumers.settings import KafkaSettings
from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from dripline.kafka_roles import run_intake
from tests.api.conftest import V1, build_sequence, ok
from tests.kafka.support import create_topic, envelope, produce, read_all, wait_for
from tests.promises.support import at, cold_lead_sequence, step

NOW = at("10:10")
REASON = "dlq-reason"
SOURCE_OFFSET = "dlq-source-offset"
TAG = {"tag_id": "t-cold", "tag_name": "cold-lead"}


def _enrolled(client: TestClient, runtime: Runtime, contact: str) -> bool:
    runtime.catch_up()
    return bool(ok(client.get(f"{V1}/contacts/{contact}/enrollments"))["items"])


# Two processes' worth of writers (the intake, the API) share the database: PostgreSQL.
@pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
async def test_future_events_and_impossible_ids_are_dead_lettered(
        kafka_settings: KafkaSettings, acme: TestClient, runtime: Runtime,
        clock: ManualClock) -> None:
    build_sequence(acme, cold_lead_sequence(step(0, "Hi there", minutes=60)))
    clock.set(NOW)
    topic = kafka_settings.topic_crm_events
    await create_topic(kafka_settings.bootstrap, topic, 1)
    await produce(kafka_settings.bootstrap, topic, [
        ("c-1", envelope("e-1", "c-1", NOW - timedelta(minutes=10), **TAG)),
        ("c-2", envelope("e-2", "c-2", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), **TAG)),
        ("c-3", envelope("e-3", "c-3", NOW + timedelta(days=1), **TAG)),
        ("x/y", envelope("e-4", "x/y", NOW, **TAG)),
        ("c-5", envelope("e-5", "c-5", NOW, **TAG)),
    ])
    stop = asyncio.Event()
    intake = asyncio.create_task(run_intake(kafka_settings, runtime.settings.database_url,
                                            clock=clock, stop=stop))
    try:
        async def last_one_applied() -> bool:
            return await asyncio.to_thread(_enrolled, acme, runtime, "c-5")
        await wait_for(last_one_applied, "the last event to be applied")
    finally:
        stop.set()
        await intake

    letters = await read_all(kafka_settings.bootstrap, kafka_settings.topic_dead_letters)
    reasons = {int(r.headers[SOURCE_OFFSET]): r.headers[REASON] for r in letters}
    assert {offset: reasons.get(offset) for offset in (1, 2)} == {
        1: "invalid_event", 2: "invalid_event"}  # occurred_at in 9999, and a day ahead
    assert reasons.get(3) in ("invalid_event", "invalid_envelope")  # contact id "x/y"
    assert sorted(reasons) == [1, 2, 3]
    applied = await asyncio.to_thread(
        lambda: [c for c in ("c-1", "c-2", "c-3", "c-5") if _enrolled(acme, runtime, c)])
    assert applied == ["c-1", "c-5"]
