"""The intake against a real broker: redelivered and duplicated events have one effect, a
poison event is dead-lettered between good ones, and a dead letter can be replayed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
import typer
from typer.testing import CliRunner

from consumers import dlq
from consumers.intake import Intake
from consumers.settings import KafkaSettings
from consumers.tracked import position, tracking_name
from domain.application import DriplineApp
from domain.clock import ManualClock
from dripline.cli_kafka import register
from dripline.kafka_roles import run_intake
from projections.storage.urls import eventsourcing_env
from tests.consumers.scenario import contact, enrollment, sequence
from tests.kafka.support import create_topic, envelope, produce, wait_for


@pytest.fixture
def store(sqlite_url: str, clock: ManualClock) -> Iterator[DriplineApp]:
    app = DriplineApp(env=eventsourcing_env(sqlite_url), clock=clock)
    try:
        yield app
    finally:
        app.close()


@asynccontextmanager
async def intake(settings: KafkaSettings, url: str, clock: ManualClock) -> AsyncIterator[
        list[Intake]]:
    stop = asyncio.Event()
    task = asyncio.create_task(run_intake(settings, url, clock=clock, stop=stop))
    done: list[Intake] = []
    try:
        yield done
    finally:
        stop.set()
        done.append(await task)


def cli(args: list[str], settings: KafkaSettings) -> str:
    """Run ``dripline <args>`` (the Kafka commands) as an operator would."""
    app = typer.Typer()
    register(app)
    env = {"DRIPLINE_KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap,
           "DRIPLINE_TOPIC_DEAD_LETTERS": settings.topic_dead_letters}
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    return result.output


async def applied_up_to(app: DriplineApp, settings: KafkaSettings, offset: int) -> None:
    name = tracking_name(settings.topic_crm_events, 0)

    async def reached() -> bool:
        return await asyncio.to_thread(position, app, name) >= offset
    await wait_for(reached, f"{name} to reach {offset}")


async def test_the_same_event_at_two_offsets_has_one_effect(
        kafka_settings: KafkaSettings, sqlite_url: str, store: DriplineApp,
        clock: ManualClock) -> None:
    seq = sequence(store, "tag_added", tag_id="t-1")
    event = envelope("evt-1", "c-1", clock(), tag_id="t-1", tag_name="cold")
    await create_topic(kafka_settings.bootstrap, kafka_settings.topic_crm_events, 1)
    await produce(kafka_settings.bootstrap, kafka_settings.topic_crm_events,
                  [("c-1", event), ("c-1", event)])
    async with intake(kafka_settings, sqlite_url, clock):
        await applied_up_to(store, kafka_settings, 2)
    tag_events = [e for e in store.events.get(contact(store, "c-1").id)
                  if type(e).__name__ == "TagAdded"]
    assert len(tag_events) == 1
    assert enrollment(store, seq, "c-1") is not None
    assert enrollment(store, seq, "c-1", number=2) is None


async def test_a_restarted_intake_resumes_from_the_database_not_from_kafka(
        kafka_settings: KafkaSettings, sqlite_url: str, store: DriplineApp,
        clock: ManualClock) -> None:
    await create_topic(kafka_settings.bootstrap, kafka_settings.topic_crm_events, 1)
    first = [("c-1", envelope("e-1", "c-1", clock(), tag_id="a"))]
    await produce(kafka_settings.bootstrap, kafka_settings.topic_crm_events, first)
    async with intake(kafka_settings, sqlite_url, clock):
        await applied_up_to(store, kafka_settings, 1)
    # A new consumer group has no committed offset and would start at the earliest record
    # (as after losing Kafka's offsets): the database's position still decides.
    renamed = kafka_settings.model_copy(update={"kafka_group_id": "another-group"})
    before = store.recorder.max_notification_id()
    await produce(kafka_settings.bootstrap, kafka_settings.topic_crm_events,
                  [("c-2", envelope("e-2", "c-2", clock(), tag_id="a"))])
    async with intake(renamed, sqlite_url, clock) as ran:
        await applied_up_to(store, kafka_settings, 2)
    assert ran[0].stats.redelivered == 0  # it never even fetched offset 0 again
    assert store.recorder.max_notification_id() == (before or 0) + 2  # c-2 created + tagged


async def test_a_poison_event_is_dead_lettered_and_replayable_after_a_fix(
        kafka_settings: KafkaSettings, sqlite_url: str, store: DriplineApp,
        clock: ManualClock) -> None:
    seq = sequence(store, "tag_added", tag_id="t-1")
    strict = kafka_settings.model_copy(update={"kafka_tenants": "acme"})
    await create_topic(kafka_settings.bootstrap, kafka_settings.topic_crm_events, 1)
    await produce(kafka_settings.bootstrap, kafka_settings.topic_crm_events, [
        ("c-1", envelope("e-1", "c-1", clock(), tag_id="t-1")),
        ("c-x", b"\x00 not json"),
        ("c-2", envelope("e-2", "c-2", clock(), tenant="acme-eu", tag_id="t-1")),
        ("c-3", envelope("e-3", "c-3", clock(), tag_id="t-1")),
    ])
    async with intake(strict, sqlite_url, clock):
        await applied_up_to(store, kafka_settings, 4)
    letters = await dlq.read_letters(kafka_settings.bootstrap, kafka_settings.topic_dead_letters)
    assert [(x.reason, x.source) for x in letters] == [
        ("bad_json", f"{kafka_settings.topic_crm_events}:0:1"),
        ("unknown_tenant", f"{kafka_settings.topic_crm_events}:0:2")]
    assert enrollment(store, seq, "c-1") is not None
    assert enrollment(store, seq, "c-3") is not None
    listed = await asyncio.to_thread(cli, ["dlq", "list", "--json"], kafka_settings)
    assert [json.loads(line)["reason"] for line in listed.splitlines()] == [
        "bad_json", "unknown_tenant"]
    # The fix: acme-eu is served now (its sequence exists); replay its dead letter.
    eu = store.create_sequence("acme-eu", {"name": "eu", "trigger_type": "tag_added",
                                           "trigger_data": {"tag_id": "t-1"},
                                           "steps": [{"order": 0, "name": "s",
                                                      "delay_amount": 1, "delay_unit": "hours",
                                                      "message_template": {
                                                          "type": "text", "content": "hi"}}]})
    store.activate_sequence("acme-eu", eu.id)
    replayed = await asyncio.to_thread(
        cli, ["dlq", "replay", "--reason", "unknown_tenant"], kafka_settings)
    assert "replayed 1 dead letter" in replayed
    fixed = kafka_settings.model_copy(update={"kafka_tenants": "acme,acme-eu"})
    async with intake(fixed, sqlite_url, clock):
        await applied_up_to(store, kafka_settings, 5)
    assert enrollment(store, eu.id, "c-2") is not None
