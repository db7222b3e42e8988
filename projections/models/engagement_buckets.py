"""``engagement_buckets``: what happened in each sequence (and revision) per 15-minute UTC
bucket, so that a daily series is exact in any time zone (every zone's offset from UTC is a
multiple of 15 minutes: a bucket lies within one local day, wherever the day starts).

An event counts at its own time: ``occurred_at`` for the contact's feedback (opens, clicks,
attributed replies and unsubscribes) and conversions, the recorded time for the rest
(enrolled, sent, delivered, completed, exited). Late feedback therefore updates past days.
Enrollment events do not repeat their sequence: the model keeps each enrollment's tenant,
sequence and revision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from domain.enrollment import Enrollment
from projections.batch import Batch
from projections.models.base import Handler, ReadModel

E = Enrollment
BUCKET_SECONDS = 900
COUNTERS = ("enrolled", "sent", "delivered", "opened", "clicked", "replied", "unsubscribed",
            "converted", "completed", "exited")


def bucket_of(moment: datetime) -> int:
    """The 15-minute UTC bucket of an instant (its start, in seconds since the epoch, / 900)."""
    return int(moment.timestamp()) // BUCKET_SECONDS


class EngagementBucketsModel(ReadModel):
    name = "engagement_buckets"
    table_bases = ("eb_enrollments", "eb_buckets")
    keys: ClassVar[Mapping[str, str]] = {
        "eb_enrollments": "enrollment_id",
        "eb_buckets": "tenant_id, sequence_id, revision, bucket"}
    schema = (
        "CREATE TABLE IF NOT EXISTS {eb_enrollments} (enrollment_id TEXT PRIMARY KEY, "
        "tenant_id TEXT NOT NULL, sequence_id TEXT NOT NULL, revision INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {eb_buckets} (tenant_id TEXT NOT NULL, "
        "sequence_id TEXT NOT NULL, revision INTEGER NOT NULL, bucket BIGINT NOT NULL, "
        + ", ".join(f"{c} BIGINT NOT NULL" for c in COUNTERS)
        + ", PRIMARY KEY (tenant_id, sequence_id, revision, bucket))",
    )

    def build_handlers(self) -> Mapping[type[Any], Handler]:
        counted = (E.StepExecuted, E.MessageRequested, E.MessageDelivered, E.MessageOpened,
                   E.MessageClicked, E.ReplyAttributed, E.UnsubscribeAttributed,
                   E.GoalReached, E.Completed, E.Exited)
        return {E.Created: self._enrolled, E.Migrated: self._migrated,
                **dict.fromkeys(counted, self._counted)}

    def prefetch(self, batch: Batch, events: Sequence[Any], t: Mapping[str, str]) -> None:
        batch.rows(t["eb_enrollments"], "enrollment_id").prefetch(
            e.originator_id for e in events
            if isinstance(e, Enrollment.Event) and not isinstance(e, E.Created))

    @staticmethod
    def _add(b: Batch, t: Mapping[str, str], found: Mapping[str, Any], moment: datetime,
             counter: str) -> None:
        b.counters(t["eb_buckets"], ("tenant_id", "sequence_id", "revision", "bucket"),
                   COUNTERS, create=True).add(
            [found["tenant_id"], found["sequence_id"], int(found["revision"]),
             bucket_of(moment)], counter)

    def _enrolled(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        row = {"enrollment_id": str(e.originator_id), "tenant_id": e.tenant_id,
               "sequence_id": str(e.sequence_id), "revision": e.revision}
        b.rows(t["eb_enrollments"], "enrollment_id").put(e.originator_id, row)
        self._add(b, t, row, e.at, "enrolled")

    def _migrated(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        enrollments = b.rows(t["eb_enrollments"], "enrollment_id")
        found = enrollments.get(e.originator_id)
        if found is not None:
            enrollments.put(e.originator_id, {**found, "revision": e.to_revision})

    def _counted(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        found = b.rows(t["eb_enrollments"], "enrollment_id").get(e.originator_id)
        if found is None:
            return  # cannot happen in a complete log; never invent an enrollment
        if isinstance(e, E.MessageOpened):
            if not e.machine:
                self._add(b, t, found, e.occurred_at, "opened")
        elif isinstance(e, E.MessageClicked):
            if e.first and not e.bot:
                self._add(b, t, found, e.occurred_at, "clicked")
        elif isinstance(e, E.GoalReached):
            self._add(b, t, found, e.occurred_at, "converted")
        elif isinstance(e, E.ReplyAttributed | E.UnsubscribeAttributed):
            self._add(b, t, found, e.occurred_at,
                      "replied" if isinstance(e, E.ReplyAttributed) else "unsubscribed")
        else:
            counter = {E.StepExecuted: "sent", E.MessageRequested: "sent",
                       E.MessageDelivered: "delivered", E.Completed: "completed",
                       E.Exited: "exited"}[type(e)]
            self._add(b, t, found, e.at, counter)
