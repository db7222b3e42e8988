"""The seed's domain-layer checklist as short stories on the application (stats tracking
lives in the read models and is tested there):

create → add steps → activate · enroll → steps fall due → advance → complete ·
"is ready for next step" (active and due) · exit with reason · pause/resume.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from domain import ids
from domain.application import DriplineApp
from domain.clock import ManualClock
from domain.enrollment import SETTLE, Enrollment
from domain.errors import SequenceNotFoundError
from tests.domain.support import crm_event, step_body

T = "acme"


def _onboarding(app: DriplineApp, **step_overrides: object) -> UUID:
    """Three steps (now, a day later, two hours later); c-1 enrolled; its enrollment id."""
    sequence = app.create_sequence(T, {"name": "Onboarding"})
    app.add_step(T, sequence.id, step_body(0, delay_amount=0, delay_unit="minutes"))
    app.add_step(T, sequence.id, step_body(1, delay_amount=1, delay_unit="days",
                                           **step_overrides))
    app.add_step(T, sequence.id, step_body(2, delay_amount=2, delay_unit="hours"))
    app.activate_sequence(T, sequence.id)
    app.record_crm_event(crm_event("contact_updated", at=app.clock(), name="Ana"))
    enrollment = app.enroll(T, sequence.id, "c-1")
    return enrollment.id


def test_an_enrollment_runs_every_step_at_its_time_then_completes(
        app: DriplineApp, clock: ManualClock) -> None:
    e_id = _onboarding(app)

    # The first step is due at once: it was requested with the enrollment itself.
    after_first = app.get_enrollment(T, e_id)
    assert ids.message_id(e_id, 0, 1) in after_first.messages
    assert after_first.current_step_order == 1
    assert after_first.next_scheduled_at == clock() + timedelta(days=1)

    # Not ready: the next step is not due yet, so running the scheduler again does nothing.
    clock.advance(timedelta(hours=23, minutes=59))
    assert app.execute_due([e_id]) == []
    clock.advance(timedelta(minutes=1))
    [second] = app.execute_due([e_id])
    assert second.message_id == ids.message_id(e_id, 1, 1)
    assert app.get_enrollment(T, e_id).next_scheduled_at == clock() + timedelta(hours=2)

    clock.advance(timedelta(hours=2))
    [third] = app.execute_due([e_id])
    assert third.result == "requested"
    # The last message may still fail and be retried: the enrollment completes once that
    # can no longer happen (no failure reported within the settling time).
    settling = app.get_enrollment(T, e_id)
    assert (settling.status, settling.next_scheduled_at) == ("active", clock() + SETTLE)
    clock.advance(SETTLE)
    [last] = app.execute_due([e_id])
    assert last.result == "completed"
    done = app.get_enrollment(T, e_id)
    assert (done.status, done.completed_at, done.next_scheduled_at) == ("completed", clock(),
                                                                        None)
    assert app.execute_due([e_id]) == []
    requested = [(e.step_order, e.attempt) for e in app.events.get(e_id)
                 if isinstance(e, Enrollment.StepExecuted)]
    assert requested == [(order, 1) for order in (0, 1, 2)]


def test_a_paused_enrollment_is_not_ready_until_resumed(app: DriplineApp,
                                                        clock: ManualClock) -> None:
    e_id = _onboarding(app)
    app.pause_enrollment(T, e_id)
    clock.advance(timedelta(days=3))
    assert app.execute_due([e_id]) == []
    app.resume_enrollment(T, e_id)
    [outcome] = app.execute_due([e_id])
    assert outcome.message_id == ids.message_id(e_id, 1, 1)


@pytest.mark.parametrize(("on_fail", "status", "order"), [("skip", "active", 2),
                                                          ("exit", "exited", 1)])
def test_a_failed_condition_skips_or_exits(app: DriplineApp, clock: ManualClock,
                                           on_fail: str, status: str, order: int) -> None:
    e_id = _onboarding(app, conditions=[{"type": "tag", "operator": "has", "value": "vip"}],
                         on_condition_fail=on_fail)
    app.execute_due([e_id])
    clock.advance(timedelta(days=1))
    [outcome] = app.execute_due([e_id])
    assert outcome.message_id is None
    e = app.get_enrollment(T, e_id)
    assert (e.status, e.current_step_order) == (status, order)
    if on_fail == "exit":
        assert e.exit_reason == "condition_not_met"
    else:
        [skipped] = [x for x in app.events.get(e_id) if isinstance(x, Enrollment.StepSkipped)]
        assert (skipped.step_order, skipped.reason) == (1, "condition_not_met")


def test_enrolling_needs_a_known_sequence(app: DriplineApp) -> None:
    with pytest.raises(SequenceNotFoundError):
        app.enroll(T, uuid4(), "c-1")
