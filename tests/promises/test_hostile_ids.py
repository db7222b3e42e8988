"""Contact ids are CRM ids, not paths or sentences: a slash, whitespace, ``#``, ``?`` or ``%``
(or a leading punctuation mark) is refused with a 422 naming the field, wherever an id comes
in. The ids CRMs really use (numbers, e-mail addresses, phone numbers, ``auth0|…``, UUIDs)
still work."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import V1, build_sequence, envelope, ok
from tests.promises.support import EVENTS, step

HOSTILE = ["x/y", "a b", "tab\there", "#frag", "who?", "100%", "-dash-first", ".hidden"]
REAL = ["c-42", "42", "ana@example.com", "+15551234567", "auth0|abc",
        "0b6f4f8e-9a3c-4c1e-8d2e-6a1f7c2b9e10", "acct:7=ok~x.y_z"]
PROFILE = {"name": "Ana"}


def _sequence(client: TestClient) -> str:
    return str(build_sequence(client, {"name": "Manual", "steps": [step(0, "Hi")]})["id"])


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == field


@pytest.mark.parametrize("contact", HOSTILE)
def test_enrolling_a_hostile_contact_id_is_a_422(acme: TestClient, contact: str) -> None:
    _refused(acme.post(f"{V1}/sequences/{_sequence(acme)}/enroll",
                       json={"contact_id": contact}), "contact_id")


def test_bulk_enrollment_names_the_hostile_id_by_its_index(acme: TestClient) -> None:
    url = f"{V1}/sequences/{_sequence(acme)}/enroll/bulk"
    for position, hostile in enumerate(HOSTILE[:4]):
        ids = [f"c-{i}" for i in range(position)] + [hostile, "c-last"]
        _refused(acme.post(url, json={"contact_ids": ids}), f"contact_ids[{position}]")
    real = ok(acme.post(url, json={"contact_ids": REAL}))
    assert sorted(e["contact_id"] for e in real["enrolled"]) == sorted(REAL)


@pytest.mark.parametrize("contact", HOSTILE)
def test_a_single_event_about_a_hostile_contact_id_is_a_422(acme: TestClient,
                                                            contact: str) -> None:
    _refused(acme.post(EVENTS, json=envelope("evt-1", "contact_updated", contact, PROFILE)),
             "contact_id")


def test_in_a_list_the_events_about_hostile_ids_are_rejected_and_the_others_apply(
        acme: TestClient) -> None:
    events = [envelope(f"evt-{i}", "contact_updated", contact, PROFILE)
              for i, contact in enumerate(REAL + HOSTILE)]
    answer = ok(acme.post(EVENTS, json=events), 202)

    outcomes = [(r["outcome"], r["field"]) for r in answer["results"]]
    assert outcomes == [("applied", None)] * len(REAL) + [
        ("rejected", "contact_id")] * len(HOSTILE)
    assert (answer["applied"], answer["rejected"]) == (len(REAL), len(HOSTILE))
