"""The stuck detector (CAPABILITIES §7): active enrollments overdue by more than a threshold
that no scheduler has executed.

Candidates come from the ``due_enrollments`` read model, and each is **confirmed on its
aggregate**: a row the aggregate contradicts (it moved on, ended, or is due later) is the
read model lagging, reported as lag and never as a stuck enrollment. A confirmed one gets a
suspected cause: ``sequence_missing`` (its sequence is gone), ``no_scheduler`` (no scheduler
heartbeat for 60 s), ``projection_lag`` (the read model is behind the store's head, so
what the scheduler's own due index holds may differ) or ``unknown``.
"""

from __future__ import annotations

from collections.abc import Callable
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

SCAN_LIMIT = 10_000  # candidates one look confirms at most (and the metric's cap)
DUE_MODEL = "due_enrollments"


@dataclass(frozen=True)
class StuckReport:
    items: list[dict[str, Any]]  # confirmed stuck, oldest due first
    total: int
    page: int
    limit: int
    projection_lag: dict[str, Any]  # how far behind, and the rows the aggregates contradict
    scheduler_heartbeat_age_seconds: int | None


class StuckDetector:
    def __init__(self, queries: SqlQueries, why: WhyQueries, heartbeats: Heartbeats,
                 due_model_lag: Callable[[], int], clock: Callable[[], datetime]) -> None:
        self.queries, self.why, self.heartbeats = queries, why, heartbeats
        self.due_model_lag = due_model_lag  # events the due_enrollments model is behind
        self.clock = clock

    def heartbeat_age(self) -> int | None:
        latest = self.heartbeats.latest()
        return None if latest is None else max(0, int((self.clock() - latest).total_seconds()))

    def cause(self) -> str:
        """The suspected cause of an overdue enrollment whose sequence exists."""
        age = self.heartbeat_age()
        if age is None or age > SILENT_AFTER.total_seconds():
            return "no_scheduler"
        return "projection_lag" if self.due_model_lag() > 0 else "unknown"

    def find(self, tenant_id: str | None, older_than: timedelta, *,
             sequence_id: UUID | None = None, page: int = 1, limit: int = 100) -> StuckReport:
        """``tenant_id`` None: every tenant (the operator's CLI and the metrics)."""
        page, limit = max(page, 1), min(max(limit, 1), 500)
        rows = self._candidates(tenant_id, self.clock() - older_than, sequence_id)
        confirmed = self.why.confirm_overdue(tenant_id, [r["id"] for r in rows], older_than)
        found = {o.enrollment.id for o in confirmed}
        contradicted = [str(r["id"]) for r in rows if r["id"] not in found]
        lag = self.due_model_lag()
        causes: dict[bool, str] = {True: "sequence_missing"}
        if confirmed:
            causes[False] = self.cause()
        items = [_item(o, causes[o.sequence_missing]) for o in confirmed]
        start = (page - 1) * limit
        return StuckReport(
            items=items[start:start + limit], total=len(items), page=page, limit=limit,
            projection_lag={"behind_events": lag, "contradicted": len(contradicted),
                            "contradicted_ids": contradicted[:100]},
            scheduler_heartbeat_age_seconds=self.heartbeat_age())

    def _candidates(self, tenant_id: str | None, before: datetime,
                    sequence_id: UUID | None) -> list[dict[str, Any]]:
        where, params = "due_at IS NOT NULL AND due_at <= %s", list[Any]([before])
        if tenant_id is not None:
            where, params = where + " AND tenant_id = %s", [*params, tenant_id]
        if sequence_id is not None:
            where, params = where + " AND sequence_id = %s", [*params, str(sequence_id)]
        found = self.queries._live(DUE_MODEL, lambda t: self.queries.db.read(
            f"SELECT enrollment_id, due_at FROM {t('due')} WHERE {where} "
            "ORDER BY due_at, enrollment_id LIMIT %s", [*params, SCAN_LIMIT]))
        return [{"id": UUID(str(r["enrollment_id"])), "due_at": as_datetime(r["due_at"])}
                for r in found]


def _item(o: Overdue, cause: str) -> dict[str, Any]:
    e = o.enrollment
    return {"enrollment_id": e.id, "sequence_id": e.sequence_id, "contact_id": e.contact_id,
            "step_order": e.current_step_order, "due_at": e.next_scheduled_at,
            "overdue_seconds": o.overdue_seconds, "suspected_cause": cause}


def detector(read_models: ReadModels, app: DriplineApp) -> StuckDetector:
    """The detector over a process's read models and application."""
    def lag() -> int:
        return next((s.lag for s in read_models.status()
                     if s.name == DUE_MODEL and s.status == "live"), 0)
    return StuckDetector(read_models.queries, app.why, Heartbeats(read_models.db), lag,
                         app.clock)
