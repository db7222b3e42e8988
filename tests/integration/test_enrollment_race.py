"""One active enrollment per contact and sequence, when real processes race on PostgreSQL.

Outcomes are checked against the event store (streams of the deterministic enrollment ids,
the slot, a census of the whole sequence), not only against what the commands returned.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import ids
from domain.application import DriplineApp
from domain.clock import ManualClock
from tests.integration.factories import TENANT, active_sequence
from tests.integration.racing import Outcome, Task, race
from tests.integration.store import census, enrollment_numbers, open_enrollments, slot_of

ROUNDS = 30
LOSING = {"AlreadyEnrolledError", "ConcurrencyConflictError"}


def _one_winner(outcomes: list[Outcome]) -> None:
    winners = [o for o in outcomes if o.ok]
    assert len(winners) == 1, [o.error or "ok" for o in outcomes]
    assert all(o.error in LOSING for o in outcomes if not o.ok), [o.error for o in outcomes]


@pytest.mark.parametrize("gated", [False, True], ids=["barrier", "both-plan-then-save"])
def test_racing_enrolls_of_one_contact_make_one_enrollment(
        pg_app: DriplineApp, postgres_url: str, clock: ManualClock, gated: bool) -> None:
    sequence_id = active_sequence(pg_app)
    contacts = [f"racer-{n}" for n in range(ROUNDS)]
    tasks = [Task("enroll", sequence_id, (c,)) for c in contacts]

    outcomes = race(postgres_url, clock(), [tasks, tasks, tasks], gated=gated)

    for round_ in zip(*outcomes, strict=True):
        _one_winner(list(round_))
    for contact in contacts:
        assert enrollment_numbers(pg_app, sequence_id, contact) == [1], contact
        slot = slot_of(pg_app, sequence_id, contact)
        assert slot is not None
        assert slot.count == 1
        assert slot.version == 1
    counted = census(pg_app, sequence_id)
    assert counted.orphans == []
    assert counted.total == ROUNDS


def test_racing_bulk_enrolls_with_overlapping_lists_enroll_each_contact_once(
        pg_app: DriplineApp, postgres_url: str, clock: ManualClock) -> None:
    sequence_id = active_sequence(pg_app)
    everyone = [f"bulk-{n:04d}" for n in range(900)]
    first, second = everyone[:600], list(reversed(everyone[300:]))  # 300 in common
    third = everyone[::3]  # overlaps both

    outcomes = race(postgres_url, clock(), [
        [Task("enroll_many", sequence_id, tuple(first))],
        [Task("enroll_many", sequence_id, tuple(second))],
        [Task("enroll_many", sequence_id, tuple(third))],
    ], gated=True)

    results = [row[0] for row in outcomes]
    enrolled = [c for r in results for c in r.enrolled]
    assert sorted(enrolled) == everyone  # every contact once, by exactly one of the calls
    for result, asked in zip(results, (first, second, third), strict=True):
        assert result.ok
        assert sorted(result.enrolled + result.skipped) == sorted(asked)
    counted = census(pg_app, sequence_id)
    assert counted.orphans == []
    assert counted.per_contact() == {1: len(everyone)}


@pytest.mark.parametrize("gated", [False, True], ids=["barrier", "both-plan-then-save"])
def test_racing_re_enrollments_make_one_new_enrollment(
        pg_app: DriplineApp, postgres_url: str, clock: ManualClock, gated: bool) -> None:
    sequence_id = active_sequence(pg_app, reenrollment="after_exit")
    contacts = [f"again-{n}" for n in range(10)]
    for contact in contacts:
        first = pg_app.enroll(TENANT, sequence_id, contact)
        pg_app.exit_enrollment(TENANT, first.id)
    later = clock() + timedelta(minutes=5)
    tasks = [Task("enroll", sequence_id, (c,)) for c in contacts]

    outcomes = race(postgres_url, later, [tasks, tasks], gated=gated)

    for round_ in zip(*outcomes, strict=True):
        _one_winner(list(round_))
    for contact in contacts:
        assert enrollment_numbers(pg_app, sequence_id, contact) == [1, 2], contact
        slot = slot_of(pg_app, sequence_id, contact)
        assert slot is not None
        assert slot.count == 2
        assert slot.enrollment_id == ids.enrollment_id(sequence_id, contact, 2)
        assert [e.number for e in open_enrollments(pg_app, sequence_id, contact)] == [2]
    counted = census(pg_app, sequence_id)
    assert counted.orphans == []
    assert counted.per_contact() == {2: len(contacts)}
