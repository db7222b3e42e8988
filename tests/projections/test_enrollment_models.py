"""``enrollments``, ``due_enrollments`` and ``sequence_stats`` against the enrollment events
that change them: enroll, execute steps, pause, resume, complete, exit."""

from __future__ import annotations

from datetime import timedelta

from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from tests.projections.support import active_sequence, execute_step


def test_enrollments_follow_their_contacts_through_the_sequence(
        runtime: Runtime, clock: ManualClock) -> None:
    app, q = runtime.app, runtime.queries
    sequence = active_sequence(app, steps=2)
    first = app.enroll("acme", sequence.id, "c-1")
    second = app.enroll("acme", sequence.id, "c-2")
    clock.advance(timedelta(hours=1))
    execute_step(app, first.id, clock(), last_order=1)
    app.pause_enrollment("acme", second.id)
    runtime.catch_up()

    rows = {r["contact_id"]: r for r in q.list_enrollments("acme", sequence.id).items}
    assert rows["c-1"]["status"] == "active"
    assert rows["c-1"]["current_step_order"] == 1
    assert rows["c-1"]["next_scheduled_at"] == clock() + timedelta(hours=1)
    assert rows["c-1"]["version"] == app.get_enrollment("acme", first.id).version
    assert rows["c-2"]["status"] == "paused"
    assert rows["c-2"]["next_scheduled_at"] is None
    assert [r["id"] for r in q.contact_enrollments("acme", "c-2")] == [str(second.id)]
    assert q.contact_enrollments("other", "c-2") == []
    assert q.list_enrollments("acme", sequence.id, status="paused").total == 1

    app.exit_enrollment("acme", second.id, "manual_exit")
    clock.advance(timedelta(hours=1))
    execute_step(app, first.id, clock(), last_order=1)
    runtime.catch_up()
    rows = {r["contact_id"]: r for r in q.list_enrollments("acme", sequence.id).items}
    assert (rows["c-1"]["status"], rows["c-1"]["completed_at"]) == ("completed", clock())
    assert (rows["c-2"]["status"], rows["c-2"]["exit_reason"]) == ("exited", "manual_exit")
    assert app.store.open_enrollments_of_sequence(sequence.id) == []


def test_due_enrollments_hold_only_active_enrollments_with_a_due_time_oldest_first(
        runtime: Runtime, clock: ManualClock) -> None:
    app, q = runtime.app, runtime.queries
    sequence = active_sequence(app, steps=2)
    early = app.enroll("acme", sequence.id, "early")
    clock.advance(timedelta(minutes=10))
    late = app.enroll("acme", sequence.id, "late")
    paused = app.enroll("acme", sequence.id, "paused")
    app.pause_enrollment("acme", paused.id)
    gone = app.enroll("acme", sequence.id, "gone")
    app.exit_enrollment("acme", gone.id)
    runtime.catch_up()

    far = clock() + timedelta(days=1)
    assert [d.enrollment_id for d in q.due_enrollments(far)] == [early.id, late.id]
    assert q.due_enrollments(clock()) == []  # nothing due yet: first step waits an hour
    assert len(q.due_enrollments(far, limit=1)) == 1
    [due] = q.due_enrollments(clock() + timedelta(minutes=55))
    assert (due.tenant_id, due.sequence_id, due.contact_id, due.step_order) == (
        "acme", sequence.id, "early", 0)
    assert due.due_at == early.next_scheduled_at

    clock.advance(timedelta(hours=1))
    app.resume_enrollment("acme", paused.id)  # its time passed while paused: due now
    execute_step(app, early.id, clock(), last_order=1)
    runtime.catch_up()
    due_now = {d.enrollment_id: d for d in q.due_enrollments(clock())}
    assert set(due_now) == {late.id, paused.id}
    assert due_now[paused.id].due_at == clock()
    moved = q.due_enrollments(far)
    assert [d.step_order for d in moved if d.enrollment_id == early.id] == [1]


def test_sequence_stats_count_states_exits_completion_time_and_the_step_funnel(
        runtime: Runtime, clock: ManualClock) -> None:
    app = runtime.app
    sequence = active_sequence(app, steps=2)
    enrolled = app.enroll_many("acme", sequence.id, ["a", "b", "c", "d"]).enrolled
    a, b, c, d = (e.id for e in enrolled)
    app.exit_enrollment("acme", b, "manual_exit")
    app.pause_enrollment("acme", c)
    app.exit_enrollment("acme", c, "contact_replied")
    enrollment = app.get_enrollment("acme", d)
    enrollment.skip_step(0, "condition_not_met", clock())
    app.save(enrollment)
    clock.advance(timedelta(hours=1))
    execute_step(app, a, clock(), last_order=1)
    clock.advance(timedelta(hours=2))
    execute_step(app, a, clock(), last_order=1)
    runtime.catch_up()

    stats = runtime.queries.sequence_stats("acme", sequence.id)
    assert stats is not None
    assert stats["total_enrolled"] == 4
    assert (stats["active_count"], stats["paused_count"]) == (1, 0)
    assert (stats["completed_count"], stats["exited_count"]) == (1, 2)
    assert stats["completion_rate"] == 0.25
    assert stats["exits_by_reason"] == {"contact_replied": 1, "manual_exit": 1}
    assert stats["avg_completion_seconds"] == 3 * 3600
    steps = {s["step_order"]: s for s in stats["steps"]}
    assert (steps[0]["reached"], steps[0]["message_requested"]) == (4, 1)
    assert steps[0]["skipped"] == {"condition_not_met": 1}
    assert (steps[1]["reached"], steps[1]["message_requested"]) == (1, 1)
    assert runtime.queries.sequence_stats("other", sequence.id) is None


def test_stats_of_a_sequence_without_enrollments_are_zero(runtime: Runtime) -> None:
    sequence = runtime.app.create_sequence("acme", {"name": "Empty"})
    runtime.catch_up()
    stats = runtime.queries.sequence_stats("acme", sequence.id)
    assert stats is not None
    assert (stats["total_enrolled"], stats["completion_rate"], stats["steps"]) == (0, 0.0, [])
