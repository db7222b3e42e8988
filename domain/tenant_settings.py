"""The TenantSettings aggregate: one per tenant (a derived id), holding its time zone, its
frequency cap and its throttles (CAPABILITIES §4). Changed by ``update`` with the fields
given; each change is one ``tenant.settings_updated`` event naming what changed."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain import ids
from domain.caps import CapPolicy, Throttle
from domain.codec import Creation, trigger


def settings_id(tenant_id: str) -> UUID:
    return ids.derive("tenant_settings", tenant_id)


class TenantSettings(Aggregate):
    TOPIC = "dripline.TenantSettings"

    class Created(Creation, Aggregate.Created):
        TOPIC = "tenant.settings_created"
        tenant_id: str
        at: datetime

        def apply(self, s: Any) -> None:
            s.tenant_id, s.updated_at = self.tenant_id, self.at
            s.timezone, s.frequency_cap, s.throttle = None, None, None

    class Updated(Aggregate.Event):
        TOPIC = "tenant.settings_updated"
        changes: dict[str, Any]
        at: datetime

        def apply(self, s: Any) -> None:
            for key, value in self.changes.items():
                setattr(s, key, value)
            s.updated_at = self.at

    if TYPE_CHECKING:
        tenant_id: str
        timezone: str | None
        frequency_cap: dict[str, Any] | None
        throttle: dict[str, Any] | None
        updated_at: datetime

    @classmethod
    def start(cls, tenant_id: str, at: datetime) -> TenantSettings:
        return cls._create(cls.Created, id=settings_id(tenant_id), tenant_id=tenant_id, at=at,
                           timestamp=at)

    def update(self, changes: dict[str, Any], at: datetime) -> None:
        changed = {k: val for k, val in changes.items() if getattr(self, k) != val}
        if changed:
            trigger(self, self.Updated, {"changes": changed, "at": at})

    # --- what the execution of a step reads ---------------------------------------------------

    @property
    def cap(self) -> CapPolicy:
        return CapPolicy.from_stored(self.frequency_cap)

    @property
    def throttles(self) -> Throttle:
        return Throttle.from_stored(self.throttle)

    @property
    def gates_sends(self) -> bool:
        """Does any send of this tenant have to be counted or paced?"""
        return bool(self.cap.rules) or bool(self.throttle)
