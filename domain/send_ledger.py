"""Per-contact and per-minute counts that frequency caps and throttles decide on
(CAPABILITIES §4), each an aggregate written in the same transaction as the message requests
it counts: two schedulers sending to one contact, or in one minute, collide on its version.

``SendLedger`` (per tenant and contact) keeps the contact's counted sends that any allowed
window can still see (``caps.LEDGER_HORIZON``), so its state stays small however long it
lives; it snapshots like a contact. ``ThrottleBucket`` (per tenant, channel and UTC minute)
counts the slots reserved in that minute: one event per bucket per batch."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain import ids
from domain.caps import LEDGER_HORIZON
from domain.codec import Creation, trigger


def ledger_id(tenant_id: str, contact_id: str) -> UUID:
    return ids.derive("send_ledger", tenant_id, contact_id)


def bucket_id(tenant_id: str, channel: str, minute: datetime) -> UUID:
    return ids.derive("throttle_bucket", tenant_id, channel, minute.isoformat())


class SendLedger(Aggregate):
    TOPIC = "dripline.SendLedger"

    class Created(Creation, Aggregate.Created):
        TOPIC = "ledger.created"
        tenant_id: str
        contact_id: str
        at: datetime

        def apply(self, s: Any) -> None:
            s.tenant_id, s.contact_id, s.sends = self.tenant_id, self.contact_id, []

    class SendCounted(Aggregate.Event):
        TOPIC = "ledger.send_counted"
        message_id: str
        sequence_id: UUID
        channel: str
        at: datetime

        def apply(self, s: Any) -> None:
            horizon = self.at - LEDGER_HORIZON
            s.sends = [x for x in s.sends if x[0] > horizon]
            s.sends.append((self.at, self.channel))

    if TYPE_CHECKING:
        tenant_id: str
        contact_id: str
        sends: list[tuple[datetime, str]]  # (at, channel), oldest first

    @classmethod
    def start(cls, tenant_id: str, contact_id: str, at: datetime) -> SendLedger:
        return cls._create(cls.Created, id=ledger_id(tenant_id, contact_id), tenant_id=tenant_id,
                           contact_id=contact_id, at=at, timestamp=at)

    def count(self, message_id: str, sequence_id: UUID, channel: str, at: datetime) -> None:
        trigger(self, self.SendCounted, {"message_id": message_id, "sequence_id": sequence_id,
                                         "channel": channel, "at": at})

    # --- snapshots (``domain.snapshots``) ----------------------------------------------------

    def snapshot_state(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id, "contact_id": self.contact_id,
                "sends": [[at.isoformat(), ch] for at, ch in self.sends]}

    def restore_state(self, state: dict[str, Any]) -> None:
        self.tenant_id, self.contact_id = state["tenant_id"], state["contact_id"]
        self.sends = [(datetime.fromisoformat(at), ch) for at, ch in state["sends"]]


class ThrottleBucket(Aggregate):
    TOPIC = "dripline.ThrottleBucket"

    class Created(Creation, Aggregate.Created):
        TOPIC = "throttle.bucket_opened"
        tenant_id: str
        channel: str
        minute: datetime
        at: datetime

        def apply(self, b: Any) -> None:
            b.tenant_id, b.channel, b.minute, b.reserved = (self.tenant_id, self.channel,
                                                            self.minute, 0)

    class Reserved(Aggregate.Event):
        TOPIC = "throttle.reserved"
        count: int
        enrollment_ids: list[str]
        at: datetime

        def apply(self, b: Any) -> None:
            b.reserved += self.count

    if TYPE_CHECKING:
        tenant_id: str
        channel: str
        minute: datetime
        reserved: int

    @classmethod
    def open(cls, tenant_id: str, channel: str, minute: datetime, at: datetime
             ) -> ThrottleBucket:
        return cls._create(cls.Created, id=bucket_id(tenant_id, channel, minute),
                           tenant_id=tenant_id, channel=channel, minute=minute, at=at,
                           timestamp=at)

    def reserve(self, enrollment_ids: list[str], at: datetime) -> None:
        trigger(self, self.Reserved, {"count": len(enrollment_ids),
                                      "enrollment_ids": enrollment_ids, "at": at})
