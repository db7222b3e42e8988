"""Exactly once: redelivered events, racing runners and a runner killed mid-batch all leave
the read models exactly as one clean pass over the log would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from threading import Thread

import pytest
from eventsourcing.persistence import StoredEvent

from domain.clock import ManualClock
from dripline.bootstrap import Runtime
from projections import replay
from projections.checksum import checksum
from projections.generations import all_generations, live_generation
from projections.read_models import ReadModels
from tests.projections.support import active_sequence
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


@pytest.mark.parametrize("ahead", ["partly", "wholly"])
def test_models_at_different_positions_catch_up_together_when_another_runner_moves_one(
        runtime: Runtime, clock: ManualClock, monkeypatch: pytest.MonkeyPatch,
        ahead: str) -> None:
    """One batch serves models that start from different positions (due_enrollments ahead
    of the others), one of which another runner moves on between the batch's read of the
    positions and its locks: into the events the batch read, or past all of them."""
    read_models, projector = runtime.read_models, runtime.read_models.projector
    run_workload(runtime.app, clock, contacts=60)
    read_models.catch_up()
    run_workload(runtime.app, clock, contacts=30)
    projector.batch_size = 40
    projector.process_batch("due_enrollments", 1)
    other = ReadModels(runtime.settings.database_url, batch_size=10)
    other.attach(runtime.app)
    real_head, heads = projector.head, []

    def head_then_race() -> int:
        heads.append(real_head())
        if len(heads) == 2:  # the first batch's head: positions read, nothing locked yet
            if ahead == "partly":
                other.projector.process_batch("sequence_stats", 1)
            else:
                other.catch_up(["sequence_stats"])
        return heads[-1]

    monkeypatch.setattr(projector, "head", head_then_race)
    try:
        read_models.catch_up()
    finally:
        other.close()
    assert {g.position for g in all_generations(read_models.db)} == {heads[0]}
    assert checksums(read_models) == rebuilt_checksums(read_models)


def test_catching_up_decodes_each_event_once(
        runtime: Runtime, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    head = run_workload(runtime.app, clock, contacts=60)
    mapper, decoded = runtime.app.mapper, []
    real_decode = mapper.to_domain_event

    def counting(notification: StoredEvent) -> object:
        decoded.append(notification)
        return real_decode(notification)

    monkeypatch.setattr(mapper, "to_domain_event", counting)
    runtime.read_models.projector.batch_size = 50
    positions = [g.position for g in all_generations(runtime.read_models.db)]
    runtime.catch_up()
    assert 0 < len(decoded) <= head - min(positions)


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


def test_a_failing_model_does_not_hold_up_the_others(runtime: Runtime) -> None:
    """One read model whose handler fails (a bug, a bad event) stays behind and the failure
    is reported; every other model, the scheduler's due list first, still catches up."""
    broken = runtime.read_models.model("sequence_stats")
    sequence = active_sequence(runtime.app, steps=1)
    runtime.app.enroll_many("acme", sequence.id, ["a", "b"])

    def fail(*_: object) -> None:
        raise RuntimeError("a bug in the sequence_stats handler")

    original = broken.apply
    broken.apply = fail  # type: ignore[method-assign,assignment]
    try:
        with pytest.raises(RuntimeError, match="sequence_stats"):
            runtime.catch_up()
    finally:
        broken.apply = original  # type: ignore[method-assign]
    lag = {s.name: s.lag for s in runtime.read_models.status()}
    assert lag.pop("sequence_stats") > 0
    assert set(lag.values()) == {0}, lag
    far = runtime.app.clock() + timedelta(days=3650)
    assert len(runtime.queries.due_enrollments(far, 10)) == 2  # the due list is current
    runtime.catch_up()  # fixed: it catches up from where it stopped
    assert {s.name: s.lag for s in runtime.read_models.status()} == dict.fromkeys(lag, 0) | {
        "sequence_stats": 0}
