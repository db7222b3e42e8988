"""``domain.lookups.Lookups`` over the ``contacts`` read model: which contacts' known facts
already match a trigger (the activation workflow's "enroll existing").

The answer must include every fact recorded up to a store position (the activation's): the
model is first brought there, by projecting it here (``catch_up``; positions are locked, so a
``dripline project`` running beside never double counts) or by waiting for the projector."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from domain.trials import Tally
from projections import experiment_rows
from projections import generations as gens
from projections.db import ReadDb
from projections.models.base import table_name

_TRIGGER_FACTS = {  # trigger key -> (table, column)
    "tag_id": ("contact_tags", "tag_key"), "tag_name": ("contact_tags", "tag_name"),
    "list_id": ("contact_lists", "list_id"), "form_id": ("contact_forms", "form_id"),
    "pipeline_id": ("contact_pipelines", "pipeline_id"),
}
MODEL = "contacts"


class Reach(Protocol):
    def __call__(self, names: list[str], position: int) -> None: ...


class SqlLookups:
    def __init__(self, db: ReadDb, reach: Reach | Callable[[list[str], int], None]) -> None:
        self.db = db
        self._reach = reach

    def contacts_matching_trigger(self, tenant_id: str, trigger_type: str,
                                  trigger_data: Mapping[str, str], at_least: int) -> list[str]:
        self._reach([MODEL], at_least)
        generation = gens.live_generation(self.db, MODEL).generation
        contacts = table_name("contacts", generation)
        where, params = ["c.tenant_id = %s", "c.deleted = FALSE"], [tenant_id]
        for key, value in sorted(trigger_data.items()):
            if key not in _TRIGGER_FACTS:
                continue  # descriptive keys (list_name, ...) do not decide a match
            base, column = _TRIGGER_FACTS[key]
            where.append(f"EXISTS (SELECT 1 FROM {table_name(base, generation)} f WHERE "
                         f"f.contact_uuid = c.contact_uuid AND f.{column} = %s)")
            params.append(value)
        if len(where) == 2:
            return []  # a trigger that names no source matches no one in particular
        found = self.db.read(f"SELECT c.contact_id FROM {contacts} c WHERE "
                             f"{' AND '.join(where)} ORDER BY c.contact_id", params)
        return [r["contact_id"] for r in found]

    def experiments_with_members(self, at_least: int) -> list[tuple[str, UUID, int, str]]:
        # Not brought to ``at_least``: asked every few minutes by every scheduler, it must
        # stay cheap where nobody tests anything; an experiment the projector has not shown
        # yet is looked at next time (a look may come later, never on fewer facts: its
        # members are read at ``at_least``).
        return experiment_rows.experiments(self.db)

    def experiment_counts(self, tenant_id: str, sequence_id: UUID, revision: int,
                          experiment_id: str, arms: Sequence[str], metric: str,
                          window: timedelta, now: datetime, at_least: int) -> dict[str, Tally]:
        self._reach([experiment_rows.MODEL], at_least)
        return experiment_rows.counts(self.db, tenant_id, sequence_id, revision,
                                      experiment_id, arms, metric, window, now)
