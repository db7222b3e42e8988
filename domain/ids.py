"""Deterministic identifiers: the same inputs always give the same id, so a retried command
or a redelivered event finds the aggregate it made the first time instead of making another.

Every derived id is built from unambiguous parts: each part is prefixed with its length, so
no choice of tenant, contact or sequence id can make two different inputs read as the same
text (CONVENTIONS 14). Tenant and contact ids are also validated where they enter
(``domain.validation``). A ``message_id`` joins a UUID and two integers with ``:``, which none
of them can contain: it stays as readable as the contract (DESIGN 3.2) shows it.
"""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID, uuid5

NAMESPACE = UUID("6f1c1d7e-3b4a-4f0e-9a57-d1f1e0c0a001")


def derive(kind: str, *parts: str) -> UUID:
    """A UUID for ``kind`` from ``parts``, each length-prefixed: ("a/b", "c") and
    ("a", "b/c") never meet."""
    return uuid5(NAMESPACE, "v2/" + kind + "".join(f"/{len(p)}:{p}" for p in parts))


@lru_cache(maxsize=65_536)  # looked up several times per event: uuid5 hashes each time
def contact_id(tenant_id: str, crm_contact_id: str) -> UUID:
    return derive("contact", tenant_id, crm_contact_id)


@lru_cache(maxsize=65_536)  # an intake batch asks for the slots of its triggers twice
def slot_id(sequence_id: UUID, contact_id: str) -> UUID:
    """The stream saying which enrollment of a contact in a sequence is current."""
    return derive("slot", str(sequence_id), contact_id)


def enrollment_id(sequence_id: UUID, contact_id: str, number: int) -> UUID:
    """The ``number``-th enrollment (1-based) of a contact in a sequence."""
    return derive("enrollment", str(sequence_id), contact_id, str(number))


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
