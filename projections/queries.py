"""What the API and the scheduler read from the read models (all tenant-scoped here, in one
place: CONVENTIONS 9). Rows are plain dicts shaped like the API's resources (DESIGN 3.3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.trials import Tally


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    page: int
    limit: int


@dataclass(frozen=True)
class DueEnrollment:
    enrollment_id: UUID
    tenant_id: str
    sequence_id: UUID
    contact_id: str
    step_order: int
    due_at: datetime
    extra: dict[str, Any] = field(default_factory=dict)


class Queries(Protocol):
    def list_sequences(self, tenant_id: str, *, status: str | None = None,
                       trigger_type: str | None = None, page: int = 1,
                       limit: int = 50) -> Page: ...

    def get_sequence(self, tenant_id: str, sequence_id: UUID) -> dict[str, Any] | None:
        """None when the tenant has no such sequence (or it was deleted)."""
        ...

    def list_enrollments(self, tenant_id: str, sequence_id: UUID, *, status: str | None = None,
                         page: int = 1, limit: int = 50) -> Page: ...

    def contact_enrollments(self, tenant_id: str, contact_id: str, *,
                            status: str | None = None) -> list[dict[str, Any]]: ...

    def sequence_stats(self, tenant_id: str, sequence_id: UUID,
                       revision: int | None = None) -> dict[str, Any] | None:
        """None when the tenant has no such sequence. Every revision's counters added up
        (a step's by its id), or only revision ``revision``'s: its step funnel and skips,
        and the totals and exits of the enrollments on it (a migrated one counts under the
        revision it moved to)."""
        ...

    def revision_counts(self, tenant_id: str, sequence_id: UUID) -> dict[int, int]:
        """Open (active or paused) enrollments per revision they follow; revisions without
        any are left out."""
        ...

    def daily_stats(self, tenant_id: str, sequence_id: UUID, first: date, last: date,
                    zone: ZoneInfo, revision: int | None = None) -> list[dict[str, Any]]:
        """One item per local day of ``zone`` from ``first`` to ``last`` (inclusive)."""
        ...

    def list_messages(self, tenant_id: str, *, contact_id: str | None = None,
                      sequence_id: UUID | None = None, enrollment_id: UUID | None = None,
                      page: int = 1, limit: int = 50) -> Page: ...

    def list_conversions(self, tenant_id: str, *, contact_id: str | None = None,
                         sequence_id: UUID | None = None, since: datetime | None = None,
                         until: datetime | None = None, page: int = 1,
                         limit: int = 50) -> Page:
        """Conversions (goal event x enrollment), oldest first; ``since`` and ``until``
        bound the goal event's ``occurred_at`` (both inclusive)."""
        ...

    def conversion_stats(self, tenant_id: str, sequence_id: UUID,
                         revision: int | None = None) -> dict[str, Any]:
        """The ``conversions`` block of a sequence's statistics (all revisions, or one):
        ``projections.conversion_rows.stats``."""
        ...

    def list_templates(self, tenant_id: str, *, kind: str | None = None,
                       category: str | None = None, source: str | None = None,
                       q: str | None = None, page: int = 1, limit: int = 50) -> Page:
        """The built-ins (first) and the tenant's own templates, filtered; ``q`` looks in
        names and descriptions, case-insensitively."""
        ...

    def due_enrollments(self, now: datetime, limit: int = 500,
                        offset: int = 0) -> list[DueEnrollment]:
        """Active enrollments due at or before ``now``, oldest due first (all tenants),
        skipping the first ``offset``."""
        ...

    def experiment_counts(self, tenant_id: str, sequence_id: UUID, revision: int,
                          experiment_id: str, arms: Sequence[str], metric: str,
                          window: timedelta, now: datetime) -> dict[str, Tally]:
        """An experiment's per-arm counts at ``now`` (``domain.trials.tally``)."""
        ...
