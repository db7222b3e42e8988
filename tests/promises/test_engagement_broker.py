"""Message lifecycle events from Kafka (CAPABILITIES §2): opens, clicks and replies land on
the enrollment that asked for the message, duplicates have no effect, and an open naming a
message the tenant never requested goes to the dead-letter topic. Real broker, the intake
role on the test's clock, results read over HTTP."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from consumers.settings import KafkaSettings
from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from dripline.kafka_roles import run_intake
from tests.api.conftest import V1, build_sequence, ok
from tests.kafka.support import create_topic, envelope, produce, read_all, wait_for
from tests.promises.support import at, step

NOW = at("10:10")


def _history(client: TestClient, enrollment_id: str) -> list[dict[str, Any]]:
    return list(ok(client.get(f"{V1}/enrollments/{enrollment_id}/history"))["items"])


@pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
async def test_lifecycle_events_from_kafka(kafka_settings: KafkaSettings, acme: TestClient,
                                           runtime: Runtime, clock: ManualClock) -> None:
    clock.set(NOW - timedelta(minutes=30))
    sequence = build_sequence(acme, {"name": "News", "exit_on_reply": False,
                                     "steps": [step(0, "Hi", channel="email")]})
    enrolled = {c: ok(acme.post(f"{V1}/sequences/{sequence['id']}/enroll",
                                json={"contact_id": c}), 201)["id"] for c in ("c-1", "c-2")}
    message = {c: f"{enrolled[c]}:0:1" for c in enrolled}
    clock.set(NOW)
    topic = kafka_settings.topic_crm_events
    await create_topic(kafka_settings.bootstrap, topic, 1)
    minute = NOW - timedelta(minutes=5)
    await produce(kafka_settings.bootstrap, topic, [
        ("c-1", envelope("o-1", "c-1", minute, "message_opened", message_id=message["c-1"])),
        ("c-1", envelope("o-1", "c-1", minute, "message_opened", message_id=message["c-1"])),
        ("c-1", envelope("k-1", "c-1", minute, "message_clicked", message_id=message["c-1"],
                         url="https://example.test/offer")),
        ("c-2", envelope("o-2", "c-2", minute, "message_opened", message_id=message["c-2"],
                         machine=True)),
        ("c-2", envelope("o-3", "c-2", minute, "message_opened",
                         message_id="00000000-0000-0000-0000-000000000000:0:1")),
        ("c-2", envelope("r-1", "c-2", minute, "contact_replied", channel="email")),
    ])
    stop = asyncio.Event()
    intake = asyncio.create_task(run_intake(kafka_settings, runtime.settings.database_url,
                                            clock=clock, stop=stop))
    try:
        async def replied() -> bool:
            history = await asyncio.to_thread(_history, acme, enrolled["c-2"])
            return any(h["type"] == "enrollment.reply_attributed" for h in history)
        await wait_for(replied, "the reply to be attributed")
    finally:
        stop.set()
        await intake

    first = [h["type"] for h in _history(acme, enrolled["c-1"])]
    assert first.count("enrollment.message_opened") == 1  # the redelivered id: no effect
    assert first.count("enrollment.message_delivered") == 1  # implied by the open
    assert first.count("enrollment.message_clicked") == 1
    second = {h["type"]: h["data"] for h in _history(acme, enrolled["c-2"])}
    assert second["enrollment.message_opened"]["machine"] is True
    assert second["enrollment.reply_attributed"]["by"] == "last_message"
    assert second["enrollment.reply_attributed"]["message_id"] == message["c-2"]
    letters = await read_all(kafka_settings.bootstrap, kafka_settings.topic_dead_letters)
    assert [(r.headers["dlq-source-offset"], r.headers["dlq-reason"]) for r in letters] == [
        ("4", "invalid_event")]
