"""An enrollment can stay paused forever: a ``dripline schedule`` batch reads a sequence while
it is paused and writes "paused by the sequence" for one of its enrollments after the resume
already ran, which left that enrollment alone because it was still active then.

The interleaving is made on purpose, with real processes and the public API only. Each round:

1. The scheduler and the projector are frozen (SIGSTOP). A contact is enrolled in a fresh
   one-step sequence, due at once, and the sequence is paused: the projector has not seen the
   enrollment, so a pause that asks the read models for the sequence's enrollments leaves it
   active.
2. A few hundred contacts are enrolled in a busy sequence whose ten steps are all due at
   once, and the projector is thawed: the due list then holds the paused sequence's
   enrollment first (the oldest) and the busy ones after it, one full scheduler batch that
   takes long to execute.
3. The scheduler is thawed and frozen again part-way through that batch, the sequence is
   resumed over HTTP meanwhile, and the scheduler is thawed to finish its batch.

Where the second freeze falls is steered from round to round: the enrollment's history tells
whether the batch read the sequence after the resume (too early: no pause in it) or saved its
outcomes before the resume (too late: paused, then resumed). A request that waits on a lock
a frozen role holds (it was frozen while saving) thaws the roles and leaves that round out of
the steering. Whatever the interleaving, once everything is quiet after the resumes, no
enrollment of a resumed sequence may be paused, and each one's due step must have been
requested.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.server import free_port
from tests.promises.pause_resume_rounds import BATCH, Rounds, unfinished_once_quiet
from tests.promises.role_processes import deployment

ROUNDS = 6
FIRST_FREEZE = 0.3  # of a batch's duration: the sequence is read early, outcomes saved last
STEER = 1.4  # factor by which a freeze that fell too early or too late is moved


@pytest.mark.slow
def test_a_sequence_resumed_during_a_scheduler_batch_leaves_no_enrollment_paused(
        postgres_url: str, tmp_path: Path) -> None:
    with deployment(postgres_url, tmp_path) as roles:
        http = roles.start_api()
        project = roles.start("project")
        metrics_port = free_port()
        schedule = roles.start("schedule", "--batch-size", str(BATCH),
                               DRIPLINE_METRICS_PORT=str(metrics_port))
        rounds = Rounds(http, project, schedule, metrics_port)
        freeze_after = FIRST_FREEZE * rounds.time_one_batch()
        resumed, landed = [], []
        for n in range(ROUNDS):
            enrollment, landing = rounds.resume_during_a_batch(n, freeze_after)
            resumed.append(enrollment)
            landed.append(f"{freeze_after:.2f} s: {landing}")
            freeze_after *= {"early": STEER, "late": 1 / STEER}.get(landing, 1.0)

        stuck = unfinished_once_quiet(http, resumed)
        assert not stuck, (
            f"after the last resume, {len(stuck)} of {len(resumed)} enrollments of resumed "
            f"sequences did not get their due step requested: {stuck} (where the scheduler "
            f"was frozen in each round's batch: {landed})")
