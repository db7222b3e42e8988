"""Revisions of a live sequence: enrollments stay pinned to the revision they started on;
publishing with a migration moves the waiting ones (never to a step already executed), a dry
run writes nothing, and the migration runs in batches that resume where they stopped."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from domain.application import DriplineApp
from domain.clock import ManualClock
from domain.enrollment import Enrollment
from domain.errors import (
    InvalidInputError,
    InvalidTransitionError,
    RevisionNotDraftError,
    SequenceNotDraftError,
)
from domain.migration import Migration, migration_id
from tests.execution.support import TENANT, contents, crm, enrollment, events_of, step

HOUR = timedelta(hours=1)


def live(app: DriplineApp) -> UUID:
    """Active: s0 at once, s1 an hour later, s2 an hour after that."""
    sequence = app.create_sequence(TENANT, {"name": "seq", "steps": [
        step(0, "zero"), step(1, "one", amount=1, unit="hours"),
        step(2, "two", amount=1, unit="hours")]})
    app.activate_sequence(TENANT, sequence.id)
    return sequence.id


def steps_of(app: DriplineApp, sequence_id: UUID, revision: int) -> dict[int, UUID]:
    return {s.order: s.id for s in app.get_sequence(TENANT, sequence_id).revision(revision).steps}


def draft_without_s1(app: DriplineApp, sequence_id: UUID) -> tuple[int, UUID]:
    """Revision 2: s1 removed, s1' (order 1, new content) added; returns (2, s1')."""
    _, number = app.revisions.create_revision(TENANT, sequence_id)
    old = steps_of(app, sequence_id, number)
    app.remove_step(TENANT, sequence_id, old[1], revision=number)
    _, added = app.add_step(TENANT, sequence_id, step(1, "one prime", amount=1, unit="hours"),
                            revision=number)
    return number, added.id


def test_an_enrollment_keeps_the_revision_it_started_on(app: DriplineApp,
                                                       clock: ManualClock) -> None:
    sequence_id = live(app)
    first = app.enroll(TENANT, sequence_id, "c-1").id
    _, number = app.revisions.create_revision(TENANT, sequence_id)
    assert number == 2
    s1 = steps_of(app, sequence_id, 2)[1]
    assert s1 == steps_of(app, sequence_id, 1)[1]  # a new revision keeps its base's ids
    app.update_step(TENANT, sequence_id, s1, {"message_template": {
        "type": "text", "content": "one, edited"}}, revision=2)
    assert app.get_sequence(TENANT, sequence_id).live_revision == 1  # a draft is not live
    app.revisions.publish_revision(TENANT, sequence_id, 2)
    second = app.enroll(TENANT, sequence_id, "c-2").id
    assert enrollment(app, first).revision == 1
    assert enrollment(app, second).revision == 2
    clock.advance(HOUR)
    app.execute_due([first, second])
    assert contents(app, first) == ["zero", "one"]
    assert contents(app, second) == ["zero", "one, edited"]


def test_published_revisions_never_change_and_one_draft_at_a_time(app: DriplineApp) -> None:
    sequence_id = live(app)
    s1 = steps_of(app, sequence_id, 1)[1]
    with pytest.raises(SequenceNotDraftError, match="create a revision"):
        app.update_step(TENANT, sequence_id, s1, {"name": "x"})
    with pytest.raises(RevisionNotDraftError):
        app.update_step(TENANT, sequence_id, s1, {"name": "x"}, revision=1)
    app.revisions.create_revision(TENANT, sequence_id)
    with pytest.raises(InvalidTransitionError, match="already has a draft revision"):
        app.revisions.create_revision(TENANT, sequence_id)
    app.revisions.discard_revision(TENANT, sequence_id, 2)
    _, number = app.revisions.create_revision(TENANT, sequence_id)
    assert number == 3  # a discarded number is not used again
    draft = app.create_sequence(TENANT, {"name": "d", "steps": [step(0, "x")]})
    with pytest.raises(InvalidTransitionError, match="never activated"):
        app.revisions.discard_revision(TENANT, draft.id, 1)


def test_a_mapped_migration_moves_the_waiting_enrollments(app: DriplineApp,
                                                          clock: ManualClock) -> None:
    sequence_id = live(app)
    waiting = [app.enroll(TENANT, sequence_id, f"c-{i}").id for i in range(3)]
    app.execute_due(waiting)  # s0 sent; all wait at s1
    dues = {i: enrollment(app, i).next_scheduled_at for i in waiting}
    old_s1 = steps_of(app, sequence_id, 1)[1]
    number, s1_prime = draft_without_s1(app, sequence_id)
    before = app.recorder.max_notification_id()

    dry = app.revisions.publish_revision(
        TENANT, sequence_id, number, {"step_map": {str(old_s1): {"to": str(s1_prime)}}},
        dry_run=True)

    assert dry.plan.planned() == [{"from_step": str(old_s1), "to_step": str(s1_prime),
                                   "count": 3}]
    assert app.recorder.max_notification_id() == before  # a dry run writes nothing
    app.revisions.publish_revision(
        TENANT, sequence_id, number, {"step_map": {str(old_s1): {"to": str(s1_prime)}}})
    assert all(enrollment(app, i).revision == 1 for i in waiting)  # the background moves them
    while app.revisions.run_migrations():
        pass
    m = app.revisions.migration(TENANT, sequence_id, number)
    assert (m.total, m.migrated, m.exited, m.conflicts, m.done) == (3, 3, 0, 0, True)
    for i in waiting:
        e = enrollment(app, i)
        assert e.revision == number
        assert e.next_scheduled_at == dues[i]
        [moved] = events_of(app, i, Enrollment.Migrated)
        assert (moved.from_step_id, moved.to_step_id) == (str(old_s1), str(s1_prime))
    clock.advance(HOUR)
    app.execute_due(waiting)
    for i in waiting:
        assert contents(app, i) == ["zero", "one prime"]
        ids = list(enrollment(app, i).messages)
        assert len(ids) == len(set(ids)) == 2


def test_an_occupied_step_left_unmapped_is_refused(app: DriplineApp) -> None:
    sequence_id = live(app)
    waiting = app.enroll(TENANT, sequence_id, "c-1").id
    app.execute_due([waiting])
    old_s1 = steps_of(app, sequence_id, 1)[1]
    number, _ = draft_without_s1(app, sequence_id)
    with pytest.raises(InvalidInputError) as caught:
        app.revisions.publish_revision(TENANT, sequence_id, number, {"step_map": {}})
    assert caught.value.field == f"migrate.step_map.{old_s1}"
    assert app.get_sequence(TENANT, sequence_id).live_revision == 1
    # Without a migration, everyone stays pinned and the publish goes through.
    done = app.revisions.publish_revision(TENANT, sequence_id, number)
    assert done.plan.pinned == 1
    assert done.migration_id is None


def test_a_target_at_or_before_the_last_executed_step_is_a_conflict(
        app: DriplineApp, clock: ManualClock) -> None:
    sequence_id = live(app)
    ahead = app.enroll(TENANT, sequence_id, "c-1").id
    app.execute_due([ahead])
    clock.advance(HOUR)
    app.execute_due([ahead])  # s0 and s1 executed: waits at s2 (order 2)
    s = steps_of(app, sequence_id, 1)
    _, number = app.revisions.create_revision(TENANT, sequence_id)
    plan = app.revisions.publish_revision(
        TENANT, sequence_id, number, {"step_map": {str(s[2]): {"to": str(s[1])}}}).plan
    assert plan.conflicts == [{"enrollment_id": str(ahead), "from_step": str(s[2]),
                               "to_step": str(s[1])}]
    while app.revisions.run_migrations():
        pass
    assert enrollment(app, ahead).revision == 1
    m = app.get_enrollment(TENANT, ahead)
    assert m.current_step_order == 2
    progress = app.revisions.migration(TENANT, sequence_id, number)
    assert (progress.migrated, progress.conflicts, progress.done) == (0, 1, True)


def test_exit_mapping_ends_with_step_removed_and_paused_ones_stay_paused(
        app: DriplineApp, clock: ManualClock) -> None:
    sequence_id = live(app)
    leaving, resting = (app.enroll(TENANT, sequence_id, f"c-{i}").id for i in range(2))
    app.execute_due([leaving, resting])
    app.pause_enrollment(TENANT, resting)
    old_s1 = steps_of(app, sequence_id, 1)[1]
    number, s1_prime = draft_without_s1(app, sequence_id)
    # Both wait at s1: map it to s1' with a recomputed due time; exit nobody.
    app.revisions.publish_revision(TENANT, sequence_id, number, {
        "step_map": {str(old_s1): {"to": str(s1_prime)}}, "due": "recompute"})
    clock.advance(timedelta(minutes=10))
    while app.revisions.run_migrations():
        pass
    paused = enrollment(app, resting)
    assert paused.status == "paused"
    assert paused.revision == number
    # A second revision removes s1' and exits whoever waits there.
    _, third = app.revisions.create_revision(TENANT, sequence_id)
    app.remove_step(TENANT, sequence_id, s1_prime, revision=third)
    app.revisions.publish_revision(TENANT, sequence_id, third,
                                   {"step_map": {str(s1_prime): {"exit": True}}})
    while app.revisions.run_migrations():
        pass
    assert enrollment(app, leaving).exit_reason == "step_removed"
    assert enrollment(app, resting).exit_reason == "step_removed"


def test_a_migration_resumes_where_it_stopped(app: DriplineApp,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    sequence_id = live(app)
    waiting = [app.enroll(TENANT, sequence_id, f"c-{i}").id for i in range(5)]
    app.execute_due(waiting)
    old_s1 = steps_of(app, sequence_id, 1)[1]
    number, s1_prime = draft_without_s1(app, sequence_id)
    app.revisions.publish_revision(TENANT, sequence_id, number,
                                   {"step_map": {str(old_s1): {"to": str(s1_prime)}}})
    mid = migration_id(sequence_id, number)
    monkeypatch.setattr("domain.app_revisions.BATCH", 2)
    assert app.revisions.run_migrations() == 2
    assert app.revisions.migration(TENANT, sequence_id, number).migrated == 2
    while app.revisions.run_migrations():
        pass
    m = app.events.get(mid)
    progressed = [e for e in m if isinstance(e, Migration.Progressed)]
    assert [e.migrated for e in progressed] == [2, 2, 1]
    assert all(enrollment(app, i).revision == number for i in waiting)


def test_pause_resume_and_archive_act_on_every_revision(app: DriplineApp) -> None:
    sequence_id = live(app)
    old = app.enroll(TENANT, sequence_id, "c-1").id
    _, number = app.revisions.create_revision(TENANT, sequence_id)
    app.revisions.publish_revision(TENANT, sequence_id, number)
    new = app.enroll(TENANT, sequence_id, "c-2").id
    assert (enrollment(app, old).revision, enrollment(app, new).revision) == (1, number)
    app.pause_sequence(TENANT, sequence_id)
    assert {enrollment(app, i).status for i in (old, new)} == {"paused"}
    app.resume_sequence(TENANT, sequence_id)
    assert {enrollment(app, i).status for i in (old, new)} == {"active"}
    app.archive_sequence(TENANT, sequence_id)
    assert {enrollment(app, i).exit_reason for i in (old, new)} == {"sequence_archived"}


def test_a_migration_of_an_archived_sequence_ends(app: DriplineApp) -> None:
    sequence_id = live(app)
    waiting = app.enroll(TENANT, sequence_id, "c-1").id
    app.execute_due([waiting])
    old_s1 = steps_of(app, sequence_id, 1)[1]
    number, s1_prime = draft_without_s1(app, sequence_id)
    app.revisions.publish_revision(TENANT, sequence_id, number,
                                   {"step_map": {str(old_s1): {"to": str(s1_prime)}}})
    app.archive_sequence(TENANT, sequence_id)
    assert app.revisions.run_migrations() == 0
    m = app.revisions.migration(TENANT, sequence_id, number)
    assert (m.done, m.end, m.migrated) == (True, "archived", 0)
    assert not app.store.running_migrations()


def test_a_newer_publish_supersedes_a_running_migration(app: DriplineApp) -> None:
    sequence_id = live(app)
    waiting = [app.enroll(TENANT, sequence_id, f"c-{i}").id for i in range(2)]
    app.execute_due(waiting)
    _, second = app.revisions.create_revision(TENANT, sequence_id)
    app.revisions.publish_revision(TENANT, sequence_id, second, {"step_map": {}})
    _, third = app.revisions.create_revision(TENANT, sequence_id)
    done = app.revisions.publish_revision(TENANT, sequence_id, third, {"step_map": {}})
    assert done.plan.planned()[0]["count"] == 2  # unchanged ids map to themselves
    while app.revisions.run_migrations():
        pass
    assert app.revisions.migration(TENANT, sequence_id, second).end == "superseded"
    assert app.revisions.migration(TENANT, sequence_id, third).migrated == 2
    assert {enrollment(app, i).revision for i in waiting} == {third}


def test_a_failure_reported_after_a_migration_is_not_retried_on_the_new_revision(
        app: DriplineApp, clock: ManualClock) -> None:
    sequence_id = live(app)
    moved = app.enroll(TENANT, sequence_id, "c-1").id
    app.execute_due([moved])  # s0 requested; waits at s1
    s = steps_of(app, sequence_id, 1)
    _, number = app.revisions.create_revision(TENANT, sequence_id)
    app.remove_step(TENANT, sequence_id, s[0], revision=number)  # s0 is gone from revision 2
    app.revisions.publish_revision(TENANT, sequence_id, number, {"step_map": {}})
    while app.revisions.run_migrations():
        pass
    [sent] = enrollment(app, moved).messages
    crm(app, "message_failed", "c-1", message_id=sent, error="timeout")
    e = enrollment(app, moved)
    assert (e.status, e.pending_retry, e.revision) == ("active", None, number)
    clock.advance(HOUR)
    app.execute_due([moved])
    assert contents(app, moved) == ["zero", "one"]  # s1 of revision 2 goes out; no re-send


def test_a_revision_drafted_during_a_resume_does_not_stop_it(
        app: DriplineApp, monkeypatch: pytest.MonkeyPatch) -> None:
    sequence_id = live(app)
    enrolled = [app.enroll(TENANT, sequence_id, f"c-{i}").id for i in range(6)]
    app.pause_sequence(TENANT, sequence_id)
    monkeypatch.setattr("domain.app_lifecycle._CHUNK", 2)
    decide, calls = app.core.decide, []

    def decide_then_draft(*args: Any, **kwargs: Any) -> Any:
        outcome = decide(*args, **kwargs)
        calls.append(kwargs.get("what"))
        if calls.count("updating the enrollments") == 1 and len(calls) == 2:
            app.revisions.create_revision(TENANT, sequence_id)  # between two chunks
        return outcome

    monkeypatch.setattr(app.core, "decide", decide_then_draft)
    app.resume_sequence(TENANT, sequence_id)
    assert [enrollment(app, i).status for i in enrolled] == ["active"] * 6


def test_a_draft_changed_while_publishing_is_checked_again(
        app: DriplineApp, monkeypatch: pytest.MonkeyPatch) -> None:
    sequence_id = live(app)
    app.execute_due([app.enroll(TENANT, sequence_id, "c-1").id])
    old_s1 = steps_of(app, sequence_id, 1)[1]
    number, s1_prime = draft_without_s1(app, sequence_id)
    plan = app.revisions.plan

    def plan_then_edit(*args: Any) -> Any:
        made = plan(*args)
        app.remove_step(TENANT, sequence_id, s1_prime, revision=number)  # the target goes
        return made

    monkeypatch.setattr(app.revisions, "plan", plan_then_edit)
    with pytest.raises(InvalidInputError) as caught:
        app.revisions.publish_revision(TENANT, sequence_id, number,
                                       {"step_map": {str(old_s1): {"to": str(s1_prime)}}})
    assert caught.value.field == f"migrate.step_map.{old_s1}.to"
    assert app.get_sequence(TENANT, sequence_id).live_revision == 1
    assert not app.store.running_migrations()
