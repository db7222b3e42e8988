"""``templates``: each tenant's own templates (CAPABILITIES §5), one row per template, the
body as JSON; deleted ones are removed. The built-ins live in code and are merged in at query
time (``projections.sql_queries``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from domain.step_template import StepTemplate
from projections.batch import Batch
from projections.models.base import Handler, ReadModel, dumps

T = StepTemplate


class TemplatesModel(ReadModel):
    name = "templates"
    table_bases = ("templates",)
    keys: ClassVar[Mapping[str, str]] = {"templates": "template_id"}
    schema = (
        "CREATE TABLE IF NOT EXISTS {templates} (template_id TEXT PRIMARY KEY, "
        "tenant_id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, "
        "search TEXT NOT NULL, category TEXT NOT NULL, body TEXT NOT NULL, "
        "version BIGINT NOT NULL, cloned_from TEXT, created_at TIMESTAMPTZ NOT NULL, "
        "updated_at TIMESTAMPTZ NOT NULL)",
        "CREATE INDEX IF NOT EXISTS {templates}_by_tenant "
        "ON {templates} (tenant_id, kind, category, name, template_id)",
    )

    def build_handlers(self) -> Mapping[type[Any], Handler]:
        return {T.Created: self._created, T.Updated: self._updated, T.Deleted: self._deleted}

    def prefetch(self, batch: Batch, events: Sequence[Any], t: Mapping[str, str]) -> None:
        batch.rows(t["templates"], "template_id").prefetch(
            e.originator_id for e in events if isinstance(e, T.Updated))

    def _created(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        b.rows(t["templates"], "template_id").put(e.originator_id, {
            "template_id": str(e.originator_id), "tenant_id": e.tenant_id, "kind": e.kind,
            **_described(e.body), "version": e.originator_version,
            "cloned_from": e.cloned_from, "created_at": e.at, "updated_at": e.at})

    def _updated(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        rows = b.rows(t["templates"], "template_id")
        found = rows.get(e.originator_id)
        if found is not None:
            rows.put(e.originator_id, {**found, **_described(e.body),
                                       "version": e.originator_version, "updated_at": e.at})

    def _deleted(self, b: Batch, e: Any, t: Mapping[str, str]) -> None:
        b.rows(t["templates"], "template_id").delete(e.originator_id)


def _described(body: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": body["name"], "category": body["category"], "body": dumps(body),
            "search": f"{body['name']}\n{body.get('description', '')}".lower()}
