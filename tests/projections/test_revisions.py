"""Revisions in the read models (CAPABILITIES §8), as a story: an active sequence, three
enrollments past step 0, a draft revision 2 that edits a step and replaces another, published
with a migration. The sequence row shows its live revision's steps (never the draft's), each
revision has its row; enrollments follow the revision they are on, and move with a migration,
due time and all; stats count by step id, per revision or across them; and a replay makes the
same rows as projecting as it happened."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from domain.application import DriplineApp
from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from projections import replay
from projections.checksum import checksum
from projections.db import as_datetime
from projections.generations import live_generation
from projections.models.base import table_name
from projections.read_models import ReadModels

T = "acme"
HOUR = timedelta(hours=1)


def _step(order: int, content: str, hours: int) -> dict[str, Any]:
    return {"order": order, "name": f"step {order}", "delay_amount": hours,
            "delay_unit": "hours", "message_template": {"type": "text", "content": content}}


@dataclass
class Story:
    sequence_id: UUID
    s0: str
    s1: str
    s2: str
    s1_prime: str
    enrollments: dict[str, UUID]
    start: datetime


def _steps(app: DriplineApp, sequence_id: UUID, revision: int) -> list[str]:
    return [str(s.id) for s in app.get_sequence(T, sequence_id).revision(revision).steps]


def _create_and_enroll(runtime: Runtime, clock: ManualClock) -> tuple[UUID, dict[str, UUID]]:
    """Active sequence: s0 at once, s1 an hour later, s2 an hour after that. c-1, c-2, c-3
    executed s0 and wait at s1; c-3 is paused."""
    app = runtime.app
    sequence = app.create_sequence(T, {"name": "Onboarding", "steps": [
        _step(0, "zero", 0), _step(1, "one", 1), _step(2, "two", 1)]})
    app.activate_sequence(T, sequence.id)
    enrolled = {c: app.enroll(T, sequence.id, c).id for c in ("c-1", "c-2", "c-3")}
    app.execute_due(enrolled.values())
    app.pause_enrollment(T, enrolled["c-3"])
    runtime.catch_up()
    return sequence.id, enrolled


def _draft_revision_2(runtime: Runtime, sequence_id: UUID) -> str:
    """Revision 2: s2's content edited, s1 replaced by s1' (same order, two hours after s0),
    exit_on_reply off. Returns s1'."""
    app = runtime.app
    _, number = app.revisions.create_revision(T, sequence_id)
    _, s1, s2 = _steps(app, sequence_id, number)
    app.update_step(T, sequence_id, UUID(s2), {"message_template": {
        "type": "text", "content": "two, edited"}}, revision=number)
    app.remove_step(T, sequence_id, UUID(s1), revision=number)
    _, added = app.add_step(T, sequence_id, _step(1, "one prime", 2), revision=number)
    app.revisions.update_revision(T, sequence_id, number, {"exit_on_reply": False})
    runtime.catch_up()
    return str(added.id)


def _publish_and_go_on(runtime: Runtime, clock: ManualClock, story: Story) -> None:
    """Publish with s1 → s1', migrate; c-4 enrolls on revision 2 (s0 goes at once); c-1's
    s0 message (sent on revision 1) is delivered after the migration; an hour later c-1 and
    c-2 get s1', c-4 skips it (a skip that names no step, as older events do); c-2 then
    leaves."""
    app = runtime.app
    app.revisions.publish_revision(T, story.sequence_id, 2,
                                   {"step_map": {story.s1: {"to": story.s1_prime}}})
    while app.revisions.run_migrations():
        pass
    runtime.catch_up()
    c4 = story.enrollments["c-4"] = app.enroll(T, story.sequence_id, "c-4").id
    first = app.get_enrollment(T, story.enrollments["c-1"])
    [sent] = [m for m, s in first.messages.items() if s["step_order"] == 0]
    first.record_delivery(sent, clock())
    app.save(first)
    runtime.catch_up()
    clock.advance(HOUR)
    app.execute_due([story.enrollments[c] for c in ("c-1", "c-2")])
    late = app.get_enrollment(T, c4)
    late.skip_step(1, "condition_not_met", clock())
    late.advance(2, clock() + HOUR, clock())
    app.save(late)
    app.exit_enrollment(T, story.enrollments["c-2"], "manual_exit")
    runtime.catch_up()


def _story(runtime: Runtime, clock: ManualClock) -> Story:
    start = clock()
    sequence_id, enrolled = _create_and_enroll(runtime, clock)
    s0, s1, s2 = _steps(runtime.app, sequence_id, 1)
    story = Story(sequence_id, s0, s1, s2, _draft_revision_2(runtime, sequence_id), enrolled,
                  start)
    _publish_and_go_on(runtime, clock, story)
    return story


