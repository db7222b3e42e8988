"""Enrollment: statuses, monotonic steps, completion and exit, what each step recorded, and
the application's enrollment commands (one active enrollment, re-enrollment policy)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain import ids
from domain.application import DriplineApp
from domain.clock import ManualClock
from domain.enrollment import EXIT_REASONS, Enrollment
from domain.errors import (
    AlreadyEnrolledError,
    ContactDeletedError,
    ContactSuppressedError,
    EnrollmentNotFoundError,
    EnrollmentStatusError,
    InvalidInputError,
    InvalidTransitionError,
    ReEnrollmentNotAllowedError,
    SequenceNotActiveError,
    StepOrderRegressionError,
)
from tests.domain.support import crm_event, request_step, state, step_body, stored_count
from tests.domain.test_sequence import new_sequence

T = "acme"
NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def enrollment(step_order: int = 0) -> Enrollment:
    return Enrollment.start(id=uuid4(), tenant_id=T, sequence_id=uuid4(), contact_id="c-1",
                      number=1, step_order=step_order, due_at=NOW + timedelta(days=1),
                      source="manual", at=NOW)


def request(e: Enrollment, attempt: int = 1, at: datetime = NOW) -> str:
    return request_step(e, attempt=attempt, at=at)


def ended(status: str) -> Enrollment:
    e = enrollment()
    if status == "completed":
        e.complete(NOW)
    elif status == "exited":
        e.exit("manual_exit", NOW)
    elif status == "paused":
        e.pause(NOW)
    return e


def refused_without_change(e: Enrollment, error: type[Exception], says: str,
                           command: Any) -> None:
    e.collect_events()  # what came before is not this command's doing
    before = state(e)
    with pytest.raises(error) as caught:
        command()
    assert says in str(caught.value)
    assert state(e) == before
    assert e.collect_events() == []


# --- the aggregate --------------------------------------------------------------------------------


def test_a_new_enrollment_is_active_at_its_first_step() -> None:
    e = enrollment(step_order=2)
    assert (e.status, e.current_step_order, e.number) == ("active", 2, 1)
    assert e.next_scheduled_at == NOW + timedelta(days=1)
    assert e.enrolled_at == NOW
    assert (e.completed_at, e.exited_at, e.exit_reason) == (None, None, None)
    assert e.is_open


def test_the_step_order_only_increases() -> None:
    e = enrollment()
    e.advance(3, LATER, LATER)
    assert (e.current_step_order, e.next_scheduled_at) == (3, LATER)
    e.collect_events()
    for order in (3, 2, 0):
        refused_without_change(e, StepOrderRegressionError,
                               f"is at step 3; it cannot move to step {order}",
                               lambda o=order: e.advance(o, LATER, LATER))


@pytest.mark.parametrize("status", ["paused", "completed", "exited"])
def test_only_an_active_enrollment_executes_or_advances(status: str) -> None:
    e = ended(status)
    e.collect_events()
    says = f"is {status}; only an active enrollment can"
    refused_without_change(e, EnrollmentStatusError, says, lambda: e.advance(1, LATER, LATER))
    refused_without_change(e, EnrollmentStatusError, says, lambda: request(e))
    refused_without_change(e, EnrollmentStatusError, says,
                           lambda: e.skip_step(0, "condition", LATER))
    refused_without_change(e, EnrollmentStatusError, says, lambda: e.reschedule(LATER, LATER))
    refused_without_change(e, EnrollmentStatusError, says, lambda: e.complete(LATER))


def test_completion_is_final_and_clears_the_due_time() -> None:
    e = enrollment()
    e.complete(LATER)
    assert (e.status, e.completed_at, e.next_scheduled_at) == ("completed", LATER, None)
    assert not e.is_open
    assert e.ended_at == LATER
    e.collect_events()
    refused_without_change(e, EnrollmentStatusError, "only an active enrollment can complete",
                           lambda: e.complete(LATER))
    refused_without_change(e, EnrollmentStatusError, "already completed; it cannot exit",
                           lambda: e.exit("manual_exit", LATER))


@pytest.mark.parametrize("reason", EXIT_REASONS)
def test_exit_with_each_reason(reason: str) -> None:
    e = enrollment()
    e.exit(reason, LATER, detail="why")
    assert (e.status, e.exit_reason, e.exited_at, e.next_scheduled_at) == (
        "exited", reason, LATER, None)
    assert e.ended_at == LATER


def test_the_seed_exit_reasons_are_all_known() -> None:
    seed = {"contact_replied", "contact_unsubscribed", "contact_deleted", "manual_exit",
            "condition_not_met", "sequence_paused", "error"}
    assert seed <= set(EXIT_REASONS)


def test_no_double_exit_and_no_unknown_reason() -> None:
    e = enrollment()
    refused_without_change(e, InvalidInputError, "reason: must be one of",
                           lambda: e.exit("bored", LATER))
    e.exit("contact_replied", LATER)
    e.collect_events()
    refused_without_change(e, EnrollmentStatusError, "already exited; it cannot exit again",
                           lambda: e.exit("manual_exit", LATER))
    assert e.exit_reason == "contact_replied"


def test_a_paused_enrollment_can_exit() -> None:
    e = ended("paused")
    e.exit("contact_deleted", LATER)
    assert (e.status, e.next_scheduled_at) == ("exited", None)


def test_pause_and_resume() -> None:
    e = enrollment()
    due = e.next_scheduled_at
    e.pause(LATER)
    assert (e.status, e.next_scheduled_at, e.due_before_pause) == ("paused", None, due)
    e.collect_events()
    refused_without_change(e, EnrollmentStatusError, "only an active enrollment can pause",
                           lambda: e.pause(LATER))
    e.resume(LATER + timedelta(hours=1), LATER)
    assert (e.status, e.next_scheduled_at) == ("active", LATER + timedelta(hours=1))
    e.collect_events()
    refused_without_change(e, EnrollmentStatusError, "only a paused enrollment can resume",
                           lambda: e.resume(LATER, LATER))


@pytest.mark.parametrize("status", ["completed", "exited"])
def test_an_ended_enrollment_cannot_pause_or_resume(status: str) -> None:
    e = ended(status)
    e.collect_events()
    refused_without_change(e, EnrollmentStatusError, "can pause", lambda: e.pause(LATER))
    refused_without_change(e, EnrollmentStatusError, "can resume",
                           lambda: e.resume(LATER, LATER))


def test_message_requests_carry_a_deterministic_id() -> None:
    e = enrollment(step_order=1)
    message_id = request(e)
    assert message_id == ids.message_id(e.id, 1, 1) == f"{e.id}:1:1"
    assert ids.enrollment_of_message(message_id) == e.id
    assert ids.message_id(e.id, 1, 2) != message_id
    [event] = [x for x in e.pending_events if isinstance(x, Enrollment.StepExecuted)]
    assert e.messages[message_id] == {"step_order": 1, "attempt": 1, "status": "requested",
                                      "requested_at": NOW, "step_id": event.step_id}
    assert e.last_step_at == NOW
    [event] = [x for x in e.collect_events() if isinstance(x, Enrollment.StepExecuted)]
    assert (event.step_order, event.attempt, event.content) == (1, 1, "Hi")
    refused_without_change(e, EnrollmentStatusError, "was already requested",
                           lambda: request(e))


def test_ids_are_deterministic() -> None:
    sequence_id = uuid4()
    assert ids.enrollment_id(sequence_id, "c-1", 1) == ids.enrollment_id(sequence_id, "c-1", 1)
    assert ids.enrollment_id(sequence_id, "c-1", 1) != ids.enrollment_id(sequence_id, "c-1", 2)
    assert ids.contact_id("acme", "c-1") != ids.contact_id("globex", "c-1")
    assert ids.enrollment_of_message("not-a-uuid:0:1") is None


@pytest.mark.parametrize(("one", "other"), [
    (("acme/x", "y"), ("acme", "x/y")), (("a:1", "2"), ("a", "1:2")), (("ab", "c"), ("a", "bc")),
    (("a", ""), ("", "a"))])
def test_derived_ids_never_meet_however_the_parts_are_cut(
        one: tuple[str, str], other: tuple[str, str]) -> None:
    # Each part is length-prefixed: moving characters from one part to the other always
    # changes the id, whatever the parts may contain.
    assert ids.contact_id(*one) != ids.contact_id(*other)
    sequence = uuid4()
    assert ids.slot_id(sequence, one[0] + one[1]) != ids.slot_id(uuid4(), one[0] + one[1])
    assert ids.derive("k", *one) != ids.derive("k", *other)


def test_a_skipped_step_records_why() -> None:
    e = enrollment()
    e.skip_step(0, "condition tag has vip not met", LATER)
    [event] = [x for x in e.collect_events() if isinstance(x, Enrollment.StepSkipped)]
    assert (event.step_order, event.reason) == (0, "condition tag has vip not met")
    assert e.last_step_at == LATER


def test_a_failed_send_is_recorded_once_with_its_attempt() -> None:
    e = enrollment()
    message_id = request(e, attempt=1)
    e.collect_events()
    retry_at = NOW + timedelta(minutes=1)
    assert e.record_failure(message_id=message_id, error="timeout", permanent=False,
                            retry_at=retry_at, at=NOW) is True
    [event] = e.collect_events()
    assert isinstance(event, Enrollment.SendFailed)
    assert (event.attempt, event.error, event.permanent, event.retry_at) == (
        1, "timeout", False, retry_at)
    assert e.pending_retry == {"step_order": 0, "attempt": 2, "due_at": retry_at}
    assert e.next_scheduled_at == retry_at  # the retry comes before the step's due time
    assert e.messages[message_id]["status"] == "failed"
    assert e.record_failure(message_id=message_id, error="timeout", permanent=False,
                            retry_at=retry_at, at=NOW) is False
    assert e.record_delivery(message_id, NOW) is False
    assert e.collect_events() == []


def test_a_delivery_is_recorded_once() -> None:
    e = enrollment()
    message_id = request(e)
    e.collect_events()
    assert e.record_delivery(message_id, LATER) is True
    assert e.messages[message_id]["status"] == "delivered"
    assert e.record_delivery(message_id, LATER) is False
    assert len(e.collect_events()) == 1


def test_feedback_on_an_unknown_message_is_refused() -> None:
    e = enrollment()
    refused_without_change(e, InvalidInputError, "requested no message",
                           lambda: e.record_delivery("nope", LATER))


# --- the application: enrolling -----------------------------------------------------------------


def test_enroll_in_an_active_sequence(app: DriplineApp, clock: ManualClock) -> None:
    sequence = new_sequence(app, "active", steps=2)
    e = app.enroll(T, sequence.id, " c-1 ")
    loaded = app.get_enrollment(T, e.id)
    assert loaded.id == ids.enrollment_id(sequence.id, "c-1", 1)
    assert (loaded.status, loaded.contact_id, loaded.sequence_id) == ("active", "c-1",
                                                                      sequence.id)
    assert loaded.current_step_order == 0
    assert loaded.next_scheduled_at == clock() + timedelta(days=1)
    assert loaded.source == "manual"


@pytest.mark.parametrize("status", ["draft", "paused", "archived"])
def test_enroll_only_in_an_active_sequence(app: DriplineApp, status: str) -> None:
    sequence = new_sequence(app, status)
    before = stored_count(app)
    with pytest.raises(SequenceNotActiveError) as caught:
        app.enroll(T, sequence.id, "c-1")
    assert f"is {status}; contacts can only be enrolled in an active sequence" in str(
        caught.value)
    assert stored_count(app) == before


def test_enroll_needs_a_contact_id(app: DriplineApp) -> None:
    sequence = new_sequence(app, "active")
    with pytest.raises(InvalidInputError) as caught:
        app.enroll(T, sequence.id, " ")
    assert caught.value.field == "contact_id"


def test_one_open_enrollment_per_contact_and_sequence(app: DriplineApp) -> None:
    sequence = new_sequence(app, "active")
    first = app.enroll(T, sequence.id, "c-1")
    before = stored_count(app)
    with pytest.raises(AlreadyEnrolledError) as caught:
        app.enroll(T, sequence.id, "c-1")
    assert f"already enrolled in sequence {sequence.id}" in str(caught.value)
    app.pause_enrollment(T, first.id)
    before = stored_count(app)
    with pytest.raises(AlreadyEnrolledError, match="is paused"):
        app.enroll(T, sequence.id, "c-1")
    assert stored_count(app) == before
    # Another sequence is another matter.
    other = new_sequence(app, "active")
    assert app.enroll(T, other.id, "c-1").status == "active"


def _end(app: DriplineApp, enrollment_id: UUID, how: str) -> None:
    if how == "exited":
        app.exit_enrollment(T, enrollment_id)
    else:
        e = app.get_enrollment(T, enrollment_id)
        e.complete(app.clock())
        app.save(e)


@pytest.mark.parametrize(("policy", "how", "allowed"), [
    ("never", "completed", False), ("never", "exited", False),
    ("after_completion", "completed", True), ("after_completion", "exited", False),
    ("after_exit", "exited", True), ("after_exit", "completed", False),
    ("always", "completed", True), ("always", "exited", True),
])
def test_reenrollment_follows_the_policy(app: DriplineApp, policy: str, how: str,
                                         allowed: bool) -> None:
    sequence = new_sequence(app, "active", reenrollment={"policy": policy})
    first = app.enroll(T, sequence.id, "c-1")
    _end(app, first.id, how)
    if allowed:
        second = app.enroll(T, sequence.id, "c-1")
        assert second.id == ids.enrollment_id(sequence.id, "c-1", 2)
        assert (second.number, second.status) == (2, "active")
        assert app.get_enrollment(T, first.id).status == how
        return
    before = stored_count(app)
    with pytest.raises(ReEnrollmentNotAllowedError) as caught:
        app.enroll(T, sequence.id, "c-1")
    assert f"previous enrollment is {how}" in str(caught.value)
    assert f"policy is '{policy}'" in str(caught.value)
    assert stored_count(app) == before


def test_reenrollment_waits_for_the_cooldown(app: DriplineApp, clock: ManualClock) -> None:
    sequence = new_sequence(app, "active",
                            reenrollment={"policy": "always", "cooldown_seconds": 86400})
    first = app.enroll(T, sequence.id, "c-1")
    app.exit_enrollment(T, first.id)
    clock.advance(timedelta(hours=23))
    with pytest.raises(ReEnrollmentNotAllowedError, match="cooldown lasts until"):
        app.enroll(T, sequence.id, "c-1")
    clock.advance(timedelta(hours=1))
    assert app.enroll(T, sequence.id, "c-1").number == 2


def test_a_deleted_or_unsubscribed_contact_is_not_enrolled(app: DriplineApp,
                                                          clock: ManualClock) -> None:
    sequence = new_sequence(app, "active")
    app.record_crm_event(crm_event("contact_deleted", "gone", at=clock()))
    app.record_crm_event(crm_event("contact_unsubscribed", "quiet", at=clock()))
    before = stored_count(app)
    with pytest.raises(ContactDeletedError, match="contact gone was deleted"):
        app.enroll(T, sequence.id, "gone")
    with pytest.raises(ContactSuppressedError, match="unsubscribed from every channel"):
        app.enroll(T, sequence.id, "quiet")
    assert stored_count(app) == before


def test_enroll_many_reports_who_was_skipped(app: DriplineApp) -> None:
    sequence = new_sequence(app, "active")
    app.enroll(T, sequence.id, "c-0")
    result = app.enroll_many(T, sequence.id, ["c-0", "c-1", "c-2", "c-1"])
    assert sorted(e.contact_id for e in result.enrolled) == ["c-1", "c-2"]
    assert [c for c, _ in result.skipped] == ["c-0"]
    assert "already enrolled" in result.skipped[0][1]
    for contact in ("c-1", "c-2"):
        assert app.get_enrollment(T, ids.enrollment_id(sequence.id, contact, 1)).is_open


def test_enroll_many_refuses_a_bad_list_before_storing_anything(app: DriplineApp) -> None:
    sequence = new_sequence(app, "active")
    before = stored_count(app)
    with pytest.raises(InvalidInputError) as caught:
        app.enroll_many(T, sequence.id, ["c-1", ""])
    assert caught.value.field == "contact_ids[1]"
    assert stored_count(app) == before


# --- the application: one enrollment ------------------------------------------------------------


def test_exit_pause_and_resume_one_enrollment(app: DriplineApp, clock: ManualClock) -> None:
    sequence = new_sequence(app, "active")
    e = app.enroll(T, sequence.id, "c-1")
    due = e.next_scheduled_at
    assert due is not None
    app.pause_enrollment(T, e.id)
    assert app.get_enrollment(T, e.id).next_scheduled_at is None
    clock.advance(timedelta(days=2))  # the step fell due during the pause: it is due now
    assert app.resume_enrollment(T, e.id).next_scheduled_at == clock()
    app.exit_enrollment(T, e.id, "manual_exit")
    loaded = app.get_enrollment(T, e.id)
    assert (loaded.status, loaded.exit_reason, loaded.next_scheduled_at) == (
        "exited", "manual_exit", None)
    with pytest.raises(EnrollmentStatusError):
        app.exit_enrollment(T, e.id)


def test_exit_with_an_unknown_reason_stores_nothing(app: DriplineApp) -> None:
    sequence = new_sequence(app, "active")
    e = app.enroll(T, sequence.id, "c-1")
    before = stored_count(app)
    with pytest.raises(InvalidInputError) as caught:
        app.exit_enrollment(T, e.id, "bored")
    assert caught.value.field == "reason"
    assert stored_count(app) == before
    assert app.get_enrollment(T, e.id).status == "active"


def test_another_tenants_enrollment_is_not_found(app: DriplineApp) -> None:
    sequence = new_sequence(app, "active")
    e = app.enroll(T, sequence.id, "c-1")
    with pytest.raises(EnrollmentNotFoundError):
        app.get_enrollment("globex", e.id)
    with pytest.raises(EnrollmentNotFoundError):
        app.exit_enrollment("globex", e.id)
    assert app.get_enrollment(T, e.id).status == "active"


def test_pausing_the_sequence_pauses_its_enrollments(app: DriplineApp,
                                                     clock: ManualClock) -> None:
    sequence = new_sequence(app, "active")
    by_hand = app.enroll(T, sequence.id, "c-1")
    follows = app.enroll(T, sequence.id, "c-2")
    app.pause_enrollment(T, by_hand.id)

    app.pause_sequence(T, sequence.id)
    assert app.get_enrollment(T, follows.id).status == "paused"
    assert app.get_enrollment(T, follows.id).paused_by_sequence
    with pytest.raises(InvalidTransitionError, match="resume the sequence instead"):
        app.resume_enrollment(T, follows.id)

    app.resume_sequence(T, sequence.id)
    assert app.get_enrollment(T, follows.id).status == "active"
    # One paused by hand stays paused until resumed by hand.
    assert app.get_enrollment(T, by_hand.id).status == "paused"


def test_archiving_the_sequence_ends_its_enrollments(app: DriplineApp) -> None:
    sequence = new_sequence(app, "active")
    e = app.enroll(T, sequence.id, "c-1")
    app.archive_sequence(T, sequence.id)
    loaded = app.get_enrollment(T, e.id)
    assert (loaded.status, loaded.exit_reason) == ("exited", "sequence_archived")


def test_the_history_lists_every_event(app: DriplineApp) -> None:
    sequence = new_sequence(app, "active")
    e = app.enroll(T, sequence.id, "c-1")
    app.pause_enrollment(T, e.id)
    app.exit_enrollment(T, e.id)
    history = app.enrollment_history(T, e.id)
    assert [h["type"] for h in history] == [
        "sequence.contact_enrolled", "sequence.enrollment_paused", "sequence.enrollment_exited"]
    assert [h["version"] for h in history] == [1, 2, 3]
    assert history[2]["data"]["reason"] == "manual_exit"


def test_the_first_step_is_due_after_its_delay(app: DriplineApp, clock: ManualClock) -> None:
    sequence = app.create_sequence(T, {"name": "S", "steps": [
        step_body(3, delay_amount=90, delay_unit="minutes"),
        step_body(5, delay_amount=2, delay_unit="hours")]})
    app.activate_sequence(T, sequence.id)
    e = app.enroll(T, sequence.id, "c-1")
    assert e.current_step_order == 3
    assert e.next_scheduled_at == clock() + timedelta(minutes=90)
