"""``dripline.events`` is a contract other services build on, not a dump of the event store:
every record is versioned JSON naming its tenant and the ids involved, and nothing else.
A contact's profile (what the CRM told Dripline about Ana) never leaves through it, nor do
the store's own bookkeeping records, nor message content; and every type a consumer can see
is described in the AsyncAPI document.

The story runs over HTTP on the test's clock; ``dripline relay`` (a real process) publishes
to the real broker; a plain Kafka consumer reads every record back."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from consumers.relay import RELAY, relay_positions
from consumers.settings import KafkaSettings
from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from projections.storage.urls import eventsourcing_env
from tests.api.conftest import V1, build_sequence, ok
from tests.deploy.support import DOCS, load_yaml
from tests.kafka.support import RoleProcess, read_all, settings_env, wait_for
from tests.promises.support import at, let_time_pass, post_event, run_scheduler, step

TAG = "vip-prospect-7731"
PROFILE: dict[str, Any] = {"name": "Ana Quintana-Zephyr", "email": "ana.zephyr@example.com",
                           "phone": "+15550001111",
                           "custom_fields": {"plan": "platinum-zephyr-42"}}
FORM_FIELDS = {"company": "Initrode-Zephyr-9", "budget": "zephyr-budget-77"}
CONTENT = ("Nurture hello", "Welcome aboard")  # the steps' own words: message content
SECRETS: list[str] = [PROFILE["name"], PROFILE["email"], PROFILE["phone"], "platinum-zephyr-42",
                      *FORM_FIELDS.values(), TAG, *CONTENT]
EXPECTED = {"sequence.created", "sequence.activated", "sequence.paused", "sequence.resumed",
            "enrollment.started", "enrollment.step_requested", "enrollment.message_delivered",
            "enrollment.exited", "enrollment.completed"}
REQUIRED = ("type", "version", "event_id", "tenant_id", "occurred_at")
ENROLLMENT_IDS = ("sequence_id", "enrollment_id", "contact_id")
STEP_IDS = ("step_order", "step_id")


def _story(client: TestClient, runtime: Runtime, clock: ManualClock) -> dict[str, str]:
    """Ana is described, fills a form, is tagged, gets a first message and replies; Bob
    goes through a one-step welcome to the end. Returns the two enrollment ids."""
    nurture = build_sequence(client, {
        "name": "Nurture", "trigger_type": "tag_added", "trigger_data": {"tag_name": TAG},
        "exit_on_reply": True, "steps": [step(0, "Nurture hello {{contact.name}}"),
                                         step(1, "Nurture again", minutes=60)]})
    welcome = build_sequence(client, {"name": "Welcome",
                                      "steps": [step(0, "Welcome aboard {{contact.name}}")]})
    assert nurture["status"] == "active"
    url = f"{V1}/sequences/{welcome['id']}"
    ok(client.post(f"{url}/pause"))
    ok(client.post(f"{url}/resume"))

    clock.set(at("10:00"))
    post_event(client, "evt-profile", "contact_updated", "ana", PROFILE, clock())
    post_event(client, "evt-form", "form_submit", "ana",
               {"form_id": "f-demo", "fields": FORM_FIELDS}, clock())
    [ana] = post_event(client, "evt-tag", "tag_added", "ana", {"tag_id": "t-vip",
                                                                "tag_name": TAG},
                       clock())["enrolled"]
    run_scheduler(runtime)
    clock.set(at("10:05"))
    post_event(client, "evt-reply", "contact_replied", "ana", {"channel": "whatsapp"}, clock())

    bob = ok(client.post(f"{url}/enroll", json={"contact_id": "bob"}), 201)["id"]
    run_scheduler(runtime)
    clock.set(at("10:07"))
    post_event(client, "evt-delivered", "message_delivered", "bob",
               {"message_id": f"{bob}:0:1"}, clock())
    let_time_pass(runtime, clock, timedelta(hours=1))
    ended = {name: ok(client.get(f"{V1}/enrollments/{i}"))["status"]
             for name, i in (("ana", ana), ("bob", bob))}
    assert ended == {"ana": "exited", "bob": "completed"}
    return {"ana": ana, "bob": bob}


async def _published(settings: KafkaSettings, database_url: str, head: int,
                     log: Path) -> list[bytes]:
    """Run ``dripline relay`` until it has published the store up to ``head``; every
    record of ``dripline.events``, raw."""
    positions = relay_positions(eventsourcing_env(database_url))

    async def caught_up() -> bool:
        return (await asyncio.to_thread(positions.max_tracking_id, RELAY) or 0) >= head

    relay = RoleProcess("relay", settings_env(settings, database_url), log)
    try:
        await wait_for(caught_up, "the relay to publish the whole store")
    finally:
        relay.stop()
    return [r.value for r in await read_all(settings.bootstrap, settings.topic_domain_events,
                                            at_least=1)]


def _documented_types() -> set[str]:
    """Every name mentioned under the ``dripline.events`` channel's messages (references
    followed): message names, titles, constants, enumerations, descriptions."""
    [spec] = load_yaml(DOCS / "asyncapi.yaml")
    channels = [c for name, c in spec["channels"].items()
                if c.get("address") == "dripline.events" or name == "dripline.events"]
    assert channels, "docs/asyncapi.yaml has no dripline.events channel"
    words: set[str] = set()

    def walk(node: Any, seen: frozenset[str]) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/") and ref not in seen:
                target: Any = spec
                for part in ref[2:].split("/"):
                    target = target[part]
                walk(target, seen | {ref})
            for key, value in node.items():
                words.add(str(key))
                walk(value, seen)
        elif isinstance(node, list):
            for item in node:
                walk(item, seen)
        elif isinstance(node, str):
            words.update(w.rstrip(".") for w in re.findall(r"[A-Za-z0-9_.]+", node))

    for channel in channels:
        walk(channel.get("messages", {}), frozenset())
    return words


def _assert_contract(raw: list[bytes], enrollments: dict[str, str]) -> None:
    """What a consuming service may rely on, checked record by record."""
    leaked = sorted({s for s in SECRETS for r in raw if s.encode() in r})
    assert leaked == [], f"profile data or content on dripline.events: {leaked}"
    records = [json.loads(r) for r in raw]
    for record in records:
        missing = [f for f in REQUIRED if f not in record]
        assert missing == [], f"{record.get('type')} lacks {missing}: {record}"
        assert (type(record["version"]), record["version"]) == (int, 1), record
        assert record["tenant_id"] == "acme", record
        assert isinstance(record["event_id"], str), record
        assert datetime.fromisoformat(record["occurred_at"]).tzinfo is not None, record
    assert len({r["event_id"] for r in records}) == len(records)
    types = {r["type"] for r in records}
    internal = sorted(t for t in types if "contact." in t or "slot" in t.lower())
    assert internal == [], f"store bookkeeping published: {internal}"
    assert sorted(EXPECTED - types) == []

    for record in records:
        if record["type"].startswith("enrollment."):
            assert [f for f in ENROLLMENT_IDS if f not in record] == [], record
            assert record["enrollment_id"] in enrollments.values(), record
    requested = [r for r in records if r["type"] == "enrollment.step_requested"]
    assert {(r["contact_id"], r["message_id"]) for r in requested} == {
        ("ana", f"{enrollments['ana']}:0:1"), ("bob", f"{enrollments['bob']}:0:1")}
    assert all([f for f in STEP_IDS if f not in r] == [] for r in requested), requested
    [exited] = [r for r in records if r["type"] == "enrollment.exited"]
    assert (exited["contact_id"], exited["reason"]) == ("ana", "contact_replied")
    [completed] = [r for r in records if r["type"] == "enrollment.completed"]
    assert completed["contact_id"] == "bob"

    undocumented = sorted({r["type"] for r in records} - _documented_types())
    assert undocumented == [], f"not described in docs/asyncapi.yaml: {undocumented}"


@pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
async def test_dripline_events_carry_ids_only_in_a_documented_versioned_shape(
        kafka_settings: KafkaSettings, acme: TestClient, runtime: Runtime,
        clock: ManualClock, tmp_path: Path) -> None:
    enrollments = await asyncio.to_thread(_story, acme, runtime, clock)
    head = runtime.app.recorder.max_notification_id() or 0
    raw = await _published(kafka_settings, runtime.settings.database_url, head,
                           tmp_path / "relay.log")

    _assert_contract(raw, enrollments)
