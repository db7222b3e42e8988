"""``contacts``: the CRM facts that decide who already matches a trigger (tags by id and
name, lists, forms submitted, pipelines), for the activation workflow's "enroll existing".
Its handlers only write, so their statements are deferred and sent together at the end of
the batch, in event order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from domain.contact import Contact
from projections.batch import Batch
from projections.models.base import Handler, ReadModel

C = Contact

_FACT_TABLES = ("contact_tags", "contact_lists", "contact_forms", "contact_pipelines")


class ContactsModel(ReadModel):
    name = "contacts"
    table_bases = ("contacts", *_FACT_TABLES)
    keys: ClassVar[Mapping[str, str]] = {
        "contacts": "contact_uuid", "contact_tags": "contact_uuid, tag_key",
        "contact_lists": "contact_uuid, list_id", "contact_forms": "contact_uuid, form_id",
            "contact_pipelines": "contact_uuid, pipeline_id"}
    schema = (
        "CREATE TABLE IF NOT EXISTS {contacts} (contact_uuid TEXT PRIMARY KEY, "
        "tenant_id TEXT NOT NULL, contact_id TEXT NOT NULL, deleted BOOLEAN NOT NULL, "
        "unsubscribed_all BOOLEAN NOT NULL)",
        "CREATE TABLE IF NOT EXISTS {contact_tags} (contact_uuid TEXT NOT NULL, "
        "tag_key TEXT NOT NULL, tag_name TEXT NOT NULL, PRIMARY KEY (contact_uuid, tag_key))",
        "CREATE TABLE IF NOT EXISTS {contact_lists} (contact_uuid TEXT NOT NULL, "
        "list_id TEXT NOT NULL, PRIMARY KEY (contact_uuid, list_id))",
        "CREATE TABLE IF NOT EXISTS {contact_forms} (contact_uuid TEXT NOT NULL, "
        "form_id TEXT NOT NULL, PRIMARY KEY (contact_uuid, form_id))",
        "CREATE TABLE IF NOT EXISTS {contact_pipelines} (contact_uuid TEXT NOT NULL, "
        "pipeline_id TEXT NOT NULL, status TEXT NOT NULL, "
        "PRIMARY KEY (contact_uuid, pipeline_id))",
        "CREATE INDEX IF NOT EXISTS {contacts}_by_tenant ON {contacts} (tenant_id)",
        "CREATE INDEX IF NOT EXISTS {contact_tags}_by_name ON {contact_tags} (tag_name)",
        "CREATE INDEX IF NOT EXISTS {contact_lists}_by_id ON {contact_lists} (list_id)",
        "CREATE INDEX IF NOT EXISTS {contact_forms}_by_id ON {contact_forms} (form_id)",
        "CREATE INDEX IF NOT EXISTS {contact_pipelines}_by_id "
        "ON {contact_pipelines} (pipeline_id)",
    )

    def build_handlers(self) -> Mapping[type[Any], Handler]:
        return {C.Created: self._created, C.TagAdded: self._tag_added,
                C.TagRemoved: self._tag_removed, C.ListJoined: self._list_joined,
                C.FormSubmitted: self._form_submitted,
                C.PipelineStatusChanged: self._pipeline, C.Unsubscribed: self._unsubscribed,
                C.Deleted: self._deleted, C.Retired: self._retired}

    def _created(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        b.defer(f"INSERT INTO {t['contacts']} VALUES (%s, %s, %s, FALSE, FALSE)",
                   [e.originator_id, e.tenant_id, e.contact_id])

    def _upsert(self, b: Batch, table: str, key: str, values: list[Any],
                update: str = "") -> None:
        marks = ", ".join(["%s"] * len(values))
        action = f"DO UPDATE SET {update}" if update else "DO NOTHING"
        b.defer(f"INSERT INTO {table} VALUES ({marks}) ON CONFLICT (contact_uuid, {key}) "
                   f"{action}", values)

    # Same keying as the aggregate: a tag is known by its id, or by its name when the CRM
    # sent no id.
    def _tag_added(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        self._upsert(b, t["contact_tags"], "tag_key",
                     [e.originator_id, e.tag_id or e.tag_name, e.tag_name or e.tag_id],
                     "tag_name = excluded.tag_name")

    def _tag_removed(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        b.defer(f"DELETE FROM {t['contact_tags']} WHERE contact_uuid = %s AND tag_key = %s",
                   [e.originator_id, e.tag_id or e.tag_name])
        if not e.tag_id:
            b.defer(f"DELETE FROM {t['contact_tags']} WHERE contact_uuid = %s "
                       "AND tag_name = %s", [e.originator_id, e.tag_name])

    def _list_joined(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        self._upsert(b, t["contact_lists"], "list_id", [e.originator_id, e.list_id])

    def _form_submitted(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        self._upsert(b, t["contact_forms"], "form_id", [e.originator_id, e.form_id])

    def _pipeline(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        self._upsert(b, t["contact_pipelines"], "pipeline_id",
                     [e.originator_id, e.pipeline_id, e.status], "status = excluded.status")

    def _unsubscribed(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        if not e.channel or e.channel == "all":
            b.defer(f"UPDATE {t['contacts']} SET unsubscribed_all = TRUE "
                       "WHERE contact_uuid = %s", [e.originator_id])

    def _retired(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        for table in ("contacts", *_FACT_TABLES):
            b.defer(f"DELETE FROM {t[table]} WHERE contact_uuid = %s", [e.originator_id])

    def _deleted(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        b.defer(f"UPDATE {t['contacts']} SET deleted = TRUE WHERE contact_uuid = %s",
                   [e.originator_id])
