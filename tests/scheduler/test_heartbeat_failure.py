"""A scheduler whose heartbeat cannot be written goes on scheduling: the heartbeat is an
operational sign of life for the stuck detector, never a reason to skip a scan."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest

from consumers.scheduler import Scheduler
from domain.clock import ManualClock
from dripline.bootstrap import bootstrap
from dripline.settings import Settings
from tests.conftest import START
from tests.scheduler.support import enroll, three_steps


def test_a_failing_heartbeat_write_is_logged_and_the_due_steps_still_go_out(
        database_url: str, clock: ManualClock, caplog: pytest.LogCaptureFixture) -> None:
    runtime = bootstrap(Settings(database_url=database_url), clock=clock)
    try:
        app = runtime.app
        sequence_id = three_steps(app, (10, 60, 60))
        enroll(app, sequence_id, 3)
        clock.set(START + timedelta(minutes=10))  # the first steps are due
        beats: list[datetime] = []

        def broken_heartbeat(now: datetime) -> None:
            beats.append(now)
            if len(beats) == 2:  # the second scan is the last: stop after it
                scheduler.stop()
            raise OSError("the heartbeat table cannot be written")

        scheduler = Scheduler(app, batch_size=25, idle_seconds=0.01,
                              heartbeat=broken_heartbeat)
        with caplog.at_level(logging.WARNING, logger="dripline.scheduler"):
            scheduler.run_forever()

        assert len(beats) == 2
        assert scheduler.stats.outcomes == {"requested": 3}
        assert any("heartbeat" in r.getMessage() and r.levelno == logging.WARNING
                   for r in caplog.records)
    finally:
        runtime.close()
