"""The scheduler loop over the real due index, in one process with a manual clock: every
step requested exactly once, in order, never before it is due; then each enrollment settles
and completes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from consumers.scheduler import Scheduler
from domain.clock import ManualClock
from domain.enrollment import SETTLE
from dripline.bootstrap import bootstrap
from dripline.settings import Settings
from tests.conftest import START
from tests.scheduler.support import (
    assert_each_step_requested_once,
    count_requested,
    enroll,
    requests_in_store,
    three_steps,
)

DELAYS = (0, 10, 60)  # minutes: the first step at once, then 10 minutes, then an hour
CONTACTS = 60
FAR = datetime(2100, 1, 1, tzinfo=UTC)


def test_every_step_is_requested_once_in_order_and_never_early(
        database_url: str, clock: ManualClock) -> None:
    runtime = bootstrap(Settings(database_url=database_url), clock=clock)
    try:
        app = runtime.app
        sequence_id = three_steps(app, DELAYS)
        enrolled = enroll(app, sequence_id, CONTACTS)
        scheduler = Scheduler(app, batch_size=25)
        due_times = []
        for _ in range(100):
            while scheduler.run_once():
                pass
            upcoming = app.store.due_enrollments(FAR, 1)
            if not upcoming:
                break
            due = upcoming[0].due_at
            assert due is not None
            due_times.append(due)
            # A microsecond before the due time nothing is executed and nothing recorded.
            clock.set(due - timedelta(microseconds=1))
            head = app.recorder.max_notification_id()
            assert scheduler.run_once() == 0
            assert app.recorder.max_notification_id() == head
            clock.set(due)
        else:
            raise AssertionError("the enrollments never stopped falling due")

        # The first step went out with the enrollment; the next falls due its delay after the
        # previous one was executed; the last one settles half an hour later.
        assert due_times == [START + timedelta(minutes=10), START + timedelta(minutes=70),
                             START + timedelta(minutes=70) + SETTLE]
        runtime.catch_up()
        assert_each_step_requested_once(app, runtime.queries, sequence_id, enrolled)
        for event in requests_in_store(app):
            assert event.due_at == event.at  # on the dot
        assert scheduler.stats.outcomes == {"requested": 2 * CONTACTS, "completed": CONTACTS}
        assert count_requested(database_url) == 3 * CONTACTS  # the other tests' counter agrees
    finally:
        runtime.close()
