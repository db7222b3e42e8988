"""Two scheduler processes on one PostgreSQL database at once, fed by one ``dripline
project``: they scan the same due list and claim disjoint batches, so both take part; where
they still meet on an enrollment (a row not yet projected after the other's claim ended),
the aggregate version lets only one of them record the step (DESIGN 1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from dripline.bootstrap import bootstrap
from dripline.settings import Settings
from tests.scheduler.support import (
    Worker,
    assert_each_step_requested_once,
    enroll,
    projector,
    three_steps,
    wait_until_requested,
)

CONTACTS = 1000  # x 3 steps: the first a minute after enrolling, the next ones at once
DELAYS = (1, 0, 0)  # so that the first step is the schedulers' work, not the enrollment's


def test_two_schedulers_request_every_step_exactly_once(postgres_url: str,
                                                        tmp_path: Path) -> None:
    runtime = bootstrap(Settings(database_url=postgres_url), catch_up_lookups=False)
    try:
        project = projector(postgres_url, tmp_path)
        # The schedulers' clocks are two minutes ahead: everything is due for them at once.
        later = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
        workers = [Worker.launch(postgres_url, tmp_path, f"scheduler-{n}",
                                 "--batch-size", "100", "--now", later) for n in (1, 2)]
        try:
            for worker in workers:
                worker.wait_ready()
            # Both scan before anything is due, so both see the same work appear.
            sequence_id = three_steps(runtime.app, DELAYS)
            enrolled = enroll(runtime.app, sequence_id, CONTACTS)
            wait_until_requested(postgres_url, 3 * CONTACTS, timeout=90)
            outcomes = [worker.outcomes() for worker in workers]
            runtime.read_models.wait_for(runtime.app.recorder.max_notification_id() or 0,
                                         timeout=60)
        finally:
            for child in (*workers, project):
                child.stop()
        assert_each_step_requested_once(runtime.app, runtime.queries, sequence_id, enrolled)
    finally:
        runtime.close()
    # What the schedulers say they recorded adds up to what the store holds, and both took
    # part (a race needs two); lost races are normal and only reported.
    requested = [o["requested"] for o in outcomes]
    assert sum(requested) == 3 * CONTACTS, outcomes
    assert all(requested), f"one scheduler did nothing: {outcomes}"
    assert "Traceback" not in project.log.read_text(errors="replace")
    print(f"requested per scheduler {requested}, "
          f"lost races {[o['lost_race'] for o in outcomes]}")
