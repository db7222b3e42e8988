"""A tenant's own template, of a step or of a whole sequence (CAPABILITIES §5): created,
replaced field by field, deleted. Its body is validated before it is recorded
(``domain.template_library.validate``); the events carry the whole new body, so a read model
or a copy never has to merge."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.codec import Creation, trigger
from domain.errors import StateConflictError


class StepTemplate(Aggregate):
    TOPIC = "dripline.StepTemplate"

    class Event(Aggregate.Event):
        at: datetime

    class Created(Creation, Aggregate.Created):
        TOPIC = "template.created"
        tenant_id: str
        kind: str
        body: dict[str, Any]
        at: datetime
        cloned_from: str | None = None

        def apply(self, t: Any) -> None:
            t.tenant_id, t.kind, t.body = self.tenant_id, self.kind, dict(self.body)
            t.cloned_from = self.cloned_from
            t.status = "active"
            t.created_at = t.updated_at = self.at

    class Updated(Event):
        TOPIC = "template.updated"
        body: dict[str, Any]
        changed: list[str]

        def apply(self, t: Any) -> None:
            t.body = dict(self.body)
            t.updated_at = self.at

    class Deleted(Event):
        TOPIC = "template.deleted"

        def apply(self, t: Any) -> None:
            t.status = "deleted"
            t.updated_at = self.at

    if TYPE_CHECKING:  # set by ``Created.apply``
        tenant_id: str
        kind: str
        body: dict[str, Any]
        cloned_from: str | None
        status: str
        created_at: datetime
        updated_at: datetime

    @classmethod
    def start(cls, *, id: UUID, tenant_id: str, kind: str, body: dict[str, Any],
              at: datetime, cloned_from: str | None = None) -> StepTemplate:
        return cls._create(cls.Created, id=id, tenant_id=tenant_id, kind=kind, body=body,
                           at=at, cloned_from=cloned_from, timestamp=at)

    def replace_body(self, body: dict[str, Any], at: datetime) -> None:
        self._require_active()
        changed = sorted(k for k in body.keys() | self.body.keys()
                         if body.get(k) != self.body.get(k))
        if changed:
            trigger(self, self.Updated, {"body": body, "changed": changed, "at": at})

    def delete(self, at: datetime) -> None:
        self._require_active()
        trigger(self, self.Deleted, {"at": at})

    def _require_active(self) -> None:
        if self.status != "active":
            raise StateConflictError(f"template {self.id} is deleted")
