"""Which arm of each experiment an enrollment gets, and whether it is held out
(CAPABILITIES §1, rule 1): SHA-256 of the tenant, the sequence, the experiment (or the word
``holdout``) and the contact, so the answer never depends on batching, on the process or on
the time, and a contact enrolled again lands where it landed before. Decided once, at
enrollment, and recorded on ``sequence.contact_enrolled``; replay reads it, never recomputes.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from domain.sequence import Revision

BUCKETS = 10_000


def bucket(tenant_id: str, sequence_id: UUID, salt: str, contact_id: str) -> int:
    """``int(sha256("{tenant}/{sequence_id}/{salt}/{contact_id}")[:16 hex], 16) % 10000``."""
    text = f"{tenant_id}/{sequence_id}/{salt}/{contact_id}"
    return int(hashlib.sha256(text.encode()).hexdigest()[:16], 16) % BUCKETS


def held_out(tenant_id: str, sequence_id: UUID, contact_id: str, percent: int) -> bool:
    return bucket(tenant_id, sequence_id, "holdout", contact_id) < percent * 100


def split_arm(arms: list[dict[str, Any]], b: int) -> str:
    """Arms take consecutive ranges of ``weight * 100`` buckets in their listed order."""
    upper = 0
    for arm in arms:
        upper += arm["weight"] * 100
        if b < upper:
            return str(arm["key"])
    return str(arms[-1]["key"])  # weights sum to 100: unreachable


def assign(tenant_id: str, sequence_id: UUID, revision: Revision, contact_id: str,
           ) -> tuple[bool, dict[str, dict[str, str]]]:
    """(held out, {experiment id: {"arm", "by"}}) for a new enrollment on ``revision``. A
    held-out enrollment is in no arm; after a winner, new enrollments get it."""
    if held_out(tenant_id, sequence_id, contact_id, revision.holdout_percent):
        return True, {}
    assignments: dict[str, dict[str, str]] = {}
    for exp in revision.experiments:
        winner = revision.winner_of(exp["id"])
        if winner is not None:
            assignments[exp["id"]] = {"arm": winner, "by": "winner"}
        else:
            arm = split_arm(exp["arms"], bucket(tenant_id, sequence_id, exp["id"], contact_id))
            assignments[exp["id"]] = {"arm": arm, "by": "split"}
    return False, assignments


def holdout_due(enrolled_at: datetime, revision: Revision) -> datetime:
    """A held-out enrollment's one due time: the nominal sum of the step delays."""
    return enrolled_at + sum((s.delay for s in revision.steps), timedelta())
