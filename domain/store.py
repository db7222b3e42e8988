"""What the application needs of its store (implemented in ``projections.storage`` for SQLite
and PostgreSQL, and chosen by the composition root): read streams many at a time, and write
one unit of work's events together with everything that must change with them.

Besides the events, a write carries the *write-side indexes*: small tables that decisions
read (which enrollments of a contact are open, which enrollments are due, which sequences a
trigger starts, which sequences have a goal of an event type, which CRM event ids were
applied). They are written in the same transaction
as the events that move them, so a decision never waits for, or is misled by, a lagging read
model (CONVENTIONS 13). A write can also carry *expectations*: the versions of aggregates a
decision read without changing them, and the trigger epochs of the tenants it looked at; if
any moved on before the write, nothing is written and ``StaleDecisionError`` is raised, so
the caller decides again on the new facts.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent, Tracking


class StaleDecisionError(IntegrityError):
    """Something a decision read changed before it could be written: decide again."""


@dataclass(frozen=True)
class EnrollmentRow:
    """An open enrollment as the index knows it; ``due_at`` only while it is active and has
    something due."""

    enrollment_id: UUID
    tenant_id: str
    sequence_id: UUID
    contact_id: str
    status: str
    due_at: datetime | None


@dataclass(frozen=True)
class MessageRow:
    """A message request, as replies and unsubscribes are attributed by it."""

    tenant_id: str
    contact_id: str
    channel: str
    requested_at: datetime
    message_id: str


@dataclass(frozen=True)
class TriggerRow:
    """An active sequence that a CRM event can start."""

    sequence_id: UUID
    tenant_id: str
    trigger_type: str


@dataclass(frozen=True)
class TriggerView:
    sequences: Mapping[str, list[TriggerRow]]  # by tenant
    epochs: Mapping[str, int]  # by tenant: what a write expects unchanged


@dataclass(frozen=True)
class GoalRow:
    """A sequence one of whose published revisions has a goal of this CRM event type."""

    sequence_id: UUID
    tenant_id: str
    event_type: str


@dataclass(frozen=True)
class GoalView:
    sequences: Mapping[str, list[GoalRow]]  # by tenant
    epochs: Mapping[str, int]  # by tenant (the trigger epochs: every sequence change moves them)


@dataclass
class WriteBatch:
    events: list[StoredEvent] = field(default_factory=list)
    tracking: Tracking | None = None
    open_enrollments: list[EnrollmentRow] = field(default_factory=list)  # upserted
    ended_enrollments: list[UUID] = field(default_factory=list)  # removed from the index
    triggers: list[TriggerRow] = field(default_factory=list)  # upserted
    untriggered: list[UUID] = field(default_factory=list)  # sequences no longer triggering
    regoaled: list[UUID] = field(default_factory=list)  # sequences whose goal rows are replaced
    goals: list[GoalRow] = field(default_factory=list)  # their rows now
    bump_epochs: set[str] = field(default_factory=set)  # tenants whose trigger set changed
    seen: list[tuple[UUID, str]] = field(default_factory=list)  # (contact stream, event id)
    running_migrations: list[tuple[UUID, UUID]] = field(default_factory=list)  # (id, sequence)
    message_requests: list[MessageRow] = field(default_factory=list)
    finished_migrations: list[UUID] = field(default_factory=list)
    expect_versions: dict[UUID, int] = field(default_factory=dict)
    expect_epochs: dict[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.events or self.tracking or self.seen)


class EventStore(Protocol):
    def write(self, batch: WriteBatch) -> list[int]:
        """Commit everything in ``batch`` in one transaction; the new events' positions.
        Raises IntegrityError on a version conflict or a repeated tracking position, and
        StaleDecisionError when an expectation does not hold."""
        ...

    def read_streams(self, after: Mapping[UUID, int]) -> dict[UUID, list[StoredEvent]]:
        """The events of each stream with a version above ``after[id]``, oldest first."""
        ...

    def read_first(self, ids: Collection[UUID]) -> dict[UUID, StoredEvent]:
        """Each stream's first event (its ``Created``: the aggregate's identity)."""
        ...

    def read_snapshots(self, ids: Collection[UUID]) -> dict[UUID, StoredEvent]:
        """The latest snapshot of each of these streams that has one."""
        ...

    def write_snapshots(self, snapshots: Sequence[StoredEvent]) -> None: ...

    def seen(self, keys: Collection[tuple[UUID, str]]) -> set[tuple[UUID, str]]:
        """Which of these (contact stream, CRM event id) pairs were applied already."""
        ...

    def open_enrollments_of_contacts(self, tenant_id: str,
                                     contact_ids: Collection[str]) -> list[EnrollmentRow]: ...

    def open_enrollments_of_sequence(self, sequence_id: UUID, after: str = "",
                                     limit: int | None = None) -> list[EnrollmentRow]:
        """Ordered by enrollment id (as text), those after ``after``, at most ``limit``."""
        ...

    def recent_messages(self, tenant_id: str, contact_ids: Collection[str],
                        since: datetime) -> list[MessageRow]:
        """The message requests of these contacts at or after ``since``."""
        ...

    def running_migrations(self) -> list[UUID]:
        """The revision migrations started and not finished, oldest id first."""
        ...

    def last_positions(self, ids: Collection[UUID]) -> dict[UUID, int]:
        """Each of these streams' latest event's position in the notification log (a stream
        with no events is left out)."""
        ...

    def due_enrollments(self, until: datetime, limit: int,
                        offset: int = 0) -> list[EnrollmentRow]:
        """Active enrollments due at or before ``until``, oldest due first."""
        ...

    def trigger_view(self, tenants: Collection[str]) -> TriggerView: ...

    def goal_view(self, tenants: Collection[str]) -> GoalView:
        """The goal index of these tenants, with their trigger epochs."""
        ...

    def max_notification_id(self) -> int | None: ...
