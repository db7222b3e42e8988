"""What the application asks of the read models (implemented in ``projections``).

These answers may lag the event store by moments; every decision that matters is checked
again against the aggregates themselves (at enrollment and at send time), so a stale answer
can delay an effect but never cause a wrong one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import StoredEvent

# Reads many aggregates' stored events in one go (built by the composition root for the
# configured database); returns None when it cannot, and the application reads one by one.
StreamReader = Callable[[Any, list[UUID]], dict[UUID, list[StoredEvent]] | None]


class Lookups(Protocol):
    def active_sequences_for_trigger(self, tenant_id: str, trigger_type: str) -> list[UUID]:
        """Active sequences of the tenant whose trigger type is ``trigger_type``."""
        ...

    def open_enrollments_of_contact(self, tenant_id: str, contact_id: str) -> list[UUID]:
        """Active or paused enrollments of the contact, in any sequence of the tenant."""
        ...

    def open_enrollments_of_sequence(self, sequence_id: UUID) -> list[UUID]:
        """Active or paused enrollments in the sequence."""
        ...

    def contacts_matching_trigger(self, tenant_id: str, trigger_type: str,
                                  trigger_data: Mapping[str, str]) -> list[str]:
        """Contacts whose mirror already satisfies the trigger (has the tag, is in the list,
        submitted the form, is in the pipeline): the activation workflow's eligible set."""
        ...
