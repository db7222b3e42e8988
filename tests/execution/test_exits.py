"""Exits take effect at once, also in the middle of a delay, with or without read models (the
open enrollments of a contact come from the write-side index, written with the enrollments
themselves), and the send-time re-check agrees; and a reply racing with the send of the same
enrollment: the loser decides again on the winner's facts, so exactly one of them happens."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from domain.application import DriplineApp
from domain.clock import ManualClock
from domain.crm import CrmEvent
from domain.ids import contact_id
from projections.storage.urls import eventsourcing_env
from tests.execution.support import (
    TENANT,
    active_sequence,
    crm,
    enrollment,
    requests,
    run_out,
    step,
)

DAY = timedelta(days=1)
THREE_STEPS = [step(0, "first"), step(1, "second", amount=2, unit="days"),
               step(2, "third", amount=5, unit="days")]
LATER_STEPS = [step(0, "first", amount=1, unit="days"), *THREE_STEPS[1:]]

Action = Callable[[DriplineApp, UUID], object]
ACTIONS: dict[str, tuple[Action, str]] = {
    "manual_exit": (lambda a, e: a.exit_enrollment(TENANT, e), "manual_exit"),
    "unsubscribed": (lambda a, e: crm(a, "contact_unsubscribed", "c-1"),
                     "contact_unsubscribed"),
    "unsubscribed_from_the_channel": (
        lambda a, e: crm(a, "contact_unsubscribed", "c-1", channel="whatsapp"),
        "contact_unsubscribed"),
    "deleted": (lambda a, e: crm(a, "contact_deleted", "c-1"), "contact_deleted"),
    "replied": (lambda a, e: crm(a, "contact_replied", "c-1", channel="sms"),
                "contact_replied"),
}


@pytest.mark.parametrize("with_lookups", [True, False], ids=["lookups", "send_time"])
@pytest.mark.parametrize("action", list(ACTIONS))
def test_exit_in_the_middle_of_a_delay_stops_every_later_step(
        app: DriplineApp, bare_app: DriplineApp, clock: ManualClock, action: str,
        with_lookups: bool) -> None:
    application = app if with_lookups else bare_app
    start = clock()
    e = application.enroll(TENANT, active_sequence(application, THREE_STEPS), "c-1")
    assert [r["content"] for r in requests(application, e.id)] == ["first"]  # due at once
    clock.set(start + DAY)  # half-way through the two-day delay
    perform, reason = ACTIONS[action]
    perform(application, e.id)
    assert enrollment(application, e.id).status == "exited"
    outcomes = run_out(application, clock, [e.id])
    assert "requested" not in [o.result for o in outcomes]
    assert [r["content"] for r in requests(application, e.id)] == ["first"]
    done = enrollment(application, e.id)
    assert (done.status, done.exit_reason, done.next_scheduled_at) == ("exited", reason, None)


@pytest.mark.parametrize("with_lookups", [True, False], ids=["lookups", "send_time"])
def test_a_reply_from_before_the_enrollment_is_no_reason_to_leave(
        app: DriplineApp, bare_app: DriplineApp, clock: ManualClock, with_lookups: bool) -> None:
    application = app if with_lookups else bare_app
    crm(application, "contact_replied", "c-1", channel="sms")
    clock.advance(timedelta(hours=1))
    e = application.enroll(TENANT, active_sequence(application, THREE_STEPS), "c-1")
    run_out(application, clock, [e.id])
    assert [r["content"] for r in requests(application, e.id)] == ["first", "second", "third"]


def test_unsubscribing_from_any_channel_exits_at_send_time_too(
        bare_app: DriplineApp, clock: ManualClock) -> None:
    """DESIGN 3.1: contact_unsubscribed exits all; the send-time check agrees with the
    lookup path even when the unsubscribe names another channel."""
    e = bare_app.enroll(TENANT, active_sequence(bare_app, THREE_STEPS), "c-1")
    crm(bare_app, "contact_unsubscribed", "c-1", channel="email")
    run_out(bare_app, clock, [e.id])
    assert [r["content"] for r in requests(bare_app, e.id)] == ["first"]
    assert enrollment(bare_app, e.id).exit_reason == "contact_unsubscribed"


def test_a_channel_unsubscribed_before_enrolling_only_suppresses_that_channel(
        bare_app: DriplineApp, clock: ManualClock) -> None:
    crm(bare_app, "contact_unsubscribed", "c-1", channel="email")
    clock.advance(timedelta(seconds=1))
    e = bare_app.enroll(TENANT, active_sequence(bare_app, THREE_STEPS), "c-1")
    run_out(bare_app, clock, [e.id])
    assert len(requests(bare_app, e.id)) == 3


# --- races ---------------------------------------------------------------------------------


class Interleaved:
    """The store of a scheduler process that, once, lets another process act between
    loading an enrollment and saving the step's outcome: the window in which a race can
    happen. Everything else goes to the real store."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.meanwhile: Callable[[], object] | None = None
        self.after: UUID | None = None  # the enrollment whose loading lets the other act

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def read_streams(self, after: Mapping[UUID, int]) -> dict[UUID, list[StoredEvent]]:
        found: dict[UUID, list[StoredEvent]] = self.store.read_streams(after)
        if self.meanwhile is not None and (self.after is None or self.after in after):
            act, self.meanwhile = self.meanwhile, None
            act()
        return found


