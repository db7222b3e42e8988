"""What the application asks of the read models (implemented in ``projections``).

Two decisions read a read model: which contacts' known facts already match a trigger
(``activate`` with ``enroll_existing``), since nothing else indexes contacts by tag, list or
form; and an experiment's look (``experiment_stats``, CAPABILITIES §1), whose counts are
recorded with it, so replay never reads them again. Every other decision reads aggregates
or the write-side indexes (``domain.store``).
``at_least`` is the store position the answer must include: the implementation brings the
read model there (or waits for it) before answering, so a lagging projector can delay the
answer but never leave a contact out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from domain.trials import Tally


class Lookups(Protocol):
    def contacts_matching_trigger(self, tenant_id: str, trigger_type: str,
                                  trigger_data: Mapping[str, str], at_least: int) -> list[str]:
        """Contacts whose mirror satisfies the trigger (has the tag, is in the list,
        submitted the form, is in the pipeline), as of store position ``at_least`` or later."""
        ...

    def experiments_with_members(self, at_least: int) -> list[tuple[str, UUID, int, str]]:
        """(tenant, sequence, revision, experiment) of every experiment anyone was assigned
        to, as far as the read model got (it may not have reached ``at_least``)."""
        ...

    def experiment_counts(self, tenant_id: str, sequence_id: UUID, revision: int,
                          experiment_id: str, arms: Sequence[str], metric: str,
                          window: timedelta, now: datetime, at_least: int) -> dict[str, Tally]:
        """The experiment's per-arm counts (``domain.trials.tally``) as of ``at_least``,
        counted by the ``experiment_stats`` read model."""
        ...
