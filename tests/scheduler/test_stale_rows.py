"""A scheduler without a projector beside it sees rows that still show steps it has just
executed: it skips them (no reload, no busy loop) and moves on to the next oldest due."""

from __future__ import annotations

from datetime import timedelta

from consumers.scheduler import Scheduler
from domain.clock import ManualClock
from dripline.bootstrap import Runtime

STEPS = [{"order": n, "name": f"s{n}", "delay_amount": n, "delay_unit": "minutes",
          "message_template": {"type": "text", "content": f"step {n}"}} for n in range(2)]


def test_stale_rows_are_skipped_until_the_read_model_moves(runtime: Runtime,
                                                           clock: ManualClock) -> None:
    app = runtime.app
    sequence = app.create_sequence("acme", {"name": "s", "steps": STEPS})
    app.activate_sequence("acme", sequence.id)
    app.enroll_many("acme", sequence.id, ["c-1", "c-2"])
    runtime.catch_up()
    clock.advance(timedelta(seconds=1))
    scheduler = Scheduler(app, runtime.queries, batch_size=10)  # no sync: rows go stale

    assert scheduler.run_once() == 2
    assert scheduler.stats.outcomes["requested"] == 2
    # The read model still shows both step-0 rows: nothing is taken up again.
    assert len(runtime.queries.due_enrollments(clock(), 10)) == 2
    assert scheduler.run_once() == 0
    assert scheduler.stats.batches == 1

    runtime.catch_up()  # the rows now show step 1, due a minute later
    assert scheduler.run_once() == 0
    clock.advance(timedelta(minutes=1))
    assert scheduler.run_once() == 2
    assert scheduler.stats.outcomes["requested"] == 4
    runtime.catch_up()
    assert runtime.queries.due_enrollments(clock(), 10) == []


def test_a_scan_reads_on_past_a_page_of_rows_it_has_executed(runtime: Runtime,
                                                             clock: ManualClock) -> None:
    app = runtime.app
    sequence = app.create_sequence("acme", {"name": "s", "steps": STEPS})
    app.activate_sequence("acme", sequence.id)
    app.enroll_many("acme", sequence.id, [f"c-{n}" for n in range(6)])
    runtime.catch_up()
    clock.advance(timedelta(seconds=1))
    # One enrollment per batch, so a page is two rows; no projector: every executed row
    # stays in the due list, in front.
    scheduler = Scheduler(app, runtime.queries, batch_size=1)

    assert [scheduler.run_once() for _ in range(6)] == [1] * 6
    assert scheduler.stats.outcomes["requested"] == 6
    assert scheduler.run_once() == 0  # all six executed: nothing fresh in any page
    assert scheduler.stats.batches == 6
