"""``enrollments``: every enrollment with its status, current step, next due time, exit
reason and when it converted (its goal's CRM time); found by sequence, by contact and by
status."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from domain.enrollment import Enrollment
from projections.batch import Batch
from projections.db import as_datetime
from projections.models import enrollment_state
from projections.models.base import Handler, ReadModel, dumps

E = Enrollment
_TIMES = ("next_scheduled_at", "step_due_at", "due_before_pause", "completed_at", "exited_at",
          "last_step_at", "retry_at")


class EnrollmentsModel(ReadModel):
    name = "enrollments"
    table_bases = ("enrollments",)
    version = 4  # 2: revisions (the one each follows; migrations); 3: converted_at; 4: A/B
    keys: ClassVar[Mapping[str, str]] = {"enrollments": "enrollment_id"}
    schema = (
        "CREATE TABLE IF NOT EXISTS {enrollments} (enrollment_id TEXT PRIMARY KEY, "
        "tenant_id TEXT NOT NULL, sequence_id TEXT NOT NULL, contact_id TEXT NOT NULL, "
        "number INTEGER NOT NULL, source TEXT NOT NULL, status TEXT NOT NULL, "
        "current_step_order INTEGER NOT NULL, next_scheduled_at TIMESTAMPTZ, "
        "step_due_at TIMESTAMPTZ, "
        "retry_step INTEGER, retry_at TIMESTAMPTZ, paused_by_sequence BOOLEAN NOT NULL, "
        "due_before_pause TIMESTAMPTZ, enrolled_at TIMESTAMPTZ NOT NULL, "
        "completed_at TIMESTAMPTZ, exited_at TIMESTAMPTZ, exit_reason TEXT, exit_detail TEXT, "
        "last_step_at TIMESTAMPTZ, version BIGINT NOT NULL, updated_at TIMESTAMPTZ NOT NULL, "
        "entered_at TIMESTAMPTZ NOT NULL, settling BOOLEAN NOT NULL, "
        "revision INTEGER NOT NULL, converted_at TIMESTAMPTZ, "
        "holdout BOOLEAN NOT NULL, assignments TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS {enrollments}_by_sequence "
        "ON {enrollments} (sequence_id, status)",
        "CREATE INDEX IF NOT EXISTS {enrollments}_by_contact "
        "ON {enrollments} (tenant_id, contact_id, status)",
    )

    def build_handlers(self) -> Mapping[type[Any], Handler]:
        changes = (E.MessageRequested, E.StepExecuted, E.StepSkipped, E.SendFailed,
                   E.MessageDelivered, E.Advanced, E.Rescheduled, E.RetryRescheduled,
                   E.Migrated, E.Completed, E.Exited, E.Paused, E.Resumed)
        # Engagement moves nothing a list shows but the version (sent back in If-Match).
        touches = (E.MessageOpened, E.MessageClicked, E.ReplyAttributed,
                   E.UnsubscribeAttributed)
        return {E.Created: self._created, E.GoalReached: self._converted,
                **dict.fromkeys(changes, self._changed),
                **dict.fromkeys(touches, self._touched)}

    def prefetch(self, batch: Batch, events: Sequence[Any], t: Mapping[str, str]) -> None:
        batch.rows(t["enrollments"], "enrollment_id").prefetch(
            e.originator_id for e in events if not isinstance(e, E.Created))

    def _created(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        row = {"enrollment_id": str(e.originator_id), "tenant_id": e.tenant_id,
               "sequence_id": str(e.sequence_id), "contact_id": e.contact_id,
               "number": e.number, "source": e.source, "enrolled_at": e.at,
               "entered_at": e.entered_at or e.at,
               "version": e.originator_version, "updated_at": e.at, "converted_at": None,
               "holdout": bool(e.holdout), "assignments": dumps(e.assignments or {}),
               **enrollment_state.initial(e)}
        b.rows(t["enrollments"], "enrollment_id").put(e.originator_id, row)

    def _touched(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        rows = b.rows(t["enrollments"], "enrollment_id")
        row = rows.get(e.originator_id)
        if row is not None:
            rows.put(e.originator_id, {**row, "version": e.originator_version,
                                       "updated_at": e.at})

    def _changed(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        rows = b.rows(t["enrollments"], "enrollment_id")
        row = rows.get(e.originator_id)
        if row is None:
            return  # cannot happen in a complete log; never invent an enrollment
        state = {c: row[c] for c in enrollment_state.STATE}
        for column in _TIMES:
            state[column] = as_datetime(state[column])
        row.update(enrollment_state.evolve(state, e), version=e.originator_version,
                   updated_at=e.at)
        rows.put(e.originator_id, row)

    def _converted(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        rows = b.rows(t["enrollments"], "enrollment_id")
        row = rows.get(e.originator_id)
        if row is not None:
            rows.put(e.originator_id, {**row, "converted_at": e.occurred_at,
                                       "version": e.originator_version, "updated_at": e.at})
