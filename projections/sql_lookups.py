"""``domain.lookups.Lookups`` over the read models: what the application asks before it
decides (which sequences a trigger starts, which enrollments a reply ends). Answers may lag;
the application re-checks each aggregate, so a stale answer can only delay an effect.

With ``catch_up`` set (the embedded single process, and read-your-writes) each answer first
brings the models it reads up to the store's head, so a sequence activated a moment ago is
seen by the next CRM event."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from uuid import UUID

from projections import generations as gens
from projections.db import ReadDb
from projections.models.base import table_name

_TRIGGER_FACTS = {  # trigger key -> (table, column)
    "tag_id": ("contact_tags", "tag_key"), "tag_name": ("contact_tags", "tag_name"),
    "list_id": ("contact_lists", "list_id"), "form_id": ("contact_forms", "form_id"),
    "pipeline_id": ("contact_pipelines", "pipeline_id"),
}


class SqlLookups:
    def __init__(self, db: ReadDb,
                 catch_up: Callable[[Sequence[str]], None] | None = None) -> None:
        self.db = db
        self._catch_up = catch_up

    def _table(self, model: str, base: str) -> str:
        if self._catch_up is not None:
            self._catch_up([model])
        return table_name(base, gens.live_generation(self.db, model).generation)

    def active_sequences_for_trigger(self, tenant_id: str, trigger_type: str) -> list[UUID]:
        table = self._table("sequences", "sequences")
        found = self.db.read(f"SELECT sequence_id FROM {table} WHERE tenant_id = %s AND "
                             "status = 'active' AND trigger_type = %s ORDER BY sequence_id",
                             [tenant_id, trigger_type])
        return [UUID(r["sequence_id"]) for r in found]

    def open_enrollments_of_contact(self, tenant_id: str, contact_id: str) -> list[UUID]:
        table = self._table("enrollments", "enrollments")
        found = self.db.read(f"SELECT enrollment_id FROM {table} WHERE tenant_id = %s AND "
                             "contact_id = %s AND status IN ('active', 'paused') "
                             "ORDER BY enrollment_id", [tenant_id, contact_id])
        return [UUID(r["enrollment_id"]) for r in found]

    def open_enrollments_of_sequence(self, sequence_id: UUID) -> list[UUID]:
        table = self._table("enrollments", "enrollments")
        found = self.db.read(f"SELECT enrollment_id FROM {table} WHERE sequence_id = %s AND "
                             "status IN ('active', 'paused') ORDER BY enrollment_id",
                             [str(sequence_id)])
        return [UUID(r["enrollment_id"]) for r in found]

    def contacts_matching_trigger(self, tenant_id: str, trigger_type: str,
                                  trigger_data: Mapping[str, str]) -> list[str]:
        contacts = self._table("contacts", "contacts")
        generation = gens.live_generation(self.db, "contacts").generation
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
