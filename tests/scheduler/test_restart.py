"""Due times are durable: steps that fell due while no scheduler ran are executed when one
starts, in a new process that knows nothing but the database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from domain.clock import ManualClock
from dripline.bootstrap import bootstrap
from dripline.settings import Settings
from tests.conftest import START
from tests.scheduler.support import (
    Worker,
    assert_each_step_requested_once,
    enroll,
    requests_in_store,
    three_steps,
    wait_until_requested,
)

CONTACTS = 20
HOUR = timedelta(hours=1)


def test_steps_that_fell_due_while_no_scheduler_ran_are_executed_when_one_starts(
        database_url: str, tmp_path: Path) -> None:
    runtime = bootstrap(Settings(database_url=database_url), clock=ManualClock(START))
    try:
        app = runtime.app
        sequence_id = three_steps(app, (60, 60, 60))  # each step an hour after the last
        enrolled = enroll(app, sequence_id, CONTACTS)

        def scheduler_comes_back_at(now: datetime, requested: int) -> None:
            """Start a scheduler whose clock says ``now``; stop it once it has done its work."""
            worker = Worker.launch(database_url, tmp_path, f"at-{now:%H%M}", "--now",
                                   now.isoformat(), "--batch-size", "7")
            try:
                wait_until_requested(database_url, requested, timeout=60)
            finally:
                outcomes = worker.outcomes()
            assert outcomes["requested"] == CONTACTS, outcomes

        # Down from enrollment until 3.5 h later: step 0 fell due at +1 h, nothing ran it.
        scheduler_comes_back_at(START + 3.5 * HOUR, CONTACTS)
        # Step 1 is due an hour after step 0 was actually sent, not after it was due.
        scheduler_comes_back_at(START + 5 * HOUR, 2 * CONTACTS)
        scheduler_comes_back_at(START + 9 * HOUR, 3 * CONTACTS)

        runtime.catch_up()
        assert_each_step_requested_once(app, runtime.queries, sequence_id, enrolled)
        times = {(e.due_at, e.at) for e in requests_in_store(app)}
        assert times == {(START + HOUR, START + 3.5 * HOUR),
                         (START + 4.5 * HOUR, START + 5 * HOUR),
                         (START + 6 * HOUR, START + 9 * HOUR)}
    finally:
        runtime.close()
