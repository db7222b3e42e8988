"""Steps that fall due at once follow the step before them in the same execution: a chain
of zero-delay steps goes out together, each re-checked as if it had its own scan, and the
chain stops at the first step that is not due yet. A first step due at once goes out with
the enrollment itself."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.application import DriplineApp
from domain.clock import ManualClock
from tests.execution.support import (
    TENANT,
    active_sequence,
    enrollment,
    execute_exactly_at,
    history_types,
    requests,
    settle,
    step,
)


def test_zero_delay_steps_go_out_in_one_execution_in_order(app: DriplineApp,
                                                           clock: ManualClock) -> None:
    sequence_id = active_sequence(app, [step(n, f"step {n}") for n in range(3)])
    enrolled = app.enroll_many(TENANT, sequence_id, ["c-1"])
    [e] = enrolled.enrolled
    now = clock()

    assert [(o.result, o.message_id, o.due_at) for o in enrolled.outcomes] == [
        ("requested", f"{e.id}:{n}:1", now) for n in range(3)]
    assert [r["content"] for r in requests(app, e.id)] == ["step 0", "step 1", "step 2"]
    assert {(r["due_at"], r["created_at"]) for r in requests(app, e.id)} == {
        (now.isoformat(), now.isoformat())}
    assert history_types(app, e.id) == [
        "sequence.contact_enrolled", "enrollment.step_executed", "enrollment.step_executed",
        "enrollment.step_executed"]
    assert app.execute_due([e.id]) == []  # nothing left, nothing sent twice
    assert settle(app, clock, e.id).status == "completed"


def test_the_chain_stops_at_a_step_with_a_delay(app: DriplineApp,
                                               clock: ManualClock) -> None:
    sequence_id = active_sequence(app, [step(0, "a"), step(1, "b"),
                                        step(2, "c", amount=10)])
    enrolled = app.enroll_many(TENANT, sequence_id, ["c-1"])
    [e] = enrolled.enrolled
    start = clock()

    assert [o.result for o in enrolled.outcomes] == ["requested", "requested"]
    assert app.execute_due([e.id]) == []
    assert enrollment(app, e.id).current_step_order == 2
    outcome = execute_exactly_at(app, clock, e.id, start + timedelta(minutes=10))
    assert (outcome.result, outcome.due_at) == ("requested", start + timedelta(minutes=10))
    assert [r["content"] for r in requests(app, e.id)] == ["a", "b", "c"]
    assert settle(app, clock, e.id).status == "completed"


@pytest.mark.parametrize(("on_fail", "results", "sent", "status"), [
    ("skip", ["requested", "skipped", "requested"], ["hello", "bye"], "active"),
    ("exit", ["requested", "exited"], ["hello"], "exited"),
])
def test_a_failed_condition_in_the_chain_skips_or_ends_it(
        app: DriplineApp, on_fail: str, results: list[str], sent: list[str],
        status: str) -> None:
    vip = {"type": "tag", "operator": "has", "value": "vip"}
    sequence_id = active_sequence(app, [
        step(0, "hello"), step(1, "vip only", conditions=[vip], on_condition_fail=on_fail),
        step(2, "bye")])
    enrolled = app.enroll_many(TENANT, sequence_id, ["c-1"])
    [e] = enrolled.enrolled

    assert [o.result for o in enrolled.outcomes] == results
    assert [r["content"] for r in requests(app, e.id)] == sent
    assert enrollment(app, e.id).status == status
    assert enrollment(app, e.id).exit_reason == (
        "condition_not_met" if status == "exited" else None)
