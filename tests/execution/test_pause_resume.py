"""Pausing and resuming: a paused sequence sends nothing; on resume its enrollments are
rescheduled by the sequence's policy, ``send_late`` (catch up at once) or ``skip_missed``
(missed steps recorded as skipped, the next future step keeps its time)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from domain.application import DriplineApp
from domain.clock import ManualClock
from domain.enrollment import Enrollment
from tests.execution.support import (
    TENANT,
    active_sequence,
    enrollment,
    events_of,
    execute_exactly_at,
    requests,
    run_out,
    settle,
    step,
)

DAY = timedelta(days=1)
STEPS = [step(0, "zero"), step(1, "one", amount=1, unit="days"),
         step(2, "two", amount=1, unit="days"), step(3, "three", amount=10, unit="days")]


def _started(app: DriplineApp, clock: ManualClock, **settings: Any) -> tuple[UUID, UUID]:
    sequence_id = active_sequence(app, STEPS, **settings)
    e = app.enroll(TENANT, sequence_id, "c-1")
    assert len(requests(app, e.id)) == 1  # step 0 is due at once: sent on enrolling
    return sequence_id, e.id


def test_a_paused_sequence_sends_nothing_and_send_late_catches_up_on_resume(
        app: DriplineApp, clock: ManualClock) -> None:
    start = clock()
    sequence_id, enrollment_id = _started(app, clock)
    clock.set(start + timedelta(hours=2))
    app.pause_sequence(TENANT, sequence_id)
    paused = enrollment(app, enrollment_id)
    assert (paused.status, paused.paused_by_sequence, paused.next_scheduled_at) == (
        "paused", True, None)
    for days in (1, 2, 3):
        clock.set(start + days * DAY)
        assert app.execute_due([enrollment_id]) == []
    resumed_at = start + 3 * DAY
    app.resume_sequence(TENANT, sequence_id)
    assert enrollment(app, enrollment_id).next_scheduled_at == resumed_at  # due at once
    assert [o.result for o in app.execute_due([enrollment_id])] == ["requested"]
    late = requests(app, enrollment_id)[-1]
    assert (late["content"], late["due_at"]) == ("one", resumed_at.isoformat())
    assert enrollment(app, enrollment_id).next_scheduled_at == resumed_at + DAY


def test_skip_missed_records_the_missed_steps_and_keeps_the_next_steps_time(
        app: DriplineApp, clock: ManualClock) -> None:
    start = clock()
    sequence_id, enrollment_id = _started(app, clock, resume_policy="skip_missed")
    clock.set(start + timedelta(hours=1))
    app.pause_sequence(TENANT, sequence_id)
    # Step 1 was due at day 1 and step 2 at day 2: both pass during the pause.
    clock.set(start + 2 * DAY + timedelta(hours=12))
    app.resume_sequence(TENANT, sequence_id)
    skipped = events_of(app, enrollment_id, Enrollment.StepSkipped)
    assert [(s.step_order, s.reason) for s in skipped] == [
        (1, "missed_while_paused"), (2, "missed_while_paused")]
    # Step 3 keeps its own time: ten days after step 2's original time.
    outcome = execute_exactly_at(app, clock, enrollment_id, start + 12 * DAY)
    assert outcome.result == "requested"
    assert [r["content"] for r in requests(app, enrollment_id)] == ["zero", "three"]
    assert settle(app, clock, enrollment_id).status == "completed"


def test_skip_missed_with_nothing_missed_keeps_the_due_time(app: DriplineApp,
                                                            clock: ManualClock) -> None:
    start = clock()
    sequence_id, enrollment_id = _started(app, clock, resume_policy="skip_missed")
    app.pause_sequence(TENANT, sequence_id)
    clock.set(start + timedelta(hours=20))
    app.resume_sequence(TENANT, sequence_id)
    assert events_of(app, enrollment_id, Enrollment.StepSkipped) == []
    assert execute_exactly_at(app, clock, enrollment_id, start + DAY).result == "requested"


def test_skip_missed_past_the_last_step_completes(app: DriplineApp, clock: ManualClock) -> None:
    start = clock()
    sequence_id, enrollment_id = _started(app, clock, resume_policy="skip_missed")
    app.pause_sequence(TENANT, sequence_id)
    clock.set(start + 30 * DAY)
    app.resume_sequence(TENANT, sequence_id)
    assert enrollment(app, enrollment_id).status == "completed"
    assert [s.step_order for s in events_of(app, enrollment_id, Enrollment.StepSkipped)] == [
        1, 2, 3]
    assert run_out(app, clock, [enrollment_id]) == []
    assert len(requests(app, enrollment_id)) == 1


def test_pausing_a_sequence_reaches_its_enrollments_without_read_models(
        bare_app: DriplineApp, clock: ManualClock) -> None:
    start = clock()
    sequence_id, enrollment_id = _started(bare_app, clock)
    clock.set(start + DAY)  # step 1 is due now
    bare_app.pause_sequence(TENANT, sequence_id)  # found in the write-side index
    paused = enrollment(bare_app, enrollment_id)
    assert (paused.status, paused.paused_by_sequence) == ("paused", True)
    assert bare_app.execute_due([enrollment_id]) == []
    assert len(requests(bare_app, enrollment_id)) == 1
    clock.advance(timedelta(hours=5))
    bare_app.resume_sequence(TENANT, sequence_id)
    assert [o.result for o in bare_app.execute_due([enrollment_id])] == ["requested"]
    assert requests(bare_app, enrollment_id)[-1]["content"] == "one"


def test_a_paused_enrollment_sends_nothing_until_resumed(app: DriplineApp,
                                                         clock: ManualClock) -> None:
    start = clock()
    _, enrollment_id = _started(app, clock)
    app.pause_enrollment(TENANT, enrollment_id)
    clock.set(start + 5 * DAY)
    assert app.execute_due([enrollment_id]) == []
    app.resume_enrollment(TENANT, enrollment_id)
    assert [o.result for o in app.execute_due([enrollment_id])] == ["requested"]


def test_archiving_exits_the_enrollments_without_read_models(bare_app: DriplineApp,
                                                             clock: ManualClock) -> None:
    start = clock()
    sequence_id, enrollment_id = _started(bare_app, clock)
    bare_app.archive_sequence(TENANT, sequence_id)
    assert enrollment(bare_app, enrollment_id).exit_reason == "sequence_archived"
    clock.set(start + DAY)
    assert bare_app.execute_due([enrollment_id]) == []
    assert len(requests(bare_app, enrollment_id)) == 1
