"""Enroll, let the step fall due, execute it: the message request comes out on
``dripline.messages``, read by a plain Kafka consumer. The relay is killed and restarted on
the way: every request is there, and the only duplicates are of the batch that was in flight,
recognisable by their ``message_id``."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

from consumers.relay import MESSAGE_ID, POSITION, RELAY, relay_positions
from consumers.settings import KafkaSettings
from domain import ids
from domain.application import DriplineApp
from domain.clock import ManualClock
from projections.storage.urls import eventsourcing_env
from tests.consumers.scenario import sequence
from tests.kafka.support import RoleProcess, read_all, settings_env, wait_for

CONTACTS = 300
BATCH = 20


async def test_message_requests_reach_kafka_across_a_relay_crash(
        kafka_settings: KafkaSettings, postgres_url: str, clock: ManualClock,
        tmp_path: Path) -> None:
    settings = kafka_settings.model_copy(update={"relay_batch_size": BATCH})
    env = eventsourcing_env(postgres_url)
    app = DriplineApp(env=env, clock=clock)
    positions = relay_positions(env)
    try:
        seq = sequence(app, "manual")
        contacts = [f"c-{i}" for i in range(CONTACTS)]
        app.enroll_many("acme", seq, contacts)
        clock.advance(timedelta(hours=2))  # the first step is due an hour after enrolling
        outcomes = app.execute_due([ids.enrollment_id(seq, c, 1) for c in contacts])
        expected = {o.message_id for o in outcomes if o.result == "requested"}
        assert len(expected) == CONTACTS
        head = app.recorder.max_notification_id() or 0

        def relayed() -> int:
            return positions.max_tracking_id(RELAY) or 0

        async def reached(position: int) -> bool:
            return await asyncio.to_thread(relayed) >= position

        process_env = settings_env(settings, postgres_url)
        log = tmp_path / "relay.log"
        relay = RoleProcess("relay", process_env, log)
        try:
            await wait_for(lambda: reached(head // 4), "a quarter of the log relayed")
            relay.kill()
            killed_at = relayed()
            assert killed_at < head, "the relay finished before the kill: nothing was tested"
            relay = RoleProcess("relay", process_env, log)
            await wait_for(lambda: reached(head), "the whole log relayed")
        finally:
            relay.stop()
    finally:
        app.close()

    records = await read_all(settings.bootstrap, settings.topic_messages, at_least=CONTACTS)
    requests = [json.loads(r.value) for r in records]
    assert {q["message_id"] for q in requests} == expected  # every request, nothing else
    for record, request in zip(records, requests, strict=True):
        assert record.headers[MESSAGE_ID] == request["message_id"]
        assert record.key == request["contact_id"].encode()
        assert request["sequence_id"] == str(seq)
        assert request["content"].startswith("Hi")
    repeated = Counter(q["message_id"] for q in requests) - Counter(expected)
    window = {int(r.headers[POSITION]) for r in records
              if json.loads(r.value)["message_id"] in repeated}
    # Duplicates only from the one batch that was published but not yet confirmed.
    assert all(killed_at < p <= killed_at + BATCH for p in window), (killed_at, window)
