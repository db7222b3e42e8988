"""A scheduler needs no projector: the due index it scans is written in the transaction of
the events that move it, so a step it has just executed never shows as due again, and the
next step is there the moment it is committed."""

from __future__ import annotations

from datetime import timedelta

from consumers.scheduler import Scheduler
from domain.clock import ManualClock
from dripline.bootstrap import Runtime

STEPS = [{"order": n, "name": f"s{n}", "delay_amount": n + 1, "delay_unit": "minutes",
          "message_template": {"type": "text", "content": f"step {n}"}} for n in range(2)]


def test_without_a_projector_each_step_is_taken_up_once_and_the_next_at_once(
        runtime: Runtime, clock: ManualClock) -> None:
    app = runtime.app
    sequence = app.create_sequence("acme", {"name": "s", "steps": STEPS})
    app.activate_sequence("acme", sequence.id)
    app.enroll_many("acme", sequence.id, ["c-1", "c-2"])
    clock.advance(timedelta(minutes=1))
    scheduler = Scheduler(app, batch_size=10)  # nothing is ever projected in this test

    assert scheduler.run_once() == 2
    assert scheduler.stats.outcomes["requested"] == 2
    assert scheduler.run_once() == 0  # nothing stale: step 1 is two minutes away
    assert scheduler.stats.batches == 1
    assert scheduler.next_due is None  # beyond this scheduler's look-ahead
    clock.advance(timedelta(minutes=2))
    assert scheduler.run_once() == 2
    assert scheduler.stats.outcomes["requested"] == 4


def test_a_small_batch_pages_through_the_due_list_oldest_first(
        runtime: Runtime, clock: ManualClock) -> None:
    app = runtime.app
    sequence = app.create_sequence("acme", {"name": "s", "steps": STEPS})
    app.activate_sequence("acme", sequence.id)
    app.enroll_many("acme", sequence.id, [f"c-{n}" for n in range(6)])
    clock.advance(timedelta(minutes=1))
    scheduler = Scheduler(app, batch_size=1)

    assert [scheduler.run_once() for _ in range(6)] == [1] * 6
    assert scheduler.stats.outcomes["requested"] == 6
    assert scheduler.run_once() == 0
    assert scheduler.stats.batches == 6
