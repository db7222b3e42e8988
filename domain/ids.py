"""Deterministic identifiers: the same inputs always give the same id, so a retried command
or a redelivered event finds the aggregate it made the first time instead of making another.
"""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID, uuid5

NAMESPACE = UUID("6f1c1d7e-3b4a-4f0e-9a57-d1f1e0c0a001")


def enrollment_id(sequence_id: UUID, contact_id: str, number: int) -> UUID:
    """The ``number``-th enrollment (1-based) of a contact in a sequence."""
    return uuid5(NAMESPACE, f"enrollment/{sequence_id}/{contact_id}/{number}")


@lru_cache(maxsize=65_536)  # looked up twice per executed step: uuid5 hashes each time
def contact_id(tenant_id: str, crm_contact_id: str) -> UUID:
    return uuid5(NAMESPACE, f"contact/{tenant_id}/{crm_contact_id}")


def message_id(enrollment: UUID, step_order: int, attempt: int) -> str:
    """Same enrollment, step and attempt → same id, so receivers can deduplicate. The id
    names its enrollment, so delivery feedback finds it without a lookup."""
    return f"{enrollment}:{step_order}:{attempt}"


def enrollment_of_message(message_id: str) -> UUID | None:
    head = message_id.split(":", 1)[0]
    try:
        return UUID(head)
    except ValueError:
        return None
