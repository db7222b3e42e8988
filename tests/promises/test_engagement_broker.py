"""Message lifecycle events from Kafka (CAPABILITIES §2): opens, clicks and replies land on
the enrollment that asked for the message, duplicates have no effect, and an open naming a
message the tenant never requested goes to the dead-letter topic. Real broker, the intake
role on the test's clock, results read over HTTP."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from uuid import UUID

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


def _rounded(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


@pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
async def test_scripted_engagement_and_a_goal_from_kafka(
        kafka_settings: KafkaSettings, acme: TestClient, runtime: Runtime,
        clock: ManualClock) -> None:
    """100 contacts through a 3-step sequence (all three requested at once), scripted
    deliveries, opens (some by machines), clicks and replies from Kafka give exactly the
    expected counts and rates per step; a goal event from Kafka exits another sequence's
    enrollment mid-delay with goal_reached, and its later step is never requested."""
    clock.set(NOW - timedelta(minutes=30))
    steps = [step(n, f"step {n}", channel="email") for n in range(3)]
    news = build_sequence(acme, {"name": "News", "exit_on_reply": False, "steps": steps})
    contacts = [f"n-{i}" for i in range(100)]
    bulk = ok(acme.post(f"{V1}/sequences/{news['id']}/enroll/bulk",
                        json={"contact_ids": contacts}))
    assert bulk["enrolled_count"] == 100
    enrollment = {e["contact_id"]: e["enrollment_id"] for e in bulk["enrolled"]}
    deal = build_sequence(acme, {
        "name": "Deal", "goal": {"event_type": "pipeline_status_changed",
                                 "match": {"pipeline_id": "p-1", "status": "won"}},
        "steps": [step(0, "hello"), step(1, "later", minutes=3 * 24 * 60)]})
    buyer = ok(acme.post(f"{V1}/sequences/{deal['id']}/enroll",
                         json={"contact_id": "buyer"}), 201)["id"]
    clock.set(NOW)

    expected = {n: dict.fromkeys(("delivered", "opened", "opened_machine", "clicked",
                                  "replied"), 0) for n in range(3)}
    records: list[tuple[str, bytes]] = []
    at = NOW - timedelta(minutes=10)
    for i, contact in enumerate(contacts):
        for n in range(3):
            message_id = f"{enrollment[contact]}:{n}:1"
            if (i + n) % 10 < 7:
                records.append((contact, envelope(f"d-{i}-{n}", contact, at,
                                                  "message_delivered", message_id=message_id)))
                expected[n]["delivered"] += 1
            if (i + 2 * n) % 10 < 4:
                machine = i % 4 == 0
                records.append((contact, envelope(f"o-{i}-{n}", contact, at, "message_opened",
                                                  message_id=message_id, machine=machine)))
                expected[n]["opened_machine" if machine else "opened"] += 1
                if (i + 2 * n) % 10 >= 2 and not machine:
                    records.append((contact, envelope(f"k-{i}-{n}", contact, at,
                                                      "message_clicked",
                                                      message_id=message_id,
                                                      url="https://example.test/x")))
                    expected[n]["clicked"] += 1
        if i % 10 == 0:  # a reply naming its message (step 1)
            records.append((contact, envelope(f"r-{i}", contact, at + timedelta(minutes=1),
                                              "contact_replied", channel="email",
                                              message_id=f"{enrollment[contact]}:1:1")))
            expected[1]["replied"] += 1
    records.append(("buyer", envelope("won-1", "buyer", at, "pipeline_status_changed",
                                      pipeline_id="p-1", status="won")))
    topic = kafka_settings.topic_crm_events
    await create_topic(kafka_settings.bootstrap, topic, 2)
    await produce(kafka_settings.bootstrap, topic, records)
    stop = asyncio.Event()
    intake = asyncio.create_task(run_intake(kafka_settings, runtime.settings.database_url,
                                            clock=clock, stop=stop))
    try:
        implied = sum((i + n) % 10 >= 7 and (i + 2 * n) % 10 < 4
                      for i in range(100) for n in range(3))
        totals = (sum(e["delivered"] for e in expected.values()) + implied,
                sum(e["opened"] + e["opened_machine"] for e in expected.values()),
                sum(e["clicked"] for e in expected.values()), 10)

        async def all_applied() -> bool:
            def seen() -> tuple[int, ...]:
                runtime.catch_up()
                found = ok(acme.get(f"{V1}/sequences/{news['id']}/stats"))["engagement"]
                return (int(found["delivered"]), int(found["opened"] + found["opened_machine"]),
                        int(found["clicked"]), int(found["replied"]))
            return await asyncio.to_thread(seen) == totals
        await wait_for(all_applied, "the scripted events to be applied")
        await wait_for(lambda: asyncio.to_thread(
            lambda: ok(acme.get(f"{V1}/enrollments/{buyer}"))["status"] == "exited"),
            "the goal to exit the buyer")
    finally:
        stop.set()
        await intake

    runtime.catch_up()
    stats = ok(acme.get(f"{V1}/sequences/{news['id']}/stats"))
    for row in stats["steps"]:
        n, want = row["step_order"], expected[row["step_order"]]
        implied = 0  # opens and clicks of undelivered messages deliver them
        for i in range(100):
            if (i + n) % 10 >= 7 and (i + 2 * n) % 10 < 4:
                implied += 1
        delivered = want["delivered"] + implied
        assert (row["message_requested"], row["delivered"], row["opened"],
                row["opened_machine"], row["clicked"], row["replied"]) == (
            100, delivered, want["opened"], want["opened_machine"], want["clicked"],
            want["replied"]), n
        assert row["rates"]["base"] == "delivered"
        assert row["rates"]["open_rate"] == _rounded(want["opened"], delivered)
        assert row["rates"]["click_rate"] == _rounded(want["clicked"], delivered)
        assert row["rates"]["reply_rate"] == _rounded(want["replied"], delivered)

    bought = ok(acme.get(f"{V1}/enrollments/{buyer}"))
    assert bought["exit_reason"] == "goal_reached"
    clock.set(NOW + timedelta(days=4))
    runtime.app.execute_due([UUID(buyer)])
    runtime.catch_up()
    sent = ok(acme.get(f"{V1}/messages", params={"enrollment_id": buyer}))["items"]
    assert [m["step_order"] for m in sent] == [0]  # step 1 was never requested
    conversions = ok(acme.get(f"{V1}/sequences/{deal['id']}/stats"))["conversions"]
    assert (conversions["converted"], conversions["conversion_rate"]) == (1, 1.0)
