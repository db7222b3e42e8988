"""``due_enrollments``: what the scheduler scans. A row per open enrollment; ``due_at`` is
set only while it is active with a due time, and the partial index covers just those rows,
so "due now, oldest first, 500 at a time" reads a few index pages however many wait."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from domain.enrollment import Enrollment
from projections.batch import Batch
from projections.db import as_datetime
from projections.models import enrollment_state
from projections.models.base import Handler, ReadModel

E = Enrollment
DUE_INDEX = "{due}_by_due_at"


class DueEnrollmentsModel(ReadModel):
    name = "due_enrollments"
    table_bases = ("due",)
    keys: ClassVar[Mapping[str, str]] = {"due": "enrollment_id"}
    schema = (
        "CREATE TABLE IF NOT EXISTS {due} (enrollment_id TEXT PRIMARY KEY, "
        "tenant_id TEXT NOT NULL, sequence_id TEXT NOT NULL, contact_id TEXT NOT NULL, "
        "step_order INTEGER NOT NULL, due_at TIMESTAMPTZ, status TEXT NOT NULL, "
        "retry_step INTEGER, retry_at TIMESTAMPTZ, step_due_at TIMESTAMPTZ)",
        f"CREATE INDEX IF NOT EXISTS {DUE_INDEX} ON {{due}} (due_at, enrollment_id) "
        "WHERE due_at IS NOT NULL",
    )

    def build_handlers(self) -> Mapping[type[Any], Handler]:
        changes = (E.MessageRequested, E.StepExecuted, E.SendFailed, E.Advanced,
                   E.Rescheduled, E.RetryRescheduled, E.Migrated, E.Completed, E.Exited,
                   E.Paused, E.Resumed)
        return {E.Created: self._created, **dict.fromkeys(changes, self._changed)}

    def prefetch(self, batch: Batch, events: Sequence[Any], t: Mapping[str, str]) -> None:
        batch.rows(t["due"], "enrollment_id").prefetch(
            e.originator_id for e in events if not isinstance(e, E.Created))

    def _created(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        b.rows(t["due"], "enrollment_id").put(e.originator_id, {
            "enrollment_id": str(e.originator_id), "tenant_id": e.tenant_id,
            "sequence_id": str(e.sequence_id), "contact_id": e.contact_id,
            "step_order": e.step_order, "due_at": e.due_at, "status": "active",
            "retry_step": None, "retry_at": None, "step_due_at": e.due_at})

    def _changed(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        rows = b.rows(t["due"], "enrollment_id")
        row = rows.get(e.originator_id)
        if row is None:
            return  # already ended
        state: dict[str, Any] = dict.fromkeys(enrollment_state.STATE)
        state.update(status=row["status"], current_step_order=row["step_order"],
                     next_scheduled_at=as_datetime(row["due_at"]),
                     step_due_at=as_datetime(row["step_due_at"]),
                     retry_step=row["retry_step"], retry_at=as_datetime(row["retry_at"]))
        new = enrollment_state.evolve(state, e)
        if new["status"] not in ("active", "paused"):
            rows.delete(e.originator_id)
            return
        row.update(step_order=new["current_step_order"], status=new["status"],
                   due_at=new["next_scheduled_at"] if new["status"] == "active" else None,
                   retry_step=new["retry_step"], retry_at=new["retry_at"],
                   step_due_at=new["step_due_at"])
        rows.put(e.originator_id, row)
