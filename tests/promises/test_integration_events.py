"""``dripline.events`` is a contract other services build on, not a dump of the event store:
every record is versioned JSON naming its tenant and the ids involved, and nothing else.
A contact's profile (what the CRM told Dripline about Ana) never leaves through it, nor do
the store's own bookkeeping records, nor message content; and every type a consumer can see
is described in the AsyncAPI document, with every field it carries.

The story runs over HTTP on the test's clock, revisions of a live sequence included (a
migration moves two waiting contacts to a rewritten step, a later one removes it). With a
broker, ``dripline relay`` (a real process) publishes to it and a plain Kafka consumer reads
every record back; without one, the relay runs in-process against FastStream's test broker,
so the contract is checked on every run."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from consumers.integration import TYPES
from consumers.kafka_app import build_edge
from consumers.relay import RELAY, Relay, relay_positions
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
# The steps' own words: message content.
CONTENT = ("Nurture hello", "Welcome aboard", "Onboard hello", "Onboard tips")
SECRETS: list[str] = [PROFILE["name"], PROFILE["email"], PROFILE["phone"], "platinum-zephyr-42",
                      *FORM_FIELDS.values(), TAG, *CONTENT]
EXPECTED = {"sequence.created", "sequence.activated", "sequence.paused", "sequence.resumed",
            "sequence.revision_created", "sequence.revision_published",
            "sequence.revision_discarded", "enrollment.started", "enrollment.step_requested",
            "enrollment.message_delivered", "enrollment.exited", "enrollment.completed",
            "enrollment.migrated", "template.created", "template.updated",
            "template.deleted"}
REQUIRED = ("type", "version", "event_id", "tenant_id", "occurred_at")
ENROLLMENT_IDS = ("sequence_id", "enrollment_id", "contact_id")
STEP_IDS = ("step_order", "step_id")


@dataclass(frozen=True)
class Story:
    enrollments: dict[str, str]  # contact -> enrollment id
    onboarding: str  # the sequence with revisions
    s1: str  # its second step in revision 1
    s1_new: str  # the rewritten step that replaces it in revision 2


def _migrate(runtime: Runtime) -> None:
    """What a running ``dripline schedule`` does between scans: carry the running
    migrations on, a batch at a time, until none has work left."""
    while runtime.app.revisions.run_migrations():
        pass


def _revisions(client: TestClient, runtime: Runtime) -> Story:
    """Cara and Dan wait at Onboarding's second step (s1). Revision 2 replaces it with a
    rewritten step and migrates them there; Eve starts on revision 2. A draft revision 3 is
    discarded; revision 4 drops the rewritten step and all three leave (step_removed)."""
    onboarding = build_sequence(client, {"name": "Onboarding", "steps": [
        step(0, "Onboard hello {{contact.name}}"), step(1, "Onboard tips", minutes=60)]})
    url = f"{V1}/sequences/{onboarding['id']}"
    s1 = onboarding["steps"][1]["id"]
    ids = {c: ok(client.post(f"{url}/enroll", json={"contact_id": c}), 201)["id"]
           for c in ("cara", "dan")}
    run_scheduler(runtime)

    second = ok(client.post(f"{url}/revisions", json={}), 201)["revision"]
    ok(client.delete(f"{url}/revisions/{second}/steps/{s1}"))
    s1_new = ok(client.post(f"{url}/revisions/{second}/steps",
                            json=step(1, "Onboard tips, rewritten", minutes=60)),
                201)["step"]["id"]
    ok(client.post(f"{url}/revisions/{second}/publish",
                   json={"migrate": {"step_map": {s1: {"to": s1_new}}}}))
    _migrate(runtime)
    progress = ok(client.get(f"{url}/revisions/{second}/migration"))
    assert {k: progress[k] for k in ("total", "migrated", "exited", "conflicts", "done")} == {
        "total": 2, "migrated": 2, "exited": 0, "conflicts": 0, "done": True}
    ids["eve"] = ok(client.post(f"{url}/enroll", json={"contact_id": "eve"}), 201)["id"]
    run_scheduler(runtime)

    third = ok(client.post(f"{url}/revisions", json={}), 201)["revision"]
    assert client.delete(f"{url}/revisions/{third}").status_code == 204
    fourth = ok(client.post(f"{url}/revisions", json={}), 201)["revision"]
    ok(client.delete(f"{url}/revisions/{fourth}/steps/{s1_new}"))
    ok(client.post(f"{url}/revisions/{fourth}/publish",
                   json={"migrate": {"step_map": {s1_new: {"exit": True}}}}))
    _migrate(runtime)
    left = {c: ok(client.get(f"{V1}/enrollments/{i}"))["exit_reason"] for c, i in ids.items()}
    assert left == dict.fromkeys(ids, "step_removed")
    return Story(ids, onboarding["id"], s1, s1_new)


def _story(client: TestClient, runtime: Runtime, clock: ManualClock) -> Story:
    """Ana is described, fills a form, is tagged, gets a first message and replies; Bob
    goes through a one-step welcome to the end; then Onboarding's revisions (above)."""
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
    revised = _revisions(client, runtime)
    _templates(client)
    return replace(revised, enrollments={"ana": ana, "bob": bob, **revised.enrollments})


