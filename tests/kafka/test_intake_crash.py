"""Two intake processes share the partitions of ``crm.events``; one is killed with SIGKILL in
the middle of the stream and started again. Every contact is enrolled exactly once and no
event is lost or applied twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from consumers.settings import KafkaSettings
from consumers.tracked import position, tracking_name
from domain.application import DriplineApp
from projections.storage.urls import eventsourcing_env
from tests.consumers.scenario import sequence
from tests.integration.store import census, decoded
from tests.kafka.support import (
    RoleProcess,
    create_topic,
    envelope,
    partition_ends,
    produce,
    settings_env,
    wait_for,
)

EVENTS = 1200
PARTITIONS = 4


async def test_a_consumer_killed_mid_stream_loses_nothing_and_repeats_nothing(
        kafka_settings: KafkaSettings, postgres_url: str, tmp_path: Path) -> None:
    settings = kafka_settings.model_copy(update={"intake_batch_size": 25,
                                                 "kafka_session_timeout_ms": 3000})
    topic = settings.topic_crm_events
    app = DriplineApp(env=eventsourcing_env(postgres_url))
    try:
        seq = sequence(app, "tag_added", tag_id="t-1")
        at = datetime(2026, 11, 29, 9, tzinfo=UTC)
        await create_topic(settings.bootstrap, topic, PARTITIONS)
        await produce(settings.bootstrap, topic, [
            (f"c-{i}", envelope(f"e-{i}", f"c-{i}", at, tag_id="t-1")) for i in range(EVENTS)])
        ends = await partition_ends(settings.bootstrap, topic, EVENTS)
        assert sum(ends.values()) == EVENTS
        assert len([p for p, end in ends.items() if end]) > 1  # really several partitions

        def applied() -> int:
            return sum(position(app, tracking_name(topic, p)) for p in ends)

        async def progress(at_least: int) -> bool:
            return await asyncio.to_thread(applied) >= at_least

        env = settings_env(settings, postgres_url)
        log = tmp_path / "intake.log"
        victim, survivor = RoleProcess("intake", env, log), RoleProcess("intake", env, log)
        try:
            await wait_for(lambda: progress(EVENTS // 4), "a quarter of the events applied")
            victim.kill()
            killed_at = await asyncio.to_thread(applied)
            assert killed_at < EVENTS, "the stream ended before the kill: nothing was tested"
            victim = RoleProcess("intake", env, log)
            await wait_for(lambda: progress(EVENTS), "every event applied", timeout=90)
        finally:
            victim.stop()
            survivor.stop()
        assert {p: position(app, tracking_name(topic, p)) for p in ends} == ends

        found = census(app, seq)
        assert found.orphans == []
        assert found.per_contact() == Counter({1: EVENTS})  # every contact enrolled once
        tagged = Counter(e.event_id for e in decoded(app, ("contact.tag_added",)))
        assert len(tagged) == EVENTS
        assert set(tagged.values()) == {1}  # no event applied twice
    finally:
        app.close()
