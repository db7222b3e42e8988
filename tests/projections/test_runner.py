"""The long-running projector: in a thread (``dripline serve``) and as its own process
(``dripline project``), following new events (LISTEN/NOTIFY on PostgreSQL, polling on
SQLite) until told to stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from dripline.bootstrap import Runtime, bootstrap
from dripline.settings import Settings
from tests.projections.support import active_sequence

REPO = Path(__file__).resolve().parents[2]


def wait_until_caught_up(runtime: Runtime, timeout: float = 60) -> None:
    """Wait on positions: every read model at the store's head."""
    deadline = time.monotonic() + timeout
    while any(s.lag for s in runtime.read_models.status()):
        assert time.monotonic() < deadline, runtime.read_models.status()
        time.sleep(0.01)


def test_a_runner_thread_follows_new_events_and_stops_cleanly(runtime: Runtime) -> None:
    runner = runtime.read_models.runner(poll_interval=0.05)
    runner.start()
    try:
        sequence = active_sequence(runtime.app, steps=1)
        runtime.app.enroll_many("acme", sequence.id, ["a", "b", "c"])
        wait_until_caught_up(runtime)
        assert runtime.queries.list_enrollments("acme", sequence.id).total == 3
        runtime.app.enroll("acme", sequence.id, "d")
        runtime.read_models.wait_for(runtime.read_models.projector.head(), ["enrollments"])
        assert runtime.queries.list_enrollments("acme", sequence.id).total == 4
    finally:
        runner.stop()
    assert runner.last_error is None


def test_dripline_project_runs_as_a_process_and_exits_on_sigterm(runtime: Runtime) -> None:
    env = {**os.environ, "DRIPLINE_DATABASE_URL": runtime.settings.database_url}
    process = subprocess.Popen(
        [sys.executable, "-c", "from dripline.cli import main; main()", "project",
         "--poll-interval", "0.05"], cwd=REPO, env=env, stdout=subprocess.DEVNULL)
    try:
        sequence = active_sequence(runtime.app, steps=1)
        runtime.app.enroll("acme", sequence.id, "a")
        wait_until_caught_up(runtime)
        assert runtime.queries.list_enrollments("acme", sequence.id).total == 1
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_on_postgresql_new_events_wake_the_runner_without_polling(
        postgres_url: str) -> None:
    runtime = bootstrap(Settings(database_url=postgres_url), catch_up_lookups=False)
    runner = runtime.read_models.runner(poll_interval=3600)  # polling effectively off
    runner.start()
    try:
        wait_until_caught_up(runtime)  # the first catch-up, then it waits on LISTEN
        sequence = active_sequence(runtime.app, steps=1)
        wait_until_caught_up(runtime)  # only a NOTIFY can have woken it within the timeout
        assert runtime.queries.list_sequences("acme").items[0]["id"] == str(sequence.id)
    finally:
        runner.stop()
        runtime.close()
