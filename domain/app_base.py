"""What every command handler shares (``Core``): the store, the clock, the aggregate cache,
the read-model lookups, and the one way to write (``Core.decide``: a unit of work, retried
from scratch when a concurrent writer got there first)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Tracking

from domain.clock import Clock
from domain.codec import EventMapper
from domain.enrollment import Enrollment
from domain.errors import (
    ConcurrencyConflictError,
    EnrollmentNotFoundError,
    NotFoundError,
    SequenceNotFoundError,
)
from domain.lookups import Lookups
from domain.sequence import DripSequence
from domain.store import EventStore
from domain.trials import Tally
from domain.unit_of_work import AggregateCache, Committed, LoadStats, UnitOfWork

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")


class NoLookups:
    """Lookups for an application without read models: nobody matches a trigger yet."""

    def contacts_matching_trigger(self, tenant_id: str, trigger_type: str,
                                  trigger_data: Mapping[str, str], at_least: int) -> list[str]:
        return []

    def experiments_with_members(self, at_least: int) -> list[tuple[str, UUID, int, str]]:
        return []

    def experiment_counts(self, tenant_id: str, sequence_id: UUID, revision: int,
                          experiment_id: str, arms: Sequence[str], metric: str,
                          window: timedelta, now: datetime, at_least: int) -> dict[str, Tally]:
        return {arm: Tally() for arm in arms}


@dataclass
class Settings:
    # How far ahead of Dripline's clock a CRM event may say it happened (clock skew).
    max_future: timedelta = timedelta(minutes=5)
    # How far back a reply or unsubscribe naming no message looks for the contact's latest.
    reply_attribution: timedelta = timedelta(days=7)


class Core:
    def __init__(self, store: EventStore, mapper: EventMapper, clock: Clock, *,
                 cache: AggregateCache | None = None, lookups: Lookups | None = None,
                 settings: Settings | None = None) -> None:
        self.store, self.mapper, self.clock, self.cache = store, mapper, clock, cache
        self.lookups: Lookups = lookups or NoLookups()
        self.settings = settings or Settings()
        self.load_stats = LoadStats()
        # Called after every commit that wrote events (a scheduler in the same process wakes:
        # the commit may have made a step due).
        self.on_commit: list[Callable[[], None]] = []

    def unit(self) -> UnitOfWork:
        return UnitOfWork(self.store, self.mapper, cache=self.cache, stats=self.load_stats,
                          on_commit=self.on_commit)

    def reader(self) -> UnitOfWork:
        """A unit of work for reading aggregates that are handed out (to an API answer, to a
        caller that may change and save them): it never takes from the cache nor puts back,
        so no object in the cache is ever held outside a unit of work."""
        return UnitOfWork(self.store, self.mapper, stats=self.load_stats,
                          on_commit=self.on_commit)

    def decide(self, decision: Callable[[UnitOfWork], T], *, attempts: int = 3,
               tracking: Tracking | None = None, what: str = "the change",
               hands_out: bool = True) -> tuple[T, Committed]:
        """Run ``decision`` in a unit of work and commit it; when a concurrent writer changed
        what it read, run it again on the new facts (it may then decide differently).
        ``hands_out``: the outcome may hold aggregates for the caller (they then leave the
        cache); False for outcomes made of ids and results only (the hot paths)."""
        for attempt in range(attempts):
            uow = self.unit()
            try:
                outcome = decision(uow)
            except BaseException:
                uow.discard()
                raise
            try:
                committed = uow.commit(tracking)
            except IntegrityError:
                if attempt == attempts - 1:
                    raise ConcurrencyConflictError(
                        f"{what} kept meeting concurrent changes; retry") from None
                continue
            if self.cache is not None and hands_out:
                # Aggregates handed to the caller leave the cache: a later unit of work must
                # never change an object someone outside still holds.
                self.cache.drop(a.id for a in _aggregates_in(outcome))
            return outcome, committed
        raise ConcurrencyConflictError(f"{what} could not be decided")  # attempts < 1

    # --- reading one aggregate of a tenant ------------------------------------------------------

    def load_one(self, uow: UnitOfWork, kind: type[A], aggregate_id: UUID, tenant_id: str,
                 not_found: type[NotFoundError], what: str) -> A:
        """The tenant's aggregate; anything else (missing, another tenant's, another kind,
        deleted) is the same "not found", so ids of other tenants reveal nothing."""
        found = uow.get(aggregate_id, kind)
        if (found is None or getattr(found, "tenant_id", None) != tenant_id
                or getattr(found, "status", None) == "deleted"):
            raise not_found(f"{what} {aggregate_id} not found")
        return found

    def sequence(self, uow: UnitOfWork, tenant_id: str, sequence_id: UUID) -> DripSequence:
        return self.load_one(uow, DripSequence, sequence_id, tenant_id, SequenceNotFoundError,
                             "sequence")

    def read_sequence(self, tenant_id: str, sequence_id: UUID) -> DripSequence:
        """The tenant's sequence as stored now, for reading (it is never cached)."""
        uow = self.reader()
        try:
            return self.sequence(uow, tenant_id, sequence_id)
        finally:
            uow.discard()

    def change_sequence(self, tenant_id: str, sequence_id: UUID,
                        expected_version: int | None,
                        change: Callable[[DripSequence], object]) -> tuple[DripSequence, int]:
        """Apply ``change`` to the tenant's sequence, at ``expected_version`` if given; the
        sequence and the store position written."""
        def decision(uow: UnitOfWork) -> DripSequence:
            sequence = self.sequence(uow, tenant_id, sequence_id)
            self.check_version(sequence, expected_version)
            change(sequence)
            return sequence

        sequence, committed = self.decide(decision)
        return sequence, committed.position

    def enrollment(self, uow: UnitOfWork, tenant_id: str, enrollment_id: UUID) -> Enrollment:
        return self.load_one(uow, Enrollment, enrollment_id, tenant_id,
                             EnrollmentNotFoundError, "enrollment")

    @staticmethod
    def check_version(aggregate: Aggregate, expected_version: int | None) -> None:
        if expected_version is not None and aggregate.version != expected_version:
            raise ConcurrencyConflictError(
                f"{type(aggregate).__name__} {aggregate.id} is at version {aggregate.version}, "
                f"not {expected_version}: it changed since you read it; reload and retry"
            )


def _aggregates_in(value: object, depth: int = 0) -> Iterator[Aggregate]:
    """The aggregates in a decision's outcome: itself, or inside a list, a tuple or a
    dataclass of the outcome (a bulk enrollment, an activation)."""
    if isinstance(value, Aggregate):
        yield value
    elif depth < 3 and isinstance(value, list | tuple):
        for item in value:
            yield from _aggregates_in(item, depth + 1)
    elif depth < 3 and dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in vars(value).values():
            yield from _aggregates_in(item, depth + 1)
