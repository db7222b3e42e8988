"""Queries of the "why" view and the stuck detector against the aggregates (never a read
model): one enrollment explained from its own events, and which of a list of candidates the
aggregates confirm are still overdue."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from domain import ids
from domain.app_base import Core
from domain.contact import Contact
from domain.enrollment import Enrollment
from domain.errors import EnrollmentNotFoundError
from domain.migration import migration_id
from domain.sequence import DripSequence
from domain.why import Context, Explanation, explain, overdue_past


@dataclass(frozen=True)
class Overdue:
    """An enrollment its aggregate confirms is active and overdue."""

    enrollment: Enrollment
    overdue_seconds: int
    sequence_missing: bool


def _rebuilt(events: list[Any]) -> Enrollment | None:
    """The enrollment its events make (None: they make none)."""
    aggregate: Any = None
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate if isinstance(aggregate, Enrollment) else None


class WhyQueries:
    def __init__(self, core: Core, events: Callable[[UUID], list[Any]]) -> None:
        self.core = core
        self.events = events  # an aggregate's stored events, oldest first

    def explain(self, tenant_id: str, enrollment_id: UUID, stuck_after: timedelta,
                suspected_cause: Callable[[], str] | None = None) -> Explanation:
        """``suspected_cause`` is asked only when the enrollment is stuck. The state and the
        timeline come from one read of the enrollment's events, so a commit in between cannot
        make them disagree."""
        events = self.events(enrollment_id)
        e = _rebuilt(events)
        if e is None or e.tenant_id != tenant_id:
            raise EnrollmentNotFoundError(f"enrollment {enrollment_id} not found")
        uow = self.core.reader()
        try:
            found = uow.load([e.sequence_id, ids.contact_id(tenant_id, e.contact_id)])
        finally:
            uow.discard()
        sequence = found.get(e.sequence_id)
        contact = found.get(ids.contact_id(tenant_id, e.contact_id))
        seq = sequence if isinstance(sequence, DripSequence) else None
        now = self.core.clock()
        overdue = (e.status == "active" and e.next_scheduled_at is not None
                   and overdue_past(e.next_scheduled_at, now, stuck_after))
        ctx = Context(
            revision=(seq.pinned(e.revision).journey(e.assignments) if seq is not None
                      else None),
            contact_timezone=contact.timezone if isinstance(contact, Contact) else None,
            migrating_to=self._migrating_to(seq, e.revision), now=now,
            stuck_after=stuck_after,
            suspected_cause=(("sequence_missing" if seq is None else None)
                             or (suspected_cause() if overdue and suspected_cause else None)))
        return explain(e, events, ctx)

    def tenant_of(self, enrollment_id: UUID) -> str | None:
        """The tenant of an enrollment (None: no such enrollment), for operators' tools that
        name an enrollment by its id alone."""
        uow = self.core.reader()
        try:
            e = uow.get(enrollment_id, Enrollment)
        finally:
            uow.discard()
        return e.tenant_id if e is not None else None

    def _migrating_to(self, sequence: DripSequence | None, revision: int) -> int | None:
        if sequence is None or sequence.current.number <= revision:
            return None
        running = set(self.core.store.running_migrations())
        return next((r for r in range(sequence.current.number, revision, -1)
                     if migration_id(sequence.id, r) in running), None)

    def confirm_overdue(self, tenant_id: str | None, candidates: Collection[UUID],
                        older_than: timedelta) -> list[Overdue]:
        """Those of ``candidates`` (of ``tenant_id``, or of any tenant when None) whose
        aggregate is active and due more than ``older_than`` ago, in the order given."""
        now = self.core.clock()
        uow = self.core.reader()
        try:
            loaded = uow.load(candidates)
            enrollments = [e for e in (loaded.get(c) for c in candidates)
                           if isinstance(e, Enrollment)
                           and (tenant_id is None or e.tenant_id == tenant_id)]
            overdue = [e for e in enrollments if e.status == "active"
                       and e.next_scheduled_at is not None
                       and overdue_past(e.next_scheduled_at, now, older_than)]
            sequences = uow.load({e.sequence_id for e in overdue})
        finally:
            uow.discard()
        return [Overdue(e, int((now - e.next_scheduled_at).total_seconds()),
                        not isinstance(sequences.get(e.sequence_id), DripSequence)
                        or getattr(sequences[e.sequence_id], "status", "") == "deleted")
                for e in overdue if e.next_scheduled_at is not None]