@pytest.fixture
def two_processes(tmp_path: Path, clock: ManualClock
                  ) -> Iterator[tuple[DriplineApp, DriplineApp, Interleaved]]:
    """Two independent applications on one SQLite file, a CRM intake and a scheduler, and
    the scheduler's store, which can let the intake act in the middle of a batch."""
    env = eventsourcing_env(f"sqlite:///{tmp_path}/race.db")
    intake = DriplineApp(env=env, clock=clock)
    scheduler = DriplineApp(env=env, clock=clock)
    window = Interleaved(scheduler.core.store)
    scheduler.core.store = window
    try:
        yield intake, scheduler, window
    finally:
        scheduler.close()
        intake.close()


def _enrolled_and_first_sent(intake: DriplineApp, clock: ManualClock) -> UUID:
    e = intake.enroll(TENANT, active_sequence(intake, THREE_STEPS), "c-1")
    clock.advance(2 * DAY)  # the second step is due now
    return e.id


def test_reply_recorded_while_the_scheduler_holds_a_stale_enrollment_wins(
        two_processes: tuple[DriplineApp, DriplineApp, Interleaved],
        clock: ManualClock) -> None:
    intake, scheduler, window = two_processes
    enrollment_id = _enrolled_and_first_sent(intake, clock)
    window.meanwhile = lambda: crm(intake, "contact_replied", "c-1", channel="whatsapp")
    # The scheduler's write meets the exit; deciding again, it finds nothing to send.
    assert scheduler.execute_due([enrollment_id]) == []
    assert [r["content"] for r in requests(intake, enrollment_id)] == ["first"]
    assert enrollment(intake, enrollment_id).exit_reason == "contact_replied"
    assert run_out(scheduler, clock, [enrollment_id]) == []
    assert len(requests(scheduler, enrollment_id)) == 1


def test_send_recorded_while_the_reply_holds_a_stale_enrollment_wins(
        two_processes: tuple[DriplineApp, DriplineApp, Interleaved],
        clock: ManualClock) -> None:
    intake, scheduler, _ = two_processes
    enrollment_id = _enrolled_and_first_sent(intake, clock)
    reply = CrmEvent(event_id="evt-race", type="contact_replied", tenant_id=TENANT,
                     contact_id="c-1", occurred_at=clock(), data={"channel": "whatsapp"})
    uow, _ = intake.crm.plan([reply])  # loads the enrollment and plans its exit
    assert [o.result for o in scheduler.execute_due([enrollment_id])] == ["requested"]
    replies_before = len(list(intake.events.get(contact_id(TENANT, "c-1"))))
    with pytest.raises(IntegrityError):
        uow.commit()
    # Nothing of the losing side was written, not even the reply on the contact mirror.
    assert len(list(intake.events.get(contact_id(TENANT, "c-1")))) == replies_before
    # The intake decides again: now the exit is recorded, and nothing more is sent.
    assert intake.record_crm_event(reply).exited == [enrollment_id]
    assert run_out(scheduler, clock, [enrollment_id]) == []
    assert [r["content"] for r in requests(intake, enrollment_id)] == ["first", "second"]
    assert enrollment(intake, enrollment_id).exit_reason == "contact_replied"