def test_the_sequence_row_shows_its_live_revision_and_every_revision_has_a_row(
        runtime: Runtime, clock: ManualClock) -> None:
    app, q = runtime.app, runtime.queries
    sequence_id, _ = _create_and_enroll(runtime, clock)
    s0, s1, s2 = _steps(app, sequence_id, 1)
    row = q.get_sequence(T, sequence_id)
    assert row is not None
    assert (row["revision"], row["draft_revision"]) == (1, None)

    s1_prime = _draft_revision_2(runtime, sequence_id)
    [listed] = q.list_sequences(T).items
    assert (listed["revision"], listed["draft_revision"]) == (1, 2)
    assert [s["id"] for s in listed["steps"]] == [s0, s1, s2]  # the draft is not live
    assert listed["steps"][2]["message_template"]["content"] == "two"
    assert listed["exit_on_reply"] is True
    assert listed["version"] == app.get_sequence(T, sequence_id).version
    revisions = _revision_rows(runtime.read_models, sequence_id)
    assert [(r["revision"], r["base_revision"], r["published_at"] is not None)
            for r in revisions] == [(1, None, True), (2, 1, False)]
    assert [s["id"] for s in revisions[1]["steps"]] == [s0, s1_prime, s2]

    app.revisions.publish_revision(T, sequence_id, 2, {"step_map": {s1: {"to": s1_prime}}})
    runtime.catch_up()
    row = q.get_sequence(T, sequence_id)
    assert row is not None
    assert (row["revision"], row["draft_revision"]) == (2, None)
    assert [s["id"] for s in row["steps"]] == [s0, s1_prime, s2]
    assert row["steps"][2]["message_template"]["content"] == "two, edited"
    assert row["exit_on_reply"] is False
    assert row["steps"] == [s.to_dict() for s in app.get_sequence(T, sequence_id).steps]
    revisions = _revision_rows(runtime.read_models, sequence_id)
    assert [s["id"] for s in revisions[0]["steps"]] == [s0, s1, s2]  # never changes
    assert all(r["published_at"] is not None for r in revisions)

    app.revisions.create_revision(T, sequence_id)
    app.revisions.discard_revision(T, sequence_id, 3)
    runtime.catch_up()
    row = q.get_sequence(T, sequence_id)
    assert row is not None
    assert (row["revision"], row["draft_revision"]) == (2, None)
    assert [r["revision"] for r in _revision_rows(runtime.read_models, sequence_id)] == [1, 2]


def test_enrollments_follow_their_revision_and_move_with_a_migration(
        runtime: Runtime, clock: ManualClock) -> None:
    app, q = runtime.app, runtime.queries
    start = clock()
    sequence_id, enrolled = _create_and_enroll(runtime, clock)
    failed = app.get_enrollment(T, enrolled["c-2"])
    [sent] = list(failed.messages)
    failed.record_failure(message_id=sent, error="busy", permanent=False,
                          retry_at=start + HOUR / 2, at=start)
    app.save(failed)
    runtime.catch_up()
    due = {d.enrollment_id: d for d in q.due_enrollments(start + HOUR)}
    assert (due[enrolled["c-2"]].due_at, due[enrolled["c-2"]].extra) == (
        start + HOUR / 2, {"retry_step": 0})
    assert q.revision_counts(T, sequence_id) == {1: 3}
    s1 = _steps(app, sequence_id, 1)[1]
    s1_prime = _draft_revision_2(runtime, sequence_id)
    app.revisions.publish_revision(T, sequence_id, 2, {
        "step_map": {s1: {"to": s1_prime}}, "due": "recompute"})
    runtime.catch_up()
    assert q.revision_counts(T, sequence_id) == {1: 3}  # the migration runs in the background
    while app.revisions.run_migrations():
        pass
    newcomer = app.enroll(T, sequence_id, "c-4").id
    runtime.catch_up()

    rows = {r["contact_id"]: r for r in q.list_enrollments(T, sequence_id).items}
    assert {c: r["revision"] for c, r in rows.items()} == {"c-1": 2, "c-2": 2, "c-3": 2,
                                                           "c-4": 2}
    # Due again by s1''s delay (two hours after s0 was sent); c-2's retry of s0 is dropped.
    assert (rows["c-1"]["current_step_order"], rows["c-1"]["next_scheduled_at"]) == (
        1, start + 2 * HOUR)
    assert rows["c-2"]["next_scheduled_at"] == start + 2 * HOUR
    assert (rows["c-3"]["status"], rows["c-3"]["next_scheduled_at"]) == ("paused", None)
    assert [r["revision"] for r in q.contact_enrollments(T, "c-3")] == [2]
    assert q.revision_counts(T, sequence_id) == {2: 4}
    assert q.revision_counts("other", sequence_id) == {}
    due = {d.enrollment_id: d for d in q.due_enrollments(start + 3 * HOUR)}
    assert set(due) == {enrolled["c-1"], enrolled["c-2"], newcomer}  # c-3 is paused
    assert [(due[enrolled[c]].step_order, due[enrolled[c]].due_at, due[enrolled[c]].extra)
            for c in ("c-1", "c-2")] == [(1, start + 2 * HOUR, {"retry_step": None})] * 2
    for contact, row in rows.items():  # as the aggregates say
        e = app.get_enrollment(T, UUID(row["id"]))
        assert (row["revision"], row["current_step_order"], row["next_scheduled_at"],
                row["version"]) == (e.revision, e.current_step_order, e.next_scheduled_at,
                                    e.version), contact

    app.resume_enrollment(T, enrolled["c-3"])
    runtime.catch_up()
    resumed = app.get_enrollment(T, enrolled["c-3"])
    assert resumed.next_scheduled_at == start + 2 * HOUR  # the migrated due time
    due = {d.enrollment_id: d for d in q.due_enrollments(start + 3 * HOUR)}
    assert (due[enrolled["c-3"]].step_order, due[enrolled["c-3"]].due_at) == (
        1, start + 2 * HOUR)


