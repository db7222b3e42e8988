"""The deployed shape, on one machine: two copies of every worker role (consume, schedule,
project, relay) against one PostgreSQL database and one Kafka-protocol broker. CRM events go
in through Kafka, message requests come out through Kafka, and every step of every contact is
requested exactly once; SIGTERM stops every process cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from consumers.relay import MESSAGE_ID
from consumers.settings import KafkaSettings
from domain.application import DriplineApp
from domain.clock import system_clock
from projections.storage.urls import eventsourcing_env, postgres_params
from tests.e2e.server import dripline_command, free_port
from tests.kafka.support import (
    Received,
    create_topic,
    envelope,
    produce,
    read_all,
    settings_env,
)

CONTACTS = 150
STEPS = [{"order": n, "name": f"step {n}", "delay_amount": 0, "delay_unit": "minutes",
          "message_template": {"type": "text", "content": f"Hi {{{{ contact.name }}}}, #{n}",
                               "variables": {"contact.name": "there"}}} for n in range(3)]
ROLES = ("consume", "schedule", "project", "relay")


def _start(role: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([*dripline_command(), role], env=env, stdout=out,
                                stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        return -signal.SIGKILL


async def _all_messages(settings: KafkaSettings, expected: int,
                        timeout: float) -> list[Received]:
    """Read the out topic until ``expected`` distinct message ids are there (the topic only
    appears once the first relay publishes); bounded."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        received = await read_all(settings.bootstrap, settings.topic_messages, idle_ms=500)
        if len({r.headers.get(MESSAGE_ID) for r in received}) >= expected:
            return received
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"only {len(received)} of {expected} message requests arrived")
        await asyncio.sleep(0.5)


def _requested_in_store(url: str) -> Counter[str]:
    with psycopg.connect(psycopg.conninfo.make_conninfo(**postgres_params(url))) as conn:
        rows = conn.execute("SELECT originator_id, state FROM dripline_events "
                            "WHERE topic = 'enrollment.step_executed'").fetchall()
    return Counter(f"{originator}:{(step := json.loads(bytes(state)))['step_order']}:"
                   f"{step['attempt']}" for originator, state in rows)


async def test_two_copies_of_every_role_request_each_step_exactly_once(
        kafka_settings: KafkaSettings, postgres_url: str, tmp_path: Path) -> None:
    app = DriplineApp(env=eventsourcing_env(postgres_url), clock=system_clock)
    try:
        sequence = app.create_sequence("acme", {
            "name": "Lead Nurture", "trigger_type": "tag_added",
            "trigger_data": {"tag_name": "cold-lead"}, "steps": STEPS})
        app.activate_sequence("acme", sequence.id)
    finally:
        app.close()
    await create_topic(kafka_settings.bootstrap, kafka_settings.topic_crm_events, 3)
    env = {**settings_env(kafka_settings, postgres_url), "DRIPLINE_LOG_FORMAT": "json"}
    ports = {(role, copy): free_port() for role in ROLES for copy in (1, 2)}
    processes = [_start(role, {**env, "DRIPLINE_METRICS_PORT": str(ports[role, copy])},
                        tmp_path / f"{role}-{copy}.log")
                 for role in ROLES for copy in (1, 2)]
    try:
        now = datetime(2026, 11, 29, 10, tzinfo=UTC)
        await produce(kafka_settings.bootstrap, kafka_settings.topic_crm_events, [
            (f"c-{i}", envelope(f"evt-{i}", f"c-{i}", now, tag_name="cold-lead"))
            for i in range(CONTACTS)])
        received = await _all_messages(kafka_settings, 3 * CONTACTS, timeout=240)
        consumed = [await asyncio.to_thread(_scrape, ports["consume", copy]) for copy in (1, 2)]
        scheduled = [await asyncio.to_thread(_scrape, ports["schedule", copy])
                     for copy in (1, 2)]
    finally:
        codes = [_stop(p) for p in processes]
    logs = "\n".join(f.read_text(errors="replace") for f in sorted(tmp_path.glob("*.log")))
    assert codes == [0] * len(processes), logs[-5000:]

    published = Counter(json.loads(r.value)["message_id"] for r in received)
    stored = await asyncio.to_thread(_requested_in_store, postgres_url)
    # Exactly once where it counts, in the event store: one request per contact and step.
    assert len(stored) == 3 * CONTACTS
    assert max(stored.values()) == 1
    # Everything recorded reached Kafka (a relay copy taking over may repeat its last batch,
    # recognisable by message_id).
    assert set(published) == set(stored)
    contents = {json.loads(r.value)["content"] for r in received}
    assert contents == {"Hi there, #0", "Hi there, #1", "Hi there, #2"}
    # What an operator scrapes from the worker roles agrees with what happened.
    assert sum(_total(m, "dripline_crm_events_total") for m in consumed) == CONTACTS
    assert sum(_total(m, "dripline_consumer_lag_records") for m in consumed) == 0
    # The steps are due at once: each intake executes them as it enrolls; whatever a
    # scheduler took up is counted there. Together, every step once.
    assert sum(_total(m, 'dripline_steps_executed_total{result="requested"}')
               for m in (*consumed, *scheduled)) == 3 * CONTACTS


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text: str = answer.read().decode()
        return text


def _total(metrics: str, name: str) -> float:
    """The sum of every sample of ``name`` (all its labels, or the one given in braces)."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
               if line.startswith(name) and not line.startswith("#")
               and (line[len(name)] in " {" if "{" not in name else True))
