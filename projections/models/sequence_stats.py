"""``sequence_stats``: per sequence, how many enrolled and where they are now, how they
left, how long completing took, and a funnel per step. Enrollment events do not repeat their
sequence, so the model keeps each enrollment's sequence and status beside the counters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from domain.enrollment import Enrollment
from domain.sequence import DripSequence
from projections.batch import Batch, Counters
from projections.db import as_datetime
from projections.models.base import Handler, ReadModel

E = Enrollment
S = DripSequence

STEP_COUNTERS = ("reached", "requested", "failed", "delivered")
TOTALS = ("total_enrolled", "active_count", "paused_count", "completed_count", "exited_count",
          "completion_seconds")
_STATUS_COUNTER = {"active": "active_count", "paused": "paused_count",
                   "completed": "completed_count", "exited": "exited_count"}


class SequenceStatsModel(ReadModel):
    name = "sequence_stats"
    table_bases = ("stats", "stats_enrollments", "stats_exits", "stats_steps", "stats_skips")
    keys: ClassVar[Mapping[str, str]] = {
        "stats": "sequence_id", "stats_enrollments": "enrollment_id",
        "stats_exits": "sequence_id, reason", "stats_steps": "sequence_id, step_order",
            "stats_skips": "sequence_id, step_order, reason"}
    schema = (
        "CREATE TABLE IF NOT EXISTS {stats} (sequence_id TEXT PRIMARY KEY, "
        "tenant_id TEXT NOT NULL, deleted BOOLEAN NOT NULL, total_enrolled BIGINT NOT NULL, "
        "active_count BIGINT NOT NULL, paused_count BIGINT NOT NULL, "
        "completed_count BIGINT NOT NULL, exited_count BIGINT NOT NULL, "
        "completion_seconds DOUBLE PRECISION NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {stats_enrollments} (enrollment_id TEXT PRIMARY KEY, "
        "sequence_id TEXT NOT NULL, status TEXT NOT NULL, enrolled_at TIMESTAMPTZ NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {stats_exits} (sequence_id TEXT NOT NULL, "
        "reason TEXT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (sequence_id, reason))",
        "CREATE TABLE IF NOT EXISTS {stats_steps} (sequence_id TEXT NOT NULL, "
        "step_order INTEGER NOT NULL, reached BIGINT NOT NULL, requested BIGINT NOT NULL, "
        "failed BIGINT NOT NULL, delivered BIGINT NOT NULL, "
        "PRIMARY KEY (sequence_id, step_order))",
        "CREATE TABLE IF NOT EXISTS {stats_skips} (sequence_id TEXT NOT NULL, "
        "step_order INTEGER NOT NULL, reason TEXT NOT NULL, n BIGINT NOT NULL, "
        "PRIMARY KEY (sequence_id, step_order, reason))",
    )

    def build_handlers(self) -> Mapping[type[Any], Handler]:
        return {S.Created: self._sequence_created, S.Deleted: self._sequence_deleted,
                E.Created: self._enrolled, E.Advanced: self._step_event,
                E.MessageRequested: self._step_event, E.StepExecuted: self._step_event,
                E.SendFailed: self._step_event,
                E.MessageDelivered: self._step_event, E.StepSkipped: self._skipped,
                E.Paused: self._moved, E.Resumed: self._moved, E.Completed: self._moved,
                E.Exited: self._moved}

    def prefetch(self, batch: Batch, events: Sequence[Any], t: Mapping[str, str]) -> None:
        batch.rows(t["stats_enrollments"], "enrollment_id").prefetch(
            e.originator_id for e in events
            if isinstance(e, Enrollment.Event) and not isinstance(e, E.Created))

    def _sequence_created(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        b.execute(f"INSERT INTO {t['stats']} VALUES (%s, %s, FALSE, 0, 0, 0, 0, 0, 0)",
                  [e.originator_id, e.tenant_id])

    def _sequence_deleted(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        b.execute(f"UPDATE {t['stats']} SET deleted = TRUE WHERE sequence_id = %s",
                  [e.originator_id])

    @staticmethod
    def _totals(b: Batch, t: Mapping[str, str]) -> Counters:
        return b.counters(t["stats"], ("sequence_id",), TOTALS, create=False)

    @staticmethod
    def _steps(b: Batch, t: Mapping[str, str]) -> Counters:
        return b.counters(t["stats_steps"], ("sequence_id", "step_order"), STEP_COUNTERS,
                          create=True)

    def _enrolled(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        b.rows(t["stats_enrollments"], "enrollment_id").put(e.originator_id, {
            "enrollment_id": str(e.originator_id), "sequence_id": str(e.sequence_id),
            "status": "active", "enrolled_at": e.at})
        self._totals(b, t).add([e.sequence_id], "total_enrolled")
        self._totals(b, t).add([e.sequence_id], "active_count")
        self._steps(b, t).add([e.sequence_id, e.step_order], "reached")

    def _step_event(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        found = b.rows(t["stats_enrollments"], "enrollment_id").get(e.originator_id)
        if found is None:
            return
        if isinstance(e, E.Advanced):
            self._steps(b, t).add([found["sequence_id"], e.new_step_order], "reached")
            return
        if isinstance(e, E.StepExecuted) and e.advance_to is not None:
            self._steps(b, t).add([found["sequence_id"], e.advance_to], "reached")
        counter = {E.MessageRequested: "requested", E.StepExecuted: "requested",
                   E.SendFailed: "failed", E.MessageDelivered: "delivered"}[type(e)]
        self._steps(b, t).add([found["sequence_id"], e.step_order], counter)

    def _skipped(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        found = b.rows(t["stats_enrollments"], "enrollment_id").get(e.originator_id)
        if found is not None:
            b.counters(t["stats_skips"], ("sequence_id", "step_order", "reason"), ("n",),
                       create=True).add([found["sequence_id"], e.step_order, e.reason], "n")

    def _moved(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        enrollments = b.rows(t["stats_enrollments"], "enrollment_id")
        found = enrollments.get(e.originator_id)
        if found is None:
            return
        new = {E.Paused: "paused", E.Resumed: "active", E.Completed: "completed",
               E.Exited: "exited"}[type(e)]
        seq, totals = found["sequence_id"], self._totals(b, t)
        totals.add([seq], _STATUS_COUNTER[found["status"]], -1)
        totals.add([seq], _STATUS_COUNTER[new])
        enrolled_at = as_datetime(found["enrolled_at"])
        if new == "completed" and enrolled_at is not None:  # the column is NOT NULL
            totals.add([seq], "completion_seconds", (e.at - enrolled_at).total_seconds())
        if new == "exited":
            b.counters(t["stats_exits"], ("sequence_id", "reason"), ("n",),
                       create=True).add([seq, e.reason], "n")
        enrollments.put(e.originator_id, {**found, "status": new})
