"""Stale writes are reported as conflicts and store nothing: two applications on one database
(SQLite and PostgreSQL), If-Match versions, and real processes racing on PostgreSQL."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import IntegrityError

from domain.application import DriplineApp
from domain.clock import ManualClock
from domain.errors import ConcurrencyConflictError
from dripline.bootstrap import Runtime
from tests.integration.factories import ONE_STEP, TENANT, active_sequence, another_app
from tests.integration.racing import Task, race
from tests.integration.store import decoded, max_notification_id, stream_versions


def test_the_second_of_two_applications_saving_a_sequence_gets_a_conflict(
        runtime: Runtime, database_url: str, clock: ManualClock) -> None:
    first = runtime.app
    sequence_id = first.create_sequence(TENANT, ONE_STEP).id
    with another_app(database_url, clock) as second:
        mine = first.get_sequence(TENANT, sequence_id)
        theirs = second.get_sequence(TENANT, sequence_id)
        mine.update({"name": "Mine"}, clock())
        theirs.update({"name": "Theirs"}, clock())
        # ``save`` is the write every command ends with; calling it on two loaded copies
        # reproduces two commands interleaving between load and save (the process race
        # below does the same through the public commands, on PostgreSQL).
        first.save(mine)
        before = max_notification_id(first)

        with pytest.raises(IntegrityError):
            second.save(theirs)

        assert max_notification_id(second) == before
        reloaded = second.get_sequence(TENANT, sequence_id)
    assert (reloaded.name, reloaded.version) == ("Mine", 3)


def test_a_stale_expected_version_is_a_conflict_and_changes_nothing(runtime: Runtime) -> None:
    app = runtime.app
    sequence = app.create_sequence(TENANT, ONE_STEP)
    read_at = sequence.version
    app.update_sequence(TENANT, sequence.id, {"name": "Renamed"}, expected_version=read_at)
    before = max_notification_id(app)

    with pytest.raises(ConcurrencyConflictError, match=f"not {read_at}"):
        app.update_sequence(TENANT, sequence.id, {"name": "Stale"}, expected_version=read_at)
    with pytest.raises(ConcurrencyConflictError):
        app.add_step(TENANT, sequence.id, ONE_STEP["steps"][0] | {"order": 1},
                     expected_version=read_at)
    with pytest.raises(ConcurrencyConflictError):
        app.activate_sequence(TENANT, sequence.id, expected_version=read_at)

    assert max_notification_id(app) == before
    assert app.get_sequence(TENANT, sequence.id).name == "Renamed"


def test_an_exit_racing_a_pause_lets_exactly_one_of_them_happen(
        runtime: Runtime, database_url: str, clock: ManualClock) -> None:
    first = runtime.app
    sequence_id = active_sequence(first)
    enrollment = first.enroll(TENANT, sequence_id, "c-1")
    with another_app(database_url, clock) as second:
        stale = second.get_enrollment(TENANT, enrollment.id)
        first.exit_enrollment(TENANT, enrollment.id)
        before = max_notification_id(first)
        stale.pause(clock())

        with pytest.raises(IntegrityError):
            second.save(stale)
        with pytest.raises(ConcurrencyConflictError):
            second.pause_enrollment(TENANT, enrollment.id, expected_version=enrollment.version)

        assert max_notification_id(second) == before
        assert second.get_enrollment(TENANT, enrollment.id).status == "exited"


@pytest.mark.parametrize(("one", "other"), [("exit", "pause"), ("pause", "exit")])
def test_processes_exiting_and_pausing_one_enrollment_at_once_are_serialized(
        pg_app: DriplineApp, postgres_url: str, clock: ManualClock, one: str, other: str,
) -> None:
    """Both decide on the same stored version; one write wins, and the other decides again
    on its facts: a pause after the exit is refused (409), an exit after the pause applies."""
    sequence_id = active_sequence(pg_app)
    enrollments = [pg_app.enroll(TENANT, sequence_id, f"c-{n}").id for n in range(10)]
    start = {e: pg_app.get_enrollment(TENANT, e).version for e in enrollments}

    outcomes = race(postgres_url, clock(), [
        [Task(one, e) for e in enrollments], [Task(other, e) for e in enrollments],
    ], gated=True)

    for enrollment_id, round_ in zip(enrollments, zip(*outcomes, strict=True), strict=True):
        errors = sorted(o.error for o in round_)
        final = pg_app.get_enrollment(TENANT, enrollment_id)
        versions = stream_versions(pg_app, enrollment_id)
        if final.status == "exited" and errors == ["", "EnrollmentStatusError"]:
            assert versions[-1] == start[enrollment_id] + 1  # exit first; the pause refused
        else:  # the pause first, then the exit (of a paused enrollment)
            assert (errors, final.status) == (["", ""], "exited")
            assert versions[-1] == start[enrollment_id] + 2
            assert pg_app.get_enrollment(TENANT, enrollment_id).exit_reason == "manual_exit"


def test_processes_renaming_one_draft_at_once_apply_both_in_some_order(
        pg_app: DriplineApp, postgres_url: str, clock: ManualClock) -> None:
    """Without If-Match a rename is "last write wins": the loser decides again on the
    winner's version and applies too."""
    drafts = [pg_app.create_sequence(TENANT, ONE_STEP).id for _ in range(10)]

    outcomes = race(postgres_url, clock(), [
        [Task("rename", d, text="A") for d in drafts],
        [Task("rename", d, text="B") for d in drafts],
    ], gated=True)

    renames = decoded(pg_app, ("sequence.updated",))
    for draft, round_ in zip(drafts, zip(*outcomes, strict=True), strict=True):
        assert [o.error for o in round_] == ["", ""]
        stored = [e.changes["name"] for e in renames if e.originator_id == draft]
        assert sorted(stored) == ["A", "B"]
        assert pg_app.get_sequence(TENANT, draft).name == stored[-1]


def test_processes_renaming_one_draft_with_if_match_store_one_rename(
        pg_app: DriplineApp, postgres_url: str, clock: ManualClock) -> None:
    drafts = [pg_app.create_sequence(TENANT, ONE_STEP) for _ in range(10)]

    outcomes = race(postgres_url, clock(), [
        [Task("rename", d.id, text="A", if_match=d.version) for d in drafts],
        [Task("rename", d.id, text="B", if_match=d.version) for d in drafts],
    ], gated=True)

    renames = decoded(pg_app, ("sequence.updated",))
    for draft, round_ in zip(drafts, zip(*outcomes, strict=True), strict=True):
        assert sorted(o.error for o in round_) == ["", "ConcurrencyConflictError"]
        stored = [e.changes["name"] for e in renames if e.originator_id == draft.id]
        assert stored == ["A" if round_[0].ok else "B"]
        assert pg_app.get_sequence(TENANT, draft.id).name == stored[0]
