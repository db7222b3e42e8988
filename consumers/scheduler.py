"""The scheduler: repeatedly takes the oldest due enrollments from the ``due_enrollments``
read model and executes them through the application, which re-checks everything against the
aggregates. Several schedulers may run at once: each shuffles its batch so that they rarely
pick the same enrollment at the same moment, and when they do, the aggregate version lets only
one of them record the step.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from domain.app_execution import StepOutcome
from domain.application import DriplineApp
from projections.queries import Queries

log = logging.getLogger("dripline.scheduler")


@dataclass
class SchedulerStats:
    batches: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    lateness_seconds: list[float] = field(default_factory=list)  # bounded, most recent


class Scheduler:
    def __init__(self, app: DriplineApp, queries: Queries, *, batch_size: int = 500,
                 idle_seconds: float = 0.25, sync: Callable[[], object] | None = None,
                 on_outcomes: Callable[[list[StepOutcome]], None] | None = None) -> None:
        self.app = app
        self.queries = queries
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        # In one process with the read models (``dripline serve``), bring them up to date
        # before each scan so a step that was just executed is not seen as due again.
        self.sync = sync
        self.on_outcomes = on_outcomes
        self.stats = SchedulerStats()
        self._stop = threading.Event()

    def run_once(self) -> int:
        """Execute one batch of due enrollments; returns how many were due."""
        if self.sync is not None:
            self.sync()
        due = self.queries.due_enrollments(self.app.clock(), self.batch_size)
        if not due:
            return 0
        ids = [row.enrollment_id for row in due]
        random.shuffle(ids)
        outcomes = self.app.execute_due(ids)
        self._record(outcomes)
        return len(due)

    def run_forever(self) -> None:
        log.info("scheduler started (batch %d)", self.batch_size)
        while not self._stop.is_set():
            try:
                busy = self.run_once() >= self.batch_size
            except Exception:  # keep scheduling; the failed batch is retried next scan
                log.exception("scheduler batch failed")
                busy = False
            if not busy:
                self._stop.wait(self.idle_seconds)
        log.info("scheduler stopped")

    def stop(self) -> None:
        self._stop.set()

    def _record(self, outcomes: list[StepOutcome]) -> None:
        self.stats.batches += 1
        now = self.app.clock()
        for outcome in outcomes:
            self.stats.outcomes[outcome.result] += 1
            if outcome.result == "requested" and outcome.due_at is not None:
                self.stats.lateness_seconds.append((now - outcome.due_at).total_seconds())
        del self.stats.lateness_seconds[:-10_000]
        if self.on_outcomes is not None:
            self.on_outcomes(outcomes)
