"""SIGTERM while ``dripline serve`` is taking in CRM events and executing the steps they make
due: it exits 0, and a restart on the same file carries on; the client sends again what it
is not sure was taken. Nothing is lost, nothing is requested twice."""

from __future__ import annotations

import json
import sqlite3
import stat
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from tests.e2e.readme import README, body_of, parse
from tests.e2e.server import Server, poll, start

CONTACTS = 300


def _sequence_body() -> str:
    create = parse(README.read_text()).requests[0]
    body = body_of(create, {})
    assert body is not None
    return body


def _tag_events(tenant: str) -> list[dict[str, Any]]:
    now = datetime.now(UTC).isoformat()
    return [{"event_id": f"evt-tag-{i}", "type": "tag_added", "tenant_id": tenant,
             "contact_id": f"c-{i}", "occurred_at": now,
             "data": {"tag_id": "t-1", "tag_name": "cold-lead"}} for i in range(CONTACTS)]


def _messages(server: Server, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        answer = httpx.get(f"{server.base}/api/v1/automation/messages",
                           params={"page": page, "limit": 500},
                           headers={"Authorization": f"Bearer {key}"}, timeout=10).json()
        items += answer["items"]
        if len(items) >= answer["total"] or not answer["items"]:
            return items
        page += 1


def _requested_in_store(database: Path) -> Counter[str]:
    """Message requests as recorded in the event store itself, by message_id."""
    connection = sqlite3.connect(database)
    try:
        rows = connection.execute(
            "SELECT originator_id, state FROM stored_events "
            "WHERE topic = 'enrollment.step_executed'").fetchall()
    finally:
        connection.close()
    return Counter(f"{UUID(hex=originator)}:{(step := json.loads(state))['step_order']}:"
                   f"{step['attempt']}" for originator, state in rows)


def _post_in_chunks(server: Server, auth: dict[str, str], events: list[dict[str, Any]],
                    size: int = 10) -> list[dict[str, Any]]:
    """What a CRM's sender does: post the events a few at a time; stop at the first
    request that fails (the server went away); the answers of those that were taken."""
    answers: list[dict[str, Any]] = []
    for first in range(0, len(events), size):
        try:
            answer = httpx.post(f"{server.base}/api/v1/events", headers=auth,
                                json=events[first:first + size], timeout=30)
        except httpx.TransportError:
            return answers
        if answer.status_code != 202:
            return answers
        answers.append(answer.json())
    return answers


def test_sigterm_while_executing_then_restart_loses_and_repeats_nothing(
        tmp_path: Path) -> None:
    database = tmp_path / "dripline.db"
    # No DRIPLINE_API_KEYS: the newcomer's path, a random key kept beside the database.
    first = start(database)
    key_path = database.with_name("dripline.db.api-key")
    key = key_path.read_text().strip()
    assert key
    assert key in first.output()
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    try:
        created = httpx.post(f"{first.base}/api/v1/automation/sequences", headers=auth,
                             content=_sequence_body().encode(), timeout=10).json()
        httpx.post(f"{first.base}/api/v1/automation/sequences/{created['id']}/activate",
                   headers=auth, timeout=10).raise_for_status()
        sender = ThreadPoolExecutor(1)
        sent = sender.submit(_post_in_chunks, first, auth, _tag_events("default"))
        # Stop as soon as steps are seen executed: most of the events are still to come.
        seen = poll(lambda: _messages(first, key) or None, "the first message requests")
        before = {m["message_id"]: m["content"] for m in seen}
    finally:
        code = first.stop()
    assert code == 0, first.output()
    taken = sent.result(timeout=60)
    sender.shutdown()
    assert 0 < sum(a["applied"] for a in taken) < CONTACTS, "stopped too late to tell"

    second = start(database)
    try:
        assert key in second.output()  # the same key: kept, not made anew
        # The sender does not know how far it got: it sends everything again. Events taken
        # before the stop are duplicates by their event ids; the others are applied now.
        again = _post_in_chunks(second, auth, _tag_events("default"))
        assert sum(a["applied"] + a["duplicate"] for a in again) == CONTACTS
        enrolled = {e for a in taken + again for e in ingest_enrollments(a)}
        done = poll(lambda: m if len(m := _messages(second, key)) >= CONTACTS else None,
                    "every contact's first message request", timeout=30)
    finally:
        code = second.stop()
    assert code == 0, second.output()

    after = {m["message_id"]: m["content"] for m in done}
    assert len(done) == CONTACTS == len(after) == len(enrolled)
    assert {m.split(":")[0] for m in after} == enrolled
    assert all(m.endswith(":0:1") for m in after)
    assert before.items() <= after.items()  # nothing requested before the stop was lost
    recorded = _requested_in_store(database)
    assert set(recorded) == set(after)
    assert max(recorded.values()) == 1  # nothing requested twice


def ingest_enrollments(ingest: dict[str, Any]) -> list[str]:
    return [e for result in ingest["results"] for e in result["enrolled"]]