def test_stats_count_by_step_id_per_revision_or_across_revisions(
        runtime: Runtime, clock: ManualClock) -> None:
    story = _story(runtime, clock)
    q = runtime.queries

    every = q.sequence_stats(T, story.sequence_id)
    assert every is not None
    assert every["revision"] is None
    assert (every["total_enrolled"], every["active_count"], every["paused_count"],
            every["exited_count"]) == (4, 2, 1, 1)
    assert every["exits_by_reason"] == {"manual_exit": 1}
    # s1 kept its order 1 in revision 1; s1' took that order in revision 2.
    assert _funnel(every) == [
        (story.s0, 0, 4, 4, 1, {}),
        (story.s1, 1, 3, 0, 0, {}),
        (story.s1_prime, 1, 4, 2, 0, {"condition_not_met": 1}),
        (story.s2, 2, 3, 0, 0, {}),
    ]

    first = q.sequence_stats(T, story.sequence_id, revision=1)
    assert first is not None
    # Everyone moved on to revision 2; the delivery of c-1's s0 message, sent on revision 1,
    # stays with revision 1.
    assert (first["revision"], first["total_enrolled"], first["active_count"]) == (1, 0, 0)
    assert first["exits_by_reason"] == {}
    assert _funnel(first) == [(story.s0, 0, 3, 3, 1, {}), (story.s1, 1, 3, 0, 0, {}),
                              (story.s2, 2, 0, 0, 0, {})]

    second = q.sequence_stats(T, story.sequence_id, revision=2)
    assert second is not None
    assert (second["total_enrolled"], second["active_count"], second["paused_count"],
            second["exited_count"]) == (4, 2, 1, 1)
    assert second["exits_by_reason"] == {"manual_exit": 1}
    assert _funnel(second) == [(story.s0, 0, 1, 1, 0, {}),
                               (story.s1_prime, 1, 4, 2, 0, {"condition_not_met": 1}),
                               (story.s2, 2, 3, 0, 0, {})]
    assert q.revision_counts(T, story.sequence_id) == {2: 3}
    assert q.sequence_stats("other", story.sequence_id) is None


def test_a_replay_makes_the_rows_projected_as_it_happened(
        runtime: Runtime, clock: ManualClock) -> None:
    story = _story(runtime, clock)
    read_models = runtime.read_models
    live = {m.name: checksum(read_models.db, m) for m in read_models.models}
    stats = runtime.queries.sequence_stats(T, story.sequence_id)
    enrollments = runtime.queries.list_enrollments(T, story.sequence_id).items
    revisions = _revision_rows(read_models, story.sequence_id)

    finals = replay.rebuild_many(read_models, read_models.names())
    assert {g.status for g in finals.values()} == {"live"}
    assert {m.name: checksum(read_models.db, m) for m in read_models.models} == live
    assert runtime.queries.sequence_stats(T, story.sequence_id) == stats
    assert runtime.queries.list_enrollments(T, story.sequence_id).items == enrollments
    assert _revision_rows(read_models, story.sequence_id) == revisions


def _funnel(stats: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(s["step_id"], s["step_order"], s["reached"], s["message_requested"],
             s["delivered"], s["skipped"]) for s in stats["steps"]]


def _revision_rows(read_models: ReadModels, sequence_id: UUID) -> list[dict[str, Any]]:
    """The revision rows of the live ``sequences`` generation, decoded."""
    table = table_name("sequence_revisions",
                       live_generation(read_models.db, "sequences").generation)
    found = read_models.db.read(f"SELECT * FROM {table} WHERE sequence_id = %s "
                                "ORDER BY revision", [str(sequence_id)])
    return [{**r, "steps": json.loads(r["steps"]), "created_at": as_datetime(r["created_at"]),
             "published_at": as_datetime(r["published_at"])} for r in found]
