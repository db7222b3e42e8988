"""The deployed shape on PostgreSQL: ``dripline api``, ``dripline schedule`` and ``dripline
project`` as separate processes. Whether a contact is enrolled never depends on how far the
projector has got, or on whether one runs at all: the decision reads the aggregates. Only the
lists (messages, here) wait for the projector."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.e2e.server import poll
from tests.promises.role_processes import (
    V1,
    deployment,
    immediate_sequence,
    messages_of,
    ok,
    tag_added,
)

SEQUENCES = f"{V1}/automation/sequences"
ROUNDS = 10
MESSAGE_TIMEOUT = 60.0  # seconds; a cold projector and scheduler on a busy machine


def _active_sequence(http: httpx.Client, name: str, tag: str,
                     **activation: Any) -> dict[str, Any]:
    draft = ok(http.post(SEQUENCES, json=immediate_sequence(
        name, {"trigger_type": "tag_added", "trigger_data": {"tag_name": tag}})), 201)
    activated: dict[str, Any] = ok(http.post(f"{SEQUENCES}/{draft['id']}/activate",
                                             json=activation))
    assert activated["status"] == "active"
    return activated


def _message_requested(http: httpx.Client, contact_id: str, enrollment_id: str) -> None:
    def requested() -> bool | None:
        return any(m["enrollment_id"] == enrollment_id and m["step_order"] == 0
                   for m in messages_of(http, contact_id=contact_id)) or None

    poll(requested, f"the message request of {contact_id} ({enrollment_id})",
         timeout=MESSAGE_TIMEOUT, interval=0.2)


def test_a_tag_enrolls_at_once_with_no_projector_running(postgres_url: str,
                                                         tmp_path: Path) -> None:
    with deployment(postgres_url, tmp_path) as roles:
        http = roles.start_api()
        roles.start("schedule")
        sequence = _active_sequence(http, "Lead Nurture", "cold-lead")

        answer = ok(http.post(f"{V1}/events", json=tag_added("evt-1", "c-42", "cold-lead")),
                    202)
        enrolled = answer["results"][0]["enrolled"]
        assert enrolled, ("the tag enrolled nobody in the sequence just activated, with no "
                          f"projector running: {answer}")
        enrollment = ok(http.get(f"{V1}/automation/enrollments/{enrolled[0]}"))
        assert (enrollment["sequence_id"], enrollment["contact_id"]) == (sequence["id"],
                                                                         "c-42")

        roles.start("project")
        _message_requested(http, "c-42", enrolled[0])


def test_every_activation_then_tag_enrolls_and_requests(postgres_url: str,
                                                        tmp_path: Path) -> None:
    with deployment(postgres_url, tmp_path) as roles:
        http = roles.start_api()
        roles.start("project")
        roles.start("schedule")
        enrolled: dict[int, list[str]] = {}
        for n in range(ROUNDS):
            _active_sequence(http, f"Round {n}", f"cold-lead-{n}")
            answer = ok(http.post(f"{V1}/events",
                                  json=tag_added(f"evt-{n}", f"c-{n}", f"cold-lead-{n}")), 202)
            enrolled[n] = answer["results"][0]["enrolled"]

        missed = [n for n, ids in enrolled.items() if not ids]
        assert not missed, (f"rounds {missed} of {ROUNDS}: the tag posted right after the "
                            "activation enrolled nobody")
        for n, ids in enrolled.items():
            _message_requested(http, f"c-{n}", ids[0])


def test_enroll_existing_finds_the_tagged_contacts_with_no_projector_running(
        postgres_url: str, tmp_path: Path) -> None:
    contacts = ["c-1", "c-2", "c-3"]
    with deployment(postgres_url, tmp_path) as roles:
        http = roles.start_api()
        tagged = ok(http.post(f"{V1}/events", json=[
            tag_added(f"evt-{c}", c, "cold-lead") for c in contacts]), 202)
        assert tagged["applied"] == len(contacts), tagged

        activated = _active_sequence(http, "Lead Nurture", "cold-lead", enroll_existing=True)

        existing = activated["enroll_existing"] or {"enrolled": [], "skipped": []}
        assert sorted(e["contact_id"] for e in existing["enrolled"]) == contacts, (
            f"enroll_existing enrolled {existing['enrolled']}, skipped {existing['skipped']}; "
            f"the contacts tagged before were {contacts}")
