"""What the application asks of the read models (implemented in ``projections``).

Only one decision reads a read model: which contacts' known facts already match a trigger
(``activate`` with ``enroll_existing``), since nothing else indexes contacts by tag, list or
form. Every other decision reads aggregates or the write-side indexes (``domain.store``).
``at_least`` is the store position the answer must include: the implementation brings the
read model there (or waits for it) before answering, so a lagging projector can delay the
answer but never leave a contact out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class Lookups(Protocol):
    def contacts_matching_trigger(self, tenant_id: str, trigger_type: str,
                                  trigger_data: Mapping[str, str], at_least: int) -> list[str]:
        """Contacts whose mirror satisfies the trigger (has the tag, is in the list,
        submitted the form, is in the pipeline), as of store position ``at_least`` or later."""
        ...
