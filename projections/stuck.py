"""The stuck detector (CAPABILITIES §7): active enrollments overdue by more than a threshold
that no scheduler has executed.

Candidates come from the ``due_enrollments`` read model, and each is **confirmed on its
aggregate**: a row the aggregate contradicts (it moved on, ended, or is due later) is the
read model lagging, reported as lag and never as a stuck enrollment. A confirmed one gets a
suspected cause: ``sequence_missing`` (its sequence is gone), ``no_scheduler`` (no scheduler
heartbeat for 60 s), ``projection_lag`` (the read model has not yet processed the
enrollment's latest event, so what it shows of it is out of date) or ``unknown``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from domain.app_why import Overdue, WhyQueries
from domain.application import DriplineApp
from projections.db import as_datetime
from projections.heartbeats import SILENT_AFTER, Heartbeats
from projections.read_models import ReadModels
from projections.sql_queries import SqlQueries

SCAN_LIMIT = 10_000  # candidates one look counts or examines at most (the metric's cap)
SAMPLE = 100  # the oldest candidates the gauges confirm on their aggregates
DUE_MODEL = "due_enrollments"


@dataclass(frozen=True)
class StuckReport:
    items: list[dict[str, Any]]  # confirmed stuck, oldest due first
    # Exact when every candidate was examined; otherwise the confirmed ones plus the
    # candidates past those examined (not confirmed: an upper bound, at most SCAN_LIMIT).
    total: int
    page: int
    limit: int
    projection_lag: dict[str, Any]  # how far behind, and the rows the aggregates contradict
    scheduler_heartbeat_age_seconds: int | None


@dataclass(frozen=True)
class Gauges:
    overdue: int  # confirmed in the sample, plus the candidates past it (at most SCAN_LIMIT)
    oldest_overdue_seconds: int  # 0: none
    scheduler_heartbeat_age_seconds: int | None


class StuckDetector:
    def __init__(self, queries: SqlQueries, why: WhyQueries, heartbeats: Heartbeats,
                 due_model: Callable[[], tuple[int, int]],
                 last_positions: Callable[[Collection[UUID]], dict[UUID, int]],
                 clock: Callable[[], datetime]) -> None:
        self.queries, self.why, self.heartbeats = queries, why, heartbeats
        self.due_model = due_model  # the due_enrollments model's (position, head)
        self.last_positions = last_positions  # streams' latest events' log positions
        self.clock = clock

    def due_model_lag(self) -> int:
        """Events the due_enrollments model is behind the store's head."""
        position, head = self.due_model()
        return max(0, head - position)

    def heartbeat_age(self) -> int | None:
        latest = self.heartbeats.latest()
        return None if latest is None else max(0, int((self.clock() - latest).total_seconds()))

    def causes(self, enrollment_ids: Collection[UUID]) -> dict[UUID, str]:
        """The suspected cause of each overdue enrollment whose sequence exists:
        ``projection_lag`` only for one whose latest event the read model has not yet
        processed (the log growing elsewhere is no cause)."""
        age = self.heartbeat_age()
        if age is None or age > SILENT_AFTER.total_seconds():
            return dict.fromkeys(enrollment_ids, "no_scheduler")
        position, _ = self.due_model()
        latest = self.last_positions(enrollment_ids) if enrollment_ids else {}
        return {i: "projection_lag" if latest.get(i, 0) > position else "unknown"
                for i in enrollment_ids}

    def cause_of(self, enrollment_id: UUID) -> str:
        return self.causes([enrollment_id])[enrollment_id]

    def find(self, tenant_id: str | None, older_than: timedelta, *,
             sequence_id: UUID | None = None, page: int = 1, limit: int = 100) -> StuckReport:
        """``tenant_id`` None: every tenant (the operator's CLI). Confirms candidates, oldest
        first, only until the page asked for is full (or none is left)."""
        page, limit = max(page, 1), min(max(limit, 1), 500)
        before = self.clock() - older_than
        need = page * limit
        confirmed: list[Overdue] = []
        contradicted: list[str] = []
        examined, size, exhausted = 0, 0, False
        while len(confirmed) < need and not exhausted:
            # The page's shortfall first, then twice the last look: few rounds when the
            # read model is far behind and many rows are contradicted.
            size = min(max(need - len(confirmed), 2 * size), SCAN_LIMIT - examined)
            rows = self._candidates(tenant_id, before, sequence_id, size, examined)
            examined += len(rows)
            exhausted = len(rows) < size or examined >= SCAN_LIMIT
            found = self.why.confirm_overdue(tenant_id, [r["id"] for r in rows], older_than)
            ids = {o.enrollment.id for o in found}
            confirmed += found
            contradicted += [str(r["id"]) for r in rows if r["id"] not in ids]
        rest = 0 if exhausted else max(
            0, self._count(tenant_id, before, sequence_id) - examined)
        causes = self.causes([o.enrollment.id for o in confirmed if not o.sequence_missing])
        items = [_item(o, "sequence_missing" if o.sequence_missing
                       else causes[o.enrollment.id]) for o in confirmed]
        start = (page - 1) * limit
        return StuckReport(
            items=items[start:start + limit], total=len(items) + rest, page=page, limit=limit,
            projection_lag={"behind_events": self.due_model_lag(),
                            "contradicted": len(contradicted),
                            "contradicted_ids": contradicted[:100]},
            scheduler_heartbeat_age_seconds=self.heartbeat_age())

    def gauges(self, older_than: timedelta) -> Gauges:
        """The metrics' view, cheap at any size: the candidates counted in SQL (at most
        SCAN_LIMIT) and only the oldest SAMPLE confirmed on their aggregates; the ones past
        the sample count as candidates."""
        now = self.clock()
        before = now - older_than
        sample = self._candidates(None, before, None, SAMPLE, 0)
        confirmed = self.why.confirm_overdue(None, [r["id"] for r in sample], older_than)
        rest = (max(0, self._count(None, before, None) - len(sample))
                if len(sample) == SAMPLE else 0)
        oldest = max((o.overdue_seconds for o in confirmed), default=0)
        if not confirmed and rest:
            beyond = self._candidates(None, before, None, 1, SAMPLE)
            oldest = max(0, int((now - beyond[0]["due_at"]).total_seconds())) if beyond else 0
        return Gauges(min(len(confirmed) + rest, SCAN_LIMIT), oldest, self.heartbeat_age())

    def _where(self, tenant_id: str | None, before: datetime,
               sequence_id: UUID | None) -> tuple[str, list[Any]]:
        where, params = "due_at IS NOT NULL AND due_at <= %s", list[Any]([before])
        if tenant_id is not None:
            where, params = where + " AND tenant_id = %s", [*params, tenant_id]
        if sequence_id is not None:
            where, params = where + " AND sequence_id = %s", [*params, str(sequence_id)]
        return where, params

    def _count(self, tenant_id: str | None, before: datetime,
               sequence_id: UUID | None) -> int:
        """Candidates in the read model, counted up to SCAN_LIMIT."""
        where, params = self._where(tenant_id, before, sequence_id)
        found = self.queries._live(DUE_MODEL, lambda t: self.queries.db.read(
            f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM {t('due')} WHERE {where} "
            "LIMIT %s) AS candidates", [*params, SCAN_LIMIT]))
        return int(found[0]["n"]) if found else 0

    def _candidates(self, tenant_id: str | None, before: datetime, sequence_id: UUID | None,
                    limit: int, offset: int) -> list[dict[str, Any]]:
        """Candidates in the read model, oldest due first, ``limit`` from ``offset``."""
        if limit <= 0:
            return []
        where, params = self._where(tenant_id, before, sequence_id)
        found = self.queries._live(DUE_MODEL, lambda t: self.queries.db.read(
            f"SELECT enrollment_id, due_at FROM {t('due')} WHERE {where} "
            "ORDER BY due_at, enrollment_id LIMIT %s OFFSET %s", [*params, limit, offset]))
        return [{"id": UUID(str(r["enrollment_id"])), "due_at": as_datetime(r["due_at"])}
                for r in found]


def _item(o: Overdue, cause: str) -> dict[str, Any]:
    e = o.enrollment
    return {"enrollment_id": e.id, "sequence_id": e.sequence_id, "contact_id": e.contact_id,
            "step_order": e.current_step_order, "due_at": e.next_scheduled_at,
            "overdue_seconds": o.overdue_seconds, "suspected_cause": cause}


def detector(read_models: ReadModels, app: DriplineApp) -> StuckDetector:
    """The detector over a process's read models and application."""
    def due_model() -> tuple[int, int]:
        return next(((s.position, s.head) for s in read_models.status()
                     if s.name == DUE_MODEL and s.status == "live"), (0, 0))
    return StuckDetector(read_models.queries, app.why, Heartbeats(read_models.db), due_model,
                         app.store.last_positions, app.clock)
