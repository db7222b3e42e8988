"""Never twice: a scheduler process killed with SIGKILL at random points while it executes
batches, restarted each time, until every due step is done (PostgreSQL, real processes)."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dripline.bootstrap import bootstrap
from dripline.settings import Settings
from tests.e2e.server import poll
from tests.scheduler.support import (
    Worker,
    assert_each_step_requested_once,
    count_requested,
    enroll,
    projector,
    three_steps,
    wait_until_requested,
)

CONTACTS = 2000  # x 3 steps: the first a minute after enrolling, the next ones at once
DELAYS = (1, 0, 0)  # so that the steps are the scheduler's work, not the enrollment's
KILLS = 4
BATCH = "20"  # enrollments per batch: many batches, so a kill finds one in any phase


def test_a_scheduler_killed_at_random_points_requests_every_step_once(
        postgres_url: str, tmp_path: Path) -> None:
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    total = 3 * CONTACTS
    runtime = bootstrap(Settings(database_url=postgres_url), catch_up_lookups=False)
    try:
        sequence_id = three_steps(runtime.app, DELAYS)
        enrolled = enroll(runtime.app, sequence_id, CONTACTS)
        # The schedulers' clocks are two minutes ahead: everything is due for them at once.
        later = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
        project = projector(postgres_url, tmp_path)
        killed_at: list[int] = []
        try:
            for number in range(KILLS):
                victim = Worker.launch(postgres_url, tmp_path, f"victim-{number}",
                                       "--batch-size", BATCH, "--now", later)
                # Let it work past a random number of steps, then for a random moment more,
                # so the kill lands anywhere: loading, deciding, saving, between batches.
                # A target beyond what is left could never be reached: keep work for the
                # kills to come and the survivor.
                done = count_requested(postgres_url)
                target = done + rng.randint(1, max(1, min(120, (total - done) // (KILLS + 1))))

                def progressed(victim: Worker = victim, target: int = target) -> bool | None:
                    assert victim.alive(), victim.log.read_text(errors="replace")
                    return True if count_requested(postgres_url) >= target else None

                poll(progressed, f"victim {number} to pass {target} requests", timeout=60)
                time.sleep(rng.uniform(0.0, 0.15))  # where to strike, not waiting for a result
                victim.kill()
                killed_at.append(count_requested(postgres_url))
            assert killed_at[-1] < total, (
                f"all was done before the last kill; nothing was tested (seed {seed})")
            survivor = Worker.launch(postgres_url, tmp_path, "survivor", "--batch-size", BATCH,
                                     "--now", later)
            wait_until_requested(postgres_url, total, timeout=90)
            outcomes = survivor.outcomes()
            runtime.read_models.wait_for(runtime.app.recorder.max_notification_id() or 0,
                                         timeout=60)
        finally:
            project.stop()
        assert_each_step_requested_once(runtime.app, runtime.queries, sequence_id, enrolled)
    finally:
        runtime.close()
    # The survivor did the rest (a commit sent just before a kill may still land after it).
    assert 0 < outcomes["requested"] <= total - killed_at[-1], (seed, killed_at, outcomes)
    print(f"seed {seed}: killed at {killed_at} of {total} requests")
