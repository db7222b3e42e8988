"""Message requests carry deterministic ids; delivery feedback from the CRM: a failed send is
tried again (attempts 2 and 3, after the backoff, with new ids), then the enrollment exits with
reason ``error``; a permanent failure exits at once; a repeated report has one effect."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from domain import ids
from domain.application import DriplineApp
from domain.clock import ManualClock
from domain.enrollment import SETTLE, Enrollment
from domain.errors import InvalidInputError
from tests.execution.support import (
    TENANT,
    active_sequence,
    crm,
    enrollment,
    events_of,
    execute_exactly_at,
    requests,
    run_out,
    step,
)

TWO_STEPS = [step(0, "hello"), step(1, "later", amount=1, unit="days")]


def _first_sent(app: DriplineApp, clock: ManualClock) -> UUID:
    """Enroll c-1; its first step, due at once, is requested with the enrollment."""
    e = app.enroll(TENANT, active_sequence(app, TWO_STEPS), "c-1")
    assert ids.message_id(e.id, 0, 1) in enrollment(app, e.id).messages
    return e.id


def test_message_ids_are_deterministic_per_enrollment_step_and_attempt() -> None:
    enrollment_id = uuid4()
    same = ids.message_id(enrollment_id, 2, 1)
    assert same == ids.message_id(enrollment_id, 2, 1)
    others = {ids.message_id(enrollment_id, 2, 2), ids.message_id(enrollment_id, 3, 1),
              ids.message_id(uuid4(), 2, 1)}
    assert same not in others
    assert len(others) == 3
    assert ids.enrollment_of_message(same) == enrollment_id


def test_the_recorded_request_carries_the_deterministic_id(app: DriplineApp,
                                                           clock: ManualClock) -> None:
    enrollment_id = _first_sent(app, clock)
    [request] = requests(app, enrollment_id)
    assert request["message_id"] == ids.message_id(enrollment_id, 0, 1)
    [requested] = events_of(app, enrollment_id, Enrollment.StepExecuted)
    assert (requested.step_order, requested.attempt, requested.advance_to) == (0, 1, 1)


def test_a_step_executed_late_keeps_its_due_time_in_the_request(
        app: DriplineApp, clock: ManualClock) -> None:
    """A scheduler that was down runs the step when it comes back; the request tells the
    receiver both when it was due and when it was made."""
    due = clock() + timedelta(days=1)
    e = app.enroll(TENANT, active_sequence(app, [step(0, "hi", amount=1, unit="days")]), "c-1")
    clock.set(due + timedelta(hours=3))
    [outcome] = app.execute_due([e.id])
    assert (outcome.result, outcome.due_at) == ("requested", due)
    [request] = requests(app, e.id)
    assert (request["due_at"], request["created_at"]) == (
        due.isoformat(), (due + timedelta(hours=3)).isoformat())


def test_a_failed_send_is_retried_twice_after_the_backoff_then_exits(
        app: DriplineApp, clock: ManualClock) -> None:
    start = clock()
    enrollment_id = _first_sent(app, clock)
    failed_at = start
    for attempt, backoff in ((1, timedelta(minutes=1)), (2, timedelta(minutes=10))):
        clock.set(failed_at + timedelta(seconds=30))
        crm(app, "message_failed", "c-1", message_id=ids.message_id(enrollment_id, 0, attempt),
            error="gateway timeout")
        outcome = execute_exactly_at(app, clock, enrollment_id, clock() + backoff)
        assert (outcome.result, outcome.message_id) == (
            "requested", ids.message_id(enrollment_id, 0, attempt + 1))
        # The retry does not move the next step: it stays due a day after the first send.
        assert enrollment(app, enrollment_id).next_scheduled_at == start + timedelta(days=1)
        failed_at = clock()
    sent = requests(app, enrollment_id)
    assert [(r["step_order"], r["attempt"], r["content"]) for r in sent] == [
        (0, 1, "hello"), (0, 2, "hello"), (0, 3, "hello")]
    assert len({r["message_id"] for r in sent}) == 3
    crm(app, "message_failed", "c-1", message_id=ids.message_id(enrollment_id, 0, 3),
        error="gateway timeout")
    done = enrollment(app, enrollment_id)
    assert (done.status, done.exit_reason) == ("exited", "error")
    assert run_out(app, clock, [enrollment_id]) == []
    assert len(requests(app, enrollment_id)) == 3


def test_a_permanent_failure_exits_at_once(app: DriplineApp, clock: ManualClock) -> None:
    enrollment_id = _first_sent(app, clock)
    crm(app, "message_failed", "c-1", message_id=ids.message_id(enrollment_id, 0, 1),
        error="number does not exist", permanent=True)
    done = enrollment(app, enrollment_id)
    assert (done.status, done.exit_reason) == ("exited", "error")
    [failure] = events_of(app, enrollment_id, Enrollment.SendFailed)
    assert (failure.permanent, failure.retry_at, failure.attempt) == (True, None, 1)
    assert run_out(app, clock, [enrollment_id]) == []
    assert len(requests(app, enrollment_id)) == 1


def test_a_repeated_failure_report_has_one_effect(app: DriplineApp, clock: ManualClock) -> None:
    enrollment_id = _first_sent(app, clock)
    message = ids.message_id(enrollment_id, 0, 1)
    assert crm(app, "message_failed", "c-1", message_id=message, error="x").status == "applied"
    assert crm(app, "message_failed", "c-1", message_id=message, error="x").status == "duplicate"
    assert len(events_of(app, enrollment_id, Enrollment.SendFailed)) == 1
    run_out(app, clock, [enrollment_id])
    assert [(r["step_order"], r["attempt"]) for r in requests(app, enrollment_id)] == [
        (0, 1), (0, 2), (1, 1)]


def test_a_delivery_is_recorded_once(app: DriplineApp, clock: ManualClock) -> None:
    enrollment_id = _first_sent(app, clock)
    message = ids.message_id(enrollment_id, 0, 1)
    assert crm(app, "message_delivered", "c-1", message_id=message).status == "applied"
    assert crm(app, "message_delivered", "c-1", message_id=message).status == "duplicate"
    # A late failure report for a delivered message changes nothing either.
    assert crm(app, "message_failed", "c-1", message_id=message, error="x").status == "duplicate"
    assert len(events_of(app, enrollment_id, Enrollment.MessageDelivered)) == 1
    assert events_of(app, enrollment_id, Enrollment.SendFailed) == []
    assert enrollment(app, enrollment_id).messages[message]["status"] == "delivered"


def test_feedback_for_an_unknown_message_names_the_field(app: DriplineApp,
                                                         clock: ManualClock) -> None:
    enrollment_id = _first_sent(app, clock)
    with pytest.raises(InvalidInputError) as refused:
        crm(app, "message_failed", "c-1", message_id=ids.message_id(enrollment_id, 5, 1))
    assert refused.value.field == "data.message_id"


def test_the_last_step_is_retried_like_any_other(app: DriplineApp,
                                                 clock: ManualClock) -> None:
    """The enrollment stays active while its last message may still fail: a failure is
    retried after the backoff, and a delivery of the retry completes it at once."""
    e = app.enroll(TENANT, active_sequence(app, [step(0, "only")]), "c-1")
    assert enrollment(app, e.id).status == "active"
    clock.advance(timedelta(seconds=20))
    crm(app, "message_failed", "c-1", message_id=ids.message_id(e.id, 0, 1), error="timeout")
    outcome = execute_exactly_at(app, clock, e.id, clock() + timedelta(minutes=1))
    assert (outcome.result, outcome.message_id) == ("requested", ids.message_id(e.id, 0, 2))
    assert enrollment(app, e.id).status == "active"
    crm(app, "message_delivered", "c-1", message_id=ids.message_id(e.id, 0, 2))
    done = enrollment(app, e.id)
    assert (done.status, done.completed_at) == ("completed", clock())
    assert [r["attempt"] for r in requests(app, e.id)] == [1, 2]


def test_the_last_step_completes_once_it_can_no_longer_fail(
        app: DriplineApp, clock: ManualClock) -> None:
    e = app.enroll(TENANT, active_sequence(app, [step(0, "only")]), "c-1")
    settles_at = clock() + SETTLE
    assert enrollment(app, e.id).next_scheduled_at == settles_at
    outcome = execute_exactly_at(app, clock, e.id, settles_at)
    assert outcome.result == "completed"
    assert enrollment(app, e.id).completed_at == settles_at


def test_a_failure_reported_after_completion_is_recorded_not_retried(
        app: DriplineApp, clock: ManualClock) -> None:
    """Documented limit (docs/behaviour.md): past the settling time the enrollment is
    completed, and a failure reported later is recorded (and counted in the stats) but not
    retried; nothing more is requested."""
    e = app.enroll(TENANT, active_sequence(app, [step(0, "only")]), "c-1")
    clock.advance(SETTLE)
    app.execute_due([e.id])
    crm(app, "message_failed", "c-1", message_id=ids.message_id(e.id, 0, 1), error="timeout")
    run_out(app, clock, [e.id])
    assert [r["attempt"] for r in requests(app, e.id)] == [1]
    completed = enrollment(app, e.id)
    assert completed.status == "completed"
    assert completed.messages[ids.message_id(e.id, 0, 1)]["status"] == "failed"


def test_waiting_for_a_retry_of_the_last_step_is_a_settling_wait_not_a_deferral(
        app: DriplineApp, clock: ManualClock) -> None:
    """The last message failed just before the settling time: the enrollment waits for its
    retry, a wait recorded as ``settle``, neither a send-window deferral nor any other."""
    e = app.enroll(TENANT, active_sequence(app, [step(0, "only")]), "c-1")
    settles_at = clock() + SETTLE
    clock.set(settles_at - timedelta(seconds=30))
    crm(app, "message_failed", "c-1", message_id=ids.message_id(e.id, 0, 1), error="timeout")
    outcome = execute_exactly_at(app, clock, e.id, settles_at)
    assert (outcome.result, outcome.reason) == ("rescheduled", None)
    [wait] = events_of(app, e.id, Enrollment.Rescheduled)
    assert (wait.reason, wait.due_at) == ("settle", settles_at + timedelta(seconds=30) + SETTLE)
    assert getattr(enrollment(app, e.id), "deferred_by", "missing") is None
