"""The scheduler: repeatedly takes the oldest due enrollments from the write-side due index
(``domain.store``: written in the transaction of the events that move it, so a step is
visible the moment it is committed) and executes them through the application, which
re-checks everything against the aggregates. Several schedulers may run at once: on
PostgreSQL each claims its batch (``claims``) so they share the work; where two still meet
on an enrollment, the aggregate version lets only one of them record the step (the other
decides again on the new facts).

Between scans it sleeps until the next due time it saw (at most ``idle_seconds``), or until
``wake`` is called.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from consumers.claims import Claims
from domain.application import DriplineApp
from domain.execution import StepOutcome, StepResult
from domain.store import EnrollmentRow

log = logging.getLogger("dripline.scheduler")
_PAGES = 4  # pages of the due list one scan reads at most
EVALUATE_EVERY = timedelta(minutes=5)  # between looks at the A/B tests (CAPABILITIES §1)


@dataclass
class SchedulerStats:
    batches: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    lateness_seconds: list[float] = field(default_factory=list)  # bounded, most recent
    deferred: Counter[str] = field(default_factory=Counter)  # by reason


class Scheduler:
    def __init__(self, app: DriplineApp, *, batch_size: int = 500,
                 idle_seconds: float = 0.25,
                 on_outcomes: Callable[[list[StepOutcome]], None] | None = None,
                 claims: Claims | None = None,
                 heartbeat: Callable[[datetime], None] | None = None) -> None:
        self.app = app
        # Told the clock's time at every scan: an operational sign of life for the stuck
        # detector (``projections.heartbeats``), not domain state.
        self.heartbeat = heartbeat
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.on_outcomes = on_outcomes
        self.claims = claims
        self.stats = SchedulerStats()
        self._stop = threading.Event()
        self._wake = threading.Event()
        # The earliest due time the last scan saw ahead of its clock (None: none seen).
        self.next_due: datetime | None = None
        # When this scheduler last looked at the A/B tests (its clock; None: never).
        self.evaluated_at: datetime | None = None

    def run_once(self) -> int:
        """Execute one batch of due enrollments; returns how many rows it took up."""
        self.next_due = None  # a failed scan must not leave an old one behind (no spinning)
        now = self.app.clock()
        try:
            chosen = self._take(now)
            outcomes = (self.app.execute_due([row.enrollment_id for row in chosen])
                        if chosen else [])
        finally:
            if self.claims is not None:
                self.claims.release()
        if chosen:
            self._record(outcomes)
        self._evaluate_experiments(now)
        return len(chosen)

    def _evaluate_experiments(self, now: datetime) -> None:
        """Every ``EVALUATE_EVERY`` of the clock, the A/B tests' due looks are taken
        (``domain.app_experiments``); a failure is logged and tried again next time."""
        if self.evaluated_at is not None and now < self.evaluated_at + EVALUATE_EVERY:
            return
        self.evaluated_at = now
        try:
            self.app.experiments.evaluate_due()
        except Exception:
            log.exception("evaluating experiments failed")

    def _take(self, now: datetime) -> list[EnrollmentRow]:
        """Up to a batch of due rows, oldest first, that (with claims) no other scheduler
        holds; claimed until ``release``. Past a page of rows others hold it reads on, a few
        pages at most, rather than idle meanwhile."""
        # With claims, a page holds rows other schedulers took too: read past them.
        page = self.batch_size * 2 if self.claims is not None else self.batch_size
        # Look a little ahead too: the earliest row not yet due says how long to sleep.
        horizon = now + timedelta(seconds=self.idle_seconds)
        chosen: dict[UUID, EnrollmentRow] = {}
        for number in range(_PAGES):
            rows = self.app.store.due_enrollments(horizon, page, offset=number * page)
            fresh: dict[UUID, EnrollmentRow] = {}
            for row in rows:
                if row.due_at is None or row.due_at > now:
                    due = row.due_at or horizon
                    self.next_due = min(self.next_due or due, due)
                elif row.enrollment_id not in chosen:
                    fresh.setdefault(row.enrollment_id, row)
            wanted = self.batch_size - len(chosen)
            if self.claims is not None and fresh:
                claimed = self.claims.claim(list(fresh), wanted)
                fresh = {k: row for k, row in fresh.items() if k in claimed}
            chosen.update(list(fresh.items())[:wanted])
            if len(rows) < page or len(chosen) >= self.batch_size or self.next_due:
                break
        return list(chosen.values())

    def run_forever(self) -> None:
        log.info("scheduler started (batch %d)", self.batch_size)
        while not self._stop.is_set():
            self._beat()
            try:
                busy = self.run_once() >= self.batch_size
                if not busy:  # revision migrations go on between scans, a batch at a time
                    busy = self.app.revisions.run_migrations() > 0
                pause = 0.0 if busy else self._pause()
            except Exception:  # keep scheduling; the failed batch is retried next scan
                log.exception("scheduler batch failed")
                pause = self.idle_seconds
            if pause:
                self._wake.wait(pause)
                self._wake.clear()
        log.info("scheduler stopped")

    def _beat(self) -> None:
        """Write the heartbeat on its own: a failed write is logged and the scan goes on."""
        if self.heartbeat is None:
            return
        try:
            self.heartbeat(self.app.clock())
        except Exception as error:  # a sign of life must never stop the scheduling
            log.warning("scheduler heartbeat not written: %s", error)

    def _pause(self) -> float:
        """Seconds until the next due time seen (the clock's view), at most idle_seconds."""
        if self.next_due is None:
            return self.idle_seconds
        until = (self.next_due - self.app.clock()).total_seconds()
        return min(max(until, 0.0), self.idle_seconds)

    def wake(self) -> None:
        """Scan again now (the due list changed)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _record(self, outcomes: list[StepOutcome]) -> None:
        self.stats.batches += 1
        now = self.app.clock()
        for outcome in outcomes:
            self.stats.outcomes[outcome.result.value] += 1
            if outcome.reason is not None:
                self.stats.deferred[outcome.reason] += 1
            # Ids only: never the message's content or the contact's details.
            level = logging.DEBUG if outcome.result is StepResult.REQUESTED else logging.INFO
            log.log(level, "step %s", outcome.result, extra={
                "tenant_id": outcome.tenant_id, "contact_id": outcome.contact_id,
                "enrollment_id": outcome.enrollment_id, "message_id": outcome.message_id,
                "result": outcome.result.value})
            if outcome.result is StepResult.REQUESTED and outcome.due_at is not None:
                self.stats.lateness_seconds.append((now - outcome.due_at).total_seconds())
        del self.stats.lateness_seconds[:-10_000]
        if self.on_outcomes is not None:
            self.on_outcomes(outcomes)