def _templates(client: TestClient) -> None:
    """A template of acme's is made, changed and deleted: its content never travels."""
    template = ok(client.post(f"{V1}/templates", json={
        "kind": "step", "name": "Secret offer", "category": "nurture",
        "message_template": {"type": "text", "content": CONTENT[0]}}), 201)
    url = f"{V1}/templates/{template['id']}"
    ok(client.put(url, json={"message_template": {"type": "text", "content": CONTENT[1]}}))
    assert client.delete(url).status_code == 204


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


def _documented() -> tuple[set[str], set[str]]:
    """Under the ``dripline.events`` channel's messages (references followed): every name
    mentioned (message names, titles, constants, enumerations, descriptions), and the
    names of the payload's properties."""
    [spec] = load_yaml(DOCS / "asyncapi.yaml")
    channels = [c for name, c in spec["channels"].items()
                if c.get("address") == "dripline.events" or name == "dripline.events"]
    assert channels, "docs/asyncapi.yaml has no dripline.events channel"
    words: set[str] = set()
    fields: set[str] = set()

    def walk(node: Any, seen: frozenset[str]) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/") and ref not in seen:
                target: Any = spec
                for part in ref[2:].split("/"):
                    target = target[part]
                walk(target, seen | {ref})
            if isinstance(node.get("properties"), dict):
                fields.update(str(k) for k in node["properties"])
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
    return words, fields


def _documented_types() -> set[str]:
    return _documented()[0]


def _assert_contract(raw: list[bytes], story: Story) -> None:
    """What a consuming service may rely on, checked record by record."""
    enrollments = story.enrollments
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
        (contact, f"{enrollment}:0:1") for contact, enrollment in enrollments.items()}
    assert all([f for f in STEP_IDS if f not in r] == [] for r in requested), requested
    exited = {r["contact_id"]: r["reason"] for r in records if r["type"] == "enrollment.exited"}
    assert exited == {"ana": "contact_replied", "cara": "step_removed",
                      "dan": "step_removed", "eve": "step_removed"}
    [completed] = [r for r in records if r["type"] == "enrollment.completed"]
    assert completed["contact_id"] == "bob"
    _assert_revisions(records, story)
    templates = [(r["type"], r["kind"]) for r in records if r["type"].startswith("template.")]
    assert templates == [("template.created", "step"), ("template.updated", "step"),
                         ("template.deleted", "step")]
    assert len({r["template_id"] for r in records if "template_id" in r}) == 1

    words, fields = _documented()
    undocumented = sorted({r["type"] for r in records} - words)
    assert undocumented == [], f"not described in docs/asyncapi.yaml: {undocumented}"
    unnamed = sorted({f"{r['type']}.{k}" for r in records for k in r if k not in fields})
    assert unnamed == [], f"fields not described in docs/asyncapi.yaml: {unnamed}"


