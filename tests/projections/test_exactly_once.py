"""Exactly once: redelivered events, racing runners and a runner killed mid-batch all leave
the read models exactly as one clean pass over the log would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from threading import Thread

from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from projections import replay
from projections.checksum import checksum
from projections.generations import live_generation
from projections.read_models import ReadModels
from tests.projections.workload import run_workload

REPO = Path(__file__).resolve().parents[2]


def checksums(read_models: ReadModels) -> dict[str, str]:
    return {m.name: checksum(read_models.db, m) for m in read_models.models}


def rebuilt_checksums(read_models: ReadModels) -> dict[str, str]:
    for name in read_models.names():
        replay.rebuild(read_models, name)
    return checksums(read_models)


def test_events_delivered_twice_change_nothing(runtime: Runtime, clock: ManualClock) -> None:
    run_workload(runtime.app, clock, contacts=60)
    runtime.catch_up()
    read_models = runtime.read_models
    before = checksums(read_models)
    everything = runtime.app.recorder.select_notifications(start=1, limit=10_000)
    for model in read_models.models:
        live = live_generation(read_models.db, model.name)
        after = read_models.projector.deliver(model.name, live.generation, everything)
        assert after.position == live.position
    assert checksums(read_models) == before


def test_runners_racing_on_one_database_apply_each_event_once(
        runtime: Runtime, clock: ManualClock) -> None:
    run_workload(runtime.app, clock, contacts=300)
    others = [ReadModels(runtime.settings.database_url, batch_size=25) for _ in range(2)]
    for other in others:
        other.attach(runtime.app)
    try:
        racers = [Thread(target=other.catch_up) for other in others]
        for racer in racers:
            racer.start()
        runtime.catch_up()
        for racer in racers:
            racer.join()
        assert checksums(runtime.read_models) == rebuilt_checksums(runtime.read_models)
    finally:
        for other in others:
            other.close()


def test_a_runner_killed_mid_batch_restarts_to_the_same_tables(
        runtime: Runtime, clock: ManualClock) -> None:
    head = run_workload(runtime.app, clock, contacts=1500)
    env = {**os.environ, "DRIPLINE_DATABASE_URL": runtime.settings.database_url}
    runner = subprocess.Popen(
        [sys.executable, "-c", "from dripline.cli import main; main()", "project",
         "--batch-size", "100"], cwd=REPO, env=env, stdout=subprocess.DEVNULL)
    try:
        # Wait on positions, not seconds: kill once some batches committed and many remain.
        deadline = time.monotonic() + 120
        while not any(0 < s.position < head // 2 for s in runtime.read_models.status()):
            assert runner.poll() is None, "the runner died on its own"
            assert time.monotonic() < deadline, "the runner made no progress"
            time.sleep(0.01)
        runner.send_signal(signal.SIGKILL)
        runner.wait()
    finally:
        if runner.poll() is None:
            runner.kill()
    positions = [s.position for s in runtime.read_models.status()]
    assert min(positions) < head  # it really was interrupted
    runtime.catch_up()
    assert checksums(runtime.read_models) == rebuilt_checksums(runtime.read_models)
