"""Hypothesis stateful tests: random command sequences on DripSequence and Enrollment keep
every invariant; a refused command raises the named error and changes nothing; and the
aggregate reloaded from the store equals the live one after every step."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from domain import ids
from domain.clock import ManualClock
from domain.enrollment import EXIT_REASONS, Enrollment
from domain.errors import (
    DomainError,
    DuplicateStepOrderError,
    EnrollmentStatusError,
    InvalidInputError,
    InvalidTransitionError,
    SequenceHasNoStepsError,
    SequenceNotDraftError,
    StepNotFoundError,
    StepOrderRegressionError,
)
from domain.sequence import DripSequence
from domain.steps import Step
from tests.domain.conftest import make_app
from tests.domain.support import request_step, state, step_body

START = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
SETTINGS = settings(max_examples=60, stateful_step_count=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


class _Machine(RuleBasedStateMachine):
    """Shared machinery: one application on the in-memory store, a manual clock, and a way
    to run a command that must either succeed (and is saved) or fail as expected."""

    live: Any

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(START)
        self.app = make_app(self.clock)

    def attempt(self, command: Callable[[], object], expected: type[DomainError] | None) -> None:
        before = copy.deepcopy(state(self.live))
        refusal: DomainError | None = None
        try:
            command()
        except DomainError as error:
            refusal = error
        if refusal is None:
            assert expected is None, f"{expected.__name__} was expected"
            self.app.save(self.live)
            return
        assert expected is not None, f"refused unexpectedly: {refusal}"
        assert type(refusal) is expected, f"{type(refusal).__name__}: {refusal}"
        assert refusal.message  # says what was wrong
        assert state(self.live) == before, "a refused command changed the aggregate"
        assert self.live.collect_events() == [], "a refused command left an event"

    @rule(minutes=st.integers(min_value=0, max_value=3 * 24 * 60))
    def time_passes(self, minutes: int) -> None:
        # Always enabled: without it, a state where every other rule is filtered out would
        # make Hypothesis fail with InvalidDefinition.
        self.clock.advance(timedelta(minutes=minutes))

    @invariant()
    def reloading_gives_the_same_aggregate(self) -> None:
        loaded: Aggregate = self.app.repository.get(self.live.id)
        assert type(loaded) is type(self.live)
        assert state(loaded) == state(self.live)

    def teardown(self) -> None:
        self.app.close()


class SequenceMachine(_Machine):
    def __init__(self) -> None:
        super().__init__()
        self.live: DripSequence = self.app.create_sequence("acme", {"name": "Welcome"})
        self.status = "draft"
        self.orders: dict[UUID, int] = {}

    def _draft_error(self) -> type[DomainError] | None:
        return None if self.status == "draft" else SequenceNotDraftError

    @rule(order=st.integers(min_value=0, max_value=6),
          unit=st.sampled_from(["minutes", "hours", "days"]),
          amount=st.integers(min_value=0, max_value=90))
    def add_step(self, order: int, unit: str, amount: int) -> None:
        step = Step.from_dict(uuid4(), step_body(order, delay_amount=amount, delay_unit=unit))
        expected = self._draft_error() or (
            DuplicateStepOrderError if order in self.orders.values() else None)
        self.attempt(lambda: self.live.add_step(step, self.clock()), expected)
        if expected is None:
            self.orders[step.id] = order

    @rule(data=st.data(), order=st.integers(min_value=0, max_value=6), known=st.booleans())
    def update_step(self, data: st.DataObject, order: int, known: bool) -> None:
        if known and self.orders:
            step_id = data.draw(st.sampled_from(sorted(self.orders)))
        else:
            step_id = uuid4()
        step = Step.from_dict(step_id, step_body(order, name="Changed"))
        clash = any(o == order and i != step_id for i, o in self.orders.items())
        expected = self._draft_error() or (
            StepNotFoundError if step_id not in self.orders else
            DuplicateStepOrderError if clash else None)
        self.attempt(lambda: self.live.update_step(step, self.clock()), expected)
        if expected is None:
            self.orders[step_id] = order

    @rule(data=st.data(), known=st.booleans())
    def remove_step(self, data: st.DataObject, known: bool) -> None:
        step_id = data.draw(st.sampled_from(sorted(self.orders))) if (
            known and self.orders) else uuid4()
        expected = self._draft_error() or (
            None if step_id in self.orders else StepNotFoundError)
        self.attempt(lambda: self.live.remove_step(step_id, self.clock()), expected)
        if expected is None:
            del self.orders[step_id]

    @rule(name=st.text(min_size=1, max_size=20))
    def rename(self, name: str) -> None:
        expected = self._draft_error()
        self.attempt(lambda: self.live.update({"name": name}, self.clock()), expected)

    @rule()
    def activate(self) -> None:
        expected: type[DomainError] | None = None
        if self.status != "draft":
            expected = InvalidTransitionError
        elif not self.orders:
            expected = SequenceHasNoStepsError
        self._transition(self.live.activate, expected, "active")

    @rule()
    def pause(self) -> None:
        expected = None if self.status == "active" else InvalidTransitionError
        self._transition(self.live.pause, expected, "paused")

    @rule()
    def resume(self) -> None:
        expected = None if self.status == "paused" else InvalidTransitionError
        self._transition(self.live.resume, expected, "active")

    @rule()
    def archive(self) -> None:
        allowed = self.status in ("draft", "active", "paused")
        self._transition(self.live.archive, None if allowed else InvalidTransitionError,
                         "archived")

    @rule()
    def delete(self) -> None:
        self._transition(self.live.delete, self._draft_error(), "deleted")

    def _transition(self, command: Callable[[datetime], None],
                    expected: type[DomainError] | None, to: str) -> None:
        self.attempt(lambda: command(self.clock()), expected)
        if expected is None:
            self.status = to

    @invariant()
    def invariants_hold(self) -> None:
        s = self.live
        assert s.status == self.status
        orders = [step.order for step in s.steps]
        assert orders == sorted(self.orders.values())
        assert len(orders) == len(set(orders)), "step orders are unique"
        assert all(step.delay_amount >= 0 for step in s.steps)
        if s.status in ("active", "paused"):
            assert s.steps, "an active or paused sequence has steps"
            assert s.activated_at is not None
        assert s.tenant_id == "acme"
        assert s.name
        assert s.updated_at >= s.created_at


class EnrollmentMachine(_Machine):
    def __init__(self) -> None:
        super().__init__()
        self.live: Enrollment = Enrollment.start(
            id=uuid4(), tenant_id="acme", sequence_id=uuid4(), contact_id="c-1", number=1,
            step_order=0, due_at=START + timedelta(days=1), source="manual", at=START)
        self.app.save(self.live)
        self.status = "active"
        self.order = 0
        self.messages: dict[str, str] = {}

    def _active_error(self) -> type[DomainError] | None:
        return None if self.status == "active" else EnrollmentStatusError

    @rule(attempt=st.integers(min_value=1, max_value=3))
    def request_message(self, attempt: int) -> None:
        message_id = ids.message_id(self.live.id, self.order, attempt)
        expected = self._active_error() or (
            EnrollmentStatusError if message_id in self.messages else None)
        self.attempt(lambda: request_step(self.live, attempt=attempt, step_order=self.order,
                                          at=self.clock()), expected)
        if expected is None:
            self.messages[message_id] = "requested"

    @rule()
    def skip_step(self) -> None:
        self.attempt(lambda: self.live.skip_step(self.order, "condition_not_met",
                                                 self.clock()), self._active_error())

    @rule(step=st.integers(min_value=-2, max_value=3), days=st.integers(0, 5))
    def advance(self, step: int, days: int) -> None:
        to = self.order + step
        expected = self._active_error() or (StepOrderRegressionError if step <= 0 else None)
        due = self.clock() + timedelta(days=days)
        self.attempt(lambda: self.live.advance(to, due, self.clock()), expected)
        if expected is None:
            self.order = to

    @rule(hours=st.integers(0, 48))
    def reschedule(self, hours: int) -> None:
        due = self.clock() + timedelta(hours=hours)
        self.attempt(lambda: self.live.reschedule(due, self.clock()), self._active_error())

    @rule()
    def complete(self) -> None:
        expected = self._active_error()
        self.attempt(lambda: self.live.complete(self.clock()), expected)
        if expected is None:
            self.status = "completed"

    @rule(reason=st.sampled_from([*EXIT_REASONS, "bored"]))
    def exit(self, reason: str) -> None:
        expected: type[DomainError] | None = None
        if reason not in EXIT_REASONS:
            expected = InvalidInputError
        elif self.status not in ("active", "paused"):
            expected = EnrollmentStatusError
        self.attempt(lambda: self.live.exit(reason, self.clock()), expected)
        if expected is None:
            self.status = "exited"

    @rule(by_sequence=st.booleans())
    def pause(self, by_sequence: bool) -> None:
        expected = self._active_error()
        self.attempt(lambda: self.live.pause(self.clock(), by_sequence=by_sequence), expected)
        if expected is None:
            self.status = "paused"

    @rule()
    def resume(self) -> None:
        expected = None if self.status == "paused" else EnrollmentStatusError
        self.attempt(lambda: self.live.resume(self.clock(), self.clock()), expected)
        if expected is None:
            self.status = "active"

    @rule(data=st.data(), delivered=st.booleans(), permanent=st.booleans(),
          retry=st.booleans())
    def feedback(self, data: st.DataObject, delivered: bool, permanent: bool,
                 retry: bool) -> None:
        if not self.messages:
            message_id = ids.message_id(self.live.id, 99, 1)
            if delivered:
                self.attempt(lambda: self.live.record_delivery(message_id, self.clock()),
                             InvalidInputError)
            return
        message_id = data.draw(st.sampled_from(sorted(self.messages)))
        first = self.messages[message_id] == "requested"
        retry_at = self.clock() + timedelta(minutes=1) if retry else None
        before = self.live.version
        if delivered:
            changed = self.live.record_delivery(message_id, self.clock())
        else:
            changed = self.live.record_failure(message_id=message_id, error="451",
                                               permanent=permanent, retry_at=retry_at,
                                               at=self.clock())
        assert changed is first, "feedback is recorded once per message"
        if not changed:
            assert self.live.version == before
            assert self.live.collect_events() == []
            return
        self.messages[message_id] = "delivered" if delivered else "failed"
        self.app.save(self.live)

    @invariant()
    def invariants_hold(self) -> None:
        e = self.live
        assert e.status == self.status
        assert e.current_step_order == self.order
        assert {k: v["status"] for k, v in e.messages.items()} == self.messages
        assert (e.completed_at is not None) == (e.status == "completed")
        assert (e.exited_at is not None) == (e.exit_reason is not None) == (
            e.status == "exited")
        if e.status in ("completed", "exited"):
            assert e.next_scheduled_at is None, "nothing is due once ended"
            assert e.pending_retry is None
            assert not e.is_open
        if e.status == "paused":
            assert e.next_scheduled_at is None, "nothing is due while paused"
        if e.status == "active":
            assert e.next_scheduled_at is not None


SequenceMachine.TestCase.settings = SETTINGS
EnrollmentMachine.TestCase.settings = SETTINGS
TestDripSequenceCommands = SequenceMachine.TestCase
TestEnrollmentCommands = EnrollmentMachine.TestCase