def _assert_revisions(records: list[dict[str, Any]], story: Story) -> None:
    """Revisions as a consumer sees them: each enrollment names the revision it started
    on, revisions are created, discarded and published with the migration asked for (ids
    and a policy), and each moved enrollment says from where to where."""
    started = {r["contact_id"]: r["revision"] for r in records
               if r["type"] == "enrollment.started"}
    assert started == {"ana": 1, "bob": 1, "cara": 1, "dan": 1, "eve": 2}
    of_onboarding = [r for r in records if r["type"].startswith("sequence.revision_")]
    assert all(r["sequence_id"] == story.onboarding for r in of_onboarding), of_onboarding
    assert [(r["type"], {k: r[k] for k in ("revision", "base", "migrate") if k in r})
            for r in of_onboarding] == [
        ("sequence.revision_created", {"revision": 2, "base": 1}),
        ("sequence.revision_published", {"revision": 2, "migrate": {
            "step_map": {story.s1: {"to": story.s1_new}}, "due": "keep"}}),
        ("sequence.revision_created", {"revision": 3, "base": 2}),
        ("sequence.revision_discarded", {"revision": 3}),
        ("sequence.revision_created", {"revision": 4, "base": 2}),
        ("sequence.revision_published", {"revision": 4, "migrate": {
            "step_map": {story.s1_new: {"exit": True}}, "due": "keep"}})]
    moved = {r["contact_id"]: r for r in records if r["type"] == "enrollment.migrated"}
    assert sorted(moved) == ["cara", "dan"]
    for contact, r in moved.items():
        assert r["enrollment_id"] == story.enrollments[contact], r
        assert {k: r[k] for k in ("from_revision", "to_revision", "from_step_id",
                                  "to_step_id")} == {
            "from_revision": 1, "to_revision": 2, "from_step_id": story.s1,
            "to_step_id": story.s1_new}, r
        [begun] = [s for s in records if s["type"] == "enrollment.started"
                   and s["contact_id"] == contact]
        # due "keep": still an hour after the first step, sent as the contact enrolled
        assert datetime.fromisoformat(r["due_at"]) == datetime.fromisoformat(
            begun["due_at"]) + timedelta(minutes=60), r


@pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
async def test_dripline_events_carry_ids_only_in_a_documented_versioned_shape(
        kafka_settings: KafkaSettings, acme: TestClient, runtime: Runtime,
        clock: ManualClock, tmp_path: Path) -> None:
    story = await asyncio.to_thread(_story, acme, runtime, clock)
    head = runtime.app.recorder.max_notification_id() or 0
    raw = await _published(kafka_settings, runtime.settings.database_url, head,
                           tmp_path / "relay.log")

    _assert_contract(raw, story)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_contract_holds_through_the_in_process_relay(
        acme: TestClient, runtime: Runtime, clock: ManualClock, sqlite_url: str) -> None:
    """The same story and checks, fast: the relay in-process, FastStream's test broker."""
    story = await asyncio.to_thread(_story, acme, runtime, clock)
    _assert_contract(await relayed_in_process(runtime, sqlite_url), story)


async def relayed_in_process(runtime: Runtime, sqlite_url: str) -> list[bytes]:
    """Every record the relay publishes on ``dripline.events`` for the whole store, raw: the
    relay in-process, FastStream's test broker."""
    settings = KafkaSettings(kafka_bootstrap_servers="test:9092")
    edge = build_edge(settings)
    raw: list[bytes] = []

    @edge.broker.subscriber(settings.topic_domain_events)
    async def on_event(message: KafkaMessage) -> None:
        raw.append(message.body)

    relay = Relay(runtime.app, relay_positions(eventsourcing_env(sqlite_url)), edge.send)
    async with TestKafkaBroker(edge.broker):
        while await relay.run_once():
            pass
    assert relay.position() == runtime.app.recorder.max_notification_id()
    return raw


def test_every_integration_event_type_is_documented() -> None:
    """Also those the story does not make (a failed send, an archived sequence…)."""
    words, _ = _documented()
    assert sorted(set(TYPES) - words) == []
