"""What frequency caps and throttles read and write while steps execute, for one unit of
work (CAPABILITIES §4): the tenants' settings (read once per tenant), the contacts' send
ledgers (read only for tenants with cap rules, so a tenant without caps pays nothing for
them) and the throttle buckets. Everything it changes is saved with the enrollments' own
events, in the same transaction; a version conflict on any of them decides a race.

Throttle slots taken in a batch are written as one ``throttle.reserved`` event per bucket,
just before the unit of work commits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID
from weakref import WeakKeyDictionary

from domain.enrollment import Enrollment
from domain.send_ledger import SendLedger, ThrottleBucket, bucket_id, ledger_id
from domain.tenant_settings import TenantSettings, settings_id
from domain.unit_of_work import UnitOfWork

_AHEAD = 16  # buckets read at once while looking for a minute with room
_HORIZON = 7 * 24 * 60  # minutes searched at most


@dataclass
class _Pending:
    tenant_id: str
    channel: str
    minute: datetime
    at: datetime
    enrollment_ids: list[str] = field(default_factory=list)


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


class SendGate:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self._pending: dict[UUID, _Pending] = {}
        self.capped: set[UUID] = set()  # enrollments a cap stopped in this unit of work
        # Per (tenant, channel, limit): the first minute that may have room; every minute
        # before it is full in this unit of work (reservations only grow), so no scan
        # starts before it.
        self._room: dict[tuple[str, str, int], datetime] = {}
        uow.before_commit.append(self._flush)

    @classmethod
    def of(cls, uow: UnitOfWork) -> SendGate:
        gate = _GATES.get(uow)
        if gate is None:
            gate = _GATES[uow] = cls(uow)
        return gate

    def prefetch(self, enrollments: Iterable[Enrollment]) -> None:
        """Read the settings of every tenant of a batch at once, then the ledgers of the
        contacts of tenants that cap."""
        batch = list(enrollments)
        self.uow.load({settings_id(e.tenant_id) for e in batch})
        capping = {t for t in {e.tenant_id for e in batch}
                   if (s := self.settings(t)) is not None and s.cap.rules}
        if capping:
            self.uow.load({ledger_id(e.tenant_id, e.contact_id) for e in batch
                           if e.tenant_id in capping})

    def settings(self, tenant_id: str) -> TenantSettings | None:
        found = self.uow.get(settings_id(tenant_id), TenantSettings)
        return found if found is not None and found.gates_sends else None

    # --- the ledger -------------------------------------------------------------------------

    def sends(self, e: Enrollment) -> list[tuple[datetime, str]]:
        ledger = self.uow.get(ledger_id(e.tenant_id, e.contact_id), SendLedger)
        return list(ledger.sends) if ledger is not None else []

    def count(self, e: Enrollment, message_id: str, channel: str, now: datetime) -> None:
        key = ledger_id(e.tenant_id, e.contact_id)
        ledger = self.uow.get(key, SendLedger)
        if ledger is None:
            ledger = SendLedger.start(e.tenant_id, e.contact_id, now)
            self.uow.add(ledger)
        ledger.count(message_id, e.sequence_id, channel, now)

    # --- throttle slots -----------------------------------------------------------------------

    def reserve(self, e: Enrollment, channel: str, per_minute: int, now: datetime
                ) -> tuple[datetime, datetime | None]:
        """Take the first free slot from this minute on: the time to send (``now`` when this
        minute has room, else the slot's even share of its minute) and the slot's minute.
        When every minute of the horizon is full, no slot is held (minute None): the time
        returned is when to look again, and the step reserves then."""
        current = minute_of(now)
        cursor = (e.tenant_id, channel, per_minute)
        start = max(current, self._room.get(cursor, current))
        end = current + timedelta(minutes=_HORIZON)
        while start < end:
            count = min(_AHEAD, int((end - start) / timedelta(minutes=1)))
            minutes = [start + timedelta(minutes=i) for i in range(count)]
            keys = [bucket_id(e.tenant_id, channel, m) for m in minutes]
            found = self.uow.load(keys)
            for minute, key in zip(minutes, keys, strict=True):
                bucket = found[key]
                pending = self._pending.get(key)
                taken = ((bucket.reserved if isinstance(bucket, ThrottleBucket) else 0)
                         + (len(pending.enrollment_ids) if pending else 0))
                if taken >= per_minute:
                    continue
                self._room[cursor] = minute
                if pending is None:
                    pending = self._pending[key] = _Pending(e.tenant_id, channel, minute, now)
                pending.enrollment_ids.append(str(e.id))
                if minute == current:
                    return now, minute
                return minute + timedelta(seconds=60 * taken / per_minute), minute
            start += timedelta(minutes=count)
        # Every minute of the horizon is full: look again then, without holding a slot.
        self._room[cursor] = end
        return end, None

    def _flush(self) -> None:
        for key, pending in self._pending.items():
            bucket = self.uow.get(key, ThrottleBucket)
            if bucket is None:
                bucket = ThrottleBucket.open(pending.tenant_id, pending.channel, pending.minute,
                                             pending.at)
                self.uow.add(bucket)
            bucket.reserve(pending.enrollment_ids, pending.at)
        self._pending.clear()


_GATES: WeakKeyDictionary[UnitOfWork, SendGate] = WeakKeyDictionary()
