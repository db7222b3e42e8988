"""The relay publishes each message request and each integration event once per position,
with ids and the store position in headers, and resumes from its recorded position."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from typing import Any

from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from consumers.kafka_app import build_edge
from consumers.relay import EVENT_ID, EVENT_TYPE, MESSAGE_ID, POSITION, Relay, relay_positions
from consumers.settings import KafkaSettings
from domain import ids
from domain.application import DriplineApp
from domain.clock import ManualClock
from projections.storage.urls import eventsourcing_env
from tests.consumers.scenario import sequence


async def test_requests_and_events_are_published_once_with_their_ids(
        sqlite_url: str, clock: ManualClock) -> None:
    env = eventsourcing_env(sqlite_url)
    app = DriplineApp(env=env, clock=clock)
    settings = KafkaSettings(kafka_bootstrap_servers="test:9092")
    edge = build_edge(settings)
    messages: list[tuple[bytes | None, dict[str, str], object]] = []
    events: list[dict[str, str]] = []

    @edge.broker.subscriber(settings.topic_messages)
    async def on_message(message: KafkaMessage) -> None:
        raw: Any = message.raw_message
        messages.append((raw.key, dict(message.headers), json.loads(message.body)))

    @edge.broker.subscriber(settings.topic_domain_events)
    async def on_event(message: KafkaMessage) -> None:
        events.append(dict(message.headers))

    try:
        seq = sequence(app, "manual")
        app.enroll_many("acme", seq, ["c-1", "c-2"])
        clock.advance(timedelta(hours=2))
        app.execute_due([ids.enrollment_id(seq, c, 1) for c in ("c-1", "c-2")])
        head = app.recorder.max_notification_id()
        relay = Relay(app, relay_positions(env), edge.send, batch_size=3)
        async with TestKafkaBroker(edge.broker):
            while await relay.run_once():
                pass
            assert await relay.run_once() == 0  # up to date: nothing is published again
        assert relay.position() == head
        positions = [int(e[POSITION]) for e in events]
        assert positions == sorted(set(positions))  # in store order, each once
        assert len({e[EVENT_ID] for e in events}) == len(events)
        assert Counter(e[EVENT_TYPE] for e in events) == {
            "sequence.created": 1, "sequence.activated": 1, "enrollment.started": 2,
            "enrollment.step_requested": 2}
        assert sorted(key or b"" for key, _, _ in messages) == [b"c-1", b"c-2"]
        for _, headers, body in messages:
            assert isinstance(body, dict)
            assert headers[MESSAGE_ID] == body["message_id"]
            assert body["content"] == "Hi "  # rendered (the contact has no name yet)
    finally:
        app.close()
