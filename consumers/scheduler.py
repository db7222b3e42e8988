"""The scheduler: repeatedly takes the oldest due enrollments from the ``due_enrollments``
read model and executes them through the application, which re-checks everything against the
aggregates. Several schedulers may run at once: on PostgreSQL each claims its batch
(``claims``) so they share the work; where two still meet on an enrollment, the aggregate
version lets only one of them record the step (the other's outcome is a lost race).

The read model lags the store by moments, so a row may still show a step this scheduler has
just executed. Such rows are skipped (remembered by enrollment and due time) instead of being
loaded again and again until the projector catches up: the scan moves on to the next oldest.

Between scans it sleeps until the next due time it saw (at most ``idle_seconds``), or until
``wake`` is called: the read models say the due list changed (a new enrollment due at once).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from consumers.claims import Claims
from domain.app_execution import StepOutcome
from domain.application import DriplineApp
from projections.queries import DueEnrollment, Queries

log = logging.getLogger("dripline.scheduler")
_REMEMBERED = 50_000
_PAGES = 4  # pages of the due list one scan reads at most


@dataclass
class SchedulerStats:
    batches: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    lateness_seconds: list[float] = field(default_factory=list)  # bounded, most recent


class Scheduler:
    def __init__(self, app: DriplineApp, queries: Queries, *, batch_size: int = 500,
                 idle_seconds: float = 0.25, sync: Callable[[], object] | None = None,
                 on_outcomes: Callable[[list[StepOutcome]], None] | None = None,
                 claims: Claims | None = None) -> None:
        self.app = app
        self.queries = queries
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        # In one process with the read models (``dripline serve``), bring them up to date
        # before each scan so a step that was just executed is not seen as due again.
        self.sync = sync
        self.on_outcomes = on_outcomes
        self.claims = claims
        self.stats = SchedulerStats()
        self._stop = threading.Event()
        self._wake = threading.Event()
        # The earliest due time the last scan saw ahead of its clock (None: none seen).
        self.next_due: datetime | None = None
        # enrollment -> the due time it was executed at (see the module's docstring)
        self._seen: OrderedDict[UUID, datetime] = OrderedDict()

    def run_once(self) -> int:
        """Execute one batch of due enrollments; returns how many rows it took up."""
        self.next_due = None  # a failed scan must not leave an old one behind (no spinning)
        if self.sync is not None:
            self.sync()
        now = self.app.clock()
        try:
            chosen = self._take(now)
            outcomes = (self.app.execute_due([row.enrollment_id for row in chosen])
                        if chosen else [])
        finally:
            if self.claims is not None:
                self.claims.release()
        lost = {o.enrollment_id for o in outcomes if o.result == "lost_race"}
        for row in chosen:
            # A lost race is looked at again: the winner may have been a write that left the
            # step due (a delivery report, say), not another scheduler executing it.
            if row.enrollment_id not in lost:
                self._seen[row.enrollment_id] = row.due_at
                self._seen.move_to_end(row.enrollment_id)
        while len(self._seen) > _REMEMBERED:
            self._seen.popitem(last=False)
        if chosen:
            self._record(outcomes)
        return len(chosen)

    def _take(self, now: datetime) -> list[DueEnrollment]:
        """Up to a batch of due rows, oldest first, that this scheduler has not executed
        already and (with claims) no other scheduler holds; claimed until ``release``.
        Rows just executed lead the list until the projector catches up, and rows another
        scheduler holds are skipped: past a page of those it reads on, a few pages at most,
        rather than idle meanwhile."""
        page = self.batch_size * 2
        # Look a little ahead too: the earliest row not yet due says how long to sleep.
        horizon = now + timedelta(seconds=self.idle_seconds)
        chosen: dict[UUID, DueEnrollment] = {}
        for number in range(_PAGES):
            rows = self.queries.due_enrollments(horizon, page, offset=number * page)
            fresh: dict[UUID, DueEnrollment] = {}
            for row in rows:
                if row.due_at > now:
                    self.next_due = min(self.next_due or row.due_at, row.due_at)
                elif (self._seen.get(row.enrollment_id) != row.due_at
                      and row.enrollment_id not in chosen):
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
            try:
                busy = self.run_once() >= self.batch_size
                pause = 0.0 if busy else self._pause()
            except Exception:  # keep scheduling; the failed batch is retried next scan
                log.exception("scheduler batch failed")
                pause = self.idle_seconds
            if pause:
                self._wake.wait(pause)
                self._wake.clear()
        log.info("scheduler stopped")

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
            self.stats.outcomes[outcome.result] += 1
            # Ids only: never the message's content or the contact's details.
            level = logging.DEBUG if outcome.result == "requested" else logging.INFO
            log.log(level, "step %s", outcome.result, extra={
                "tenant_id": outcome.tenant_id, "contact_id": outcome.contact_id,
                "enrollment_id": outcome.enrollment_id, "message_id": outcome.message_id,
                "result": outcome.result})
            if outcome.result == "requested" and outcome.due_at is not None:
                self.stats.lateness_seconds.append((now - outcome.due_at).total_seconds())
        del self.stats.lateness_seconds[:-10_000]
        if self.on_outcomes is not None:
            self.on_outcomes(outcomes)
