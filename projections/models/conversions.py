"""``conversions``: one row per goal event and enrollment it converted (CAPABILITIES §3),
with the step it is credited to and whether it is the event's exclusive conversion; and
beside it every enrollment's sequence, revision and holdout flag, which the conversion
statistics count as enrolled (``projections.conversion_rows``).

An enrollment converts at most once, so its id keys the conversion. A migrated enrollment
counts as enrolled under the revision it moved to; a conversion under the revision whose
goal it met.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from domain.enrollment import Enrollment
from projections.batch import Batch
from projections.db import as_datetime
from projections.models.base import Handler, ReadModel

E = Enrollment


class ConversionsModel(ReadModel):
    name = "conversions"
    table_bases = ("conversions", "conversion_enrollments")
    keys: ClassVar[Mapping[str, str]] = {"conversions": "enrollment_id",
                                         "conversion_enrollments": "enrollment_id"}
    schema = (
        "CREATE TABLE IF NOT EXISTS {conversions} (enrollment_id TEXT PRIMARY KEY, "
        "tenant_id TEXT NOT NULL, contact_id TEXT NOT NULL, sequence_id TEXT NOT NULL, "
        "revision INTEGER NOT NULL, event_id TEXT NOT NULL, event_type TEXT NOT NULL, "
        "occurred_at TIMESTAMPTZ NOT NULL, message_id TEXT, step_id TEXT, "
        "step_order INTEGER, variant TEXT, holdout BOOLEAN NOT NULL, "
        "is_exclusive BOOLEAN NOT NULL, seconds_to_convert DOUBLE PRECISION NOT NULL, "
        "recorded_at TIMESTAMPTZ NOT NULL)",
        "CREATE INDEX IF NOT EXISTS {conversions}_by_time "
        "ON {conversions} (tenant_id, occurred_at, enrollment_id)",
        "CREATE INDEX IF NOT EXISTS {conversions}_by_contact "
        "ON {conversions} (tenant_id, contact_id, occurred_at)",
        "CREATE INDEX IF NOT EXISTS {conversions}_by_sequence "
        "ON {conversions} (tenant_id, sequence_id, occurred_at)",
        "CREATE TABLE IF NOT EXISTS {conversion_enrollments} (enrollment_id TEXT PRIMARY KEY, "
        "tenant_id TEXT NOT NULL, contact_id TEXT NOT NULL, sequence_id TEXT NOT NULL, "
        "revision INTEGER NOT NULL, entered_at TIMESTAMPTZ NOT NULL, "
        "holdout BOOLEAN NOT NULL)",
        "CREATE INDEX IF NOT EXISTS {conversion_enrollments}_by_sequence "
        "ON {conversion_enrollments} (sequence_id, revision)",
    )

    def build_handlers(self) -> Mapping[type[Any], Handler]:
        return {E.Created: self._enrolled, E.Migrated: self._migrated,
                E.GoalReached: self._converted}

    def prefetch(self, batch: Batch, events: Sequence[Any], t: Mapping[str, str]) -> None:
        batch.rows(t["conversion_enrollments"], "enrollment_id").prefetch(
            e.originator_id for e in events if isinstance(e, E.Migrated | E.GoalReached))

    def _enrolled(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        b.rows(t["conversion_enrollments"], "enrollment_id").put(e.originator_id, {
            "enrollment_id": str(e.originator_id), "tenant_id": e.tenant_id,
            "contact_id": e.contact_id, "sequence_id": str(e.sequence_id),
            "revision": e.revision, "entered_at": e.entered_at or e.at,
            "holdout": bool(getattr(e, "holdout", False))})

    def _migrated(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        enrollments = b.rows(t["conversion_enrollments"], "enrollment_id")
        found = enrollments.get(e.originator_id)
        if found is not None:
            enrollments.put(e.originator_id, {**found, "revision": e.to_revision})

    def _converted(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        found = b.rows(t["conversion_enrollments"], "enrollment_id").get(e.originator_id)
        if found is None:
            return  # cannot happen in a complete log; never invent an enrollment
        entered = as_datetime(found["entered_at"])
        seconds = (e.occurred_at - entered).total_seconds() if entered else 0.0
        b.rows(t["conversions"], "enrollment_id").put(e.originator_id, {
            "enrollment_id": str(e.originator_id), "tenant_id": found["tenant_id"],
            "contact_id": found["contact_id"], "sequence_id": found["sequence_id"],
            "revision": e.revision, "event_id": e.event_id, "event_type": e.event_type,
            "occurred_at": e.occurred_at, "message_id": e.message_id, "step_id": e.step_id,
            "step_order": e.step_order, "variant": e.variant, "holdout": e.holdout,
            "is_exclusive": e.exclusive, "seconds_to_convert": max(seconds, 0.0),
            "recorded_at": e.at})