def test_two_schedulers_on_one_due_step_request_it_once(
        two_processes: tuple[DriplineApp, DriplineApp, Interleaved],
        clock: ManualClock) -> None:
    intake, scheduler, window = two_processes
    enrollment_id = _enrolled_and_first_sent(intake, clock)
    window.meanwhile = lambda: intake.execute_due([enrollment_id])
    assert scheduler.execute_due([enrollment_id]) == []  # the other one sent it
    assert [r["content"] for r in requests(intake, enrollment_id)] == ["first", "second"]


def test_one_batch_naming_an_enrollment_twice_requests_its_step_once(
        app: DriplineApp, clock: ManualClock) -> None:
    e = app.enroll(TENANT, active_sequence(app, LATER_STEPS), "c-1")
    clock.advance(DAY)
    outcomes = app.execute_due([e.id, e.id])
    assert [o.result.value for o in outcomes].count("requested") == 1
    assert len(requests(app, e.id)) == 1


def test_a_race_in_a_batch_keeps_the_other_outcomes(
        two_processes: tuple[DriplineApp, DriplineApp, Interleaved],
        clock: ManualClock) -> None:
    intake, scheduler, window = two_processes
    sequence_id = active_sequence(intake, THREE_STEPS)
    first, second = (intake.enroll(TENANT, sequence_id, c).id for c in ("c-1", "c-2"))
    clock.advance(2 * DAY)
    window.meanwhile = lambda: intake.exit_enrollment(TENANT, second)
    window.after = second
    outcomes = scheduler.execute_due([first, second])
    assert [(o.enrollment_id, o.result) for o in outcomes] == [(first, "requested")]
    assert [r["content"] for r in requests(intake, first)] == ["first", "second"]
    assert [r["content"] for r in requests(intake, second)] == ["first"]
    assert enrollment(intake, first).current_step_order == 2


def test_a_reply_stamped_in_the_same_whole_second_as_the_enrollment_exits_it(
        bare_app: DriplineApp, clock: ManualClock) -> None:
    """CRM timestamps often carry whole seconds: a reply stamped 09:00:00 to an enrollment
    made at 09:00:00.4 happened after it, not before."""
    clock.advance(timedelta(milliseconds=400))
    e = bare_app.enroll(TENANT, active_sequence(bare_app, LATER_STEPS), "c-1")
    bare_app.record_crm_event(CrmEvent(
        event_id="r-1", type="contact_replied", tenant_id=TENANT, contact_id="c-1",
        occurred_at=clock().replace(microsecond=0), data={"channel": "whatsapp"}))
    run_out(bare_app, clock, [e.id])
    assert requests(bare_app, e.id) == []
    assert enrollment(bare_app, e.id).exit_reason == "contact_replied"


def test_a_race_drops_a_whole_chain_and_keeps_the_other_chains(
        two_processes: tuple[DriplineApp, DriplineApp, Interleaved],
        clock: ManualClock) -> None:
    """Zero-delay chains: each enrollment's steps are saved together or not at all."""
    intake, scheduler, window = two_processes
    sequence_id = active_sequence(intake, [step(0, "wait", amount=1, unit="days"),
                                           *[step(n, f"now {n}") for n in range(1, 3)]])
    first, second = (intake.enroll(TENANT, sequence_id, c).id for c in ("c-1", "c-2"))
    clock.advance(DAY)
    window.meanwhile = lambda: intake.exit_enrollment(TENANT, second)
    window.after = second
    outcomes = scheduler.execute_due([first, second])
    assert [(o.enrollment_id, o.result) for o in outcomes] == [(first, "requested")] * 3
    assert [r["content"] for r in requests(intake, first)] == ["wait", "now 1", "now 2"]
    assert enrollment(intake, first).settling
    assert requests(intake, second) == []
    assert enrollment(intake, second).exit_reason == "manual_exit"
