"""Snapshots of aggregates whose streams grow without bound (a contact fed by a webhook per
page view): a stored copy of the state at a version, so loading reads the latest snapshot and
only the events after it. Snapshots are a cache of the events, never a source of truth: they
live in their own table and may be dropped at any time.

An aggregate class takes part by offering ``snapshot_state()`` (plain JSON values) and
``restore_state(state)``; the store decides when to take one (every ``INTERVAL`` versions).
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.utils import get_topic, resolve_topic

INTERVAL = 32  # versions between snapshots: a load decodes at most this many events


def can_snapshot(aggregate: Aggregate) -> bool:
    return hasattr(aggregate, "snapshot_state")


class Snapshot(DomainEvent):
    TOPIC = "dripline.snapshot"
    topic: str  # the aggregate's class
    state: dict[str, Any]

    @classmethod
    def take(cls, aggregate: Aggregate) -> Snapshot:
        return cls(originator_id=aggregate.id, originator_version=aggregate.version,  # type: ignore[call-arg]
                   timestamp=aggregate.modified_on, topic=get_topic(type(aggregate)),
                   state=aggregate.snapshot_state())  # type: ignore[attr-defined]

    def mutate(self, _: Aggregate | None) -> Aggregate:
        aggregate_class = resolve_topic(self.topic)
        aggregate: Aggregate = object.__new__(aggregate_class)
        aggregate.__base_init__(originator_id=self.originator_id,
                                originator_version=self.originator_version,
                                timestamp=self.timestamp)
        aggregate.restore_state(dict(self.state))  # type: ignore[attr-defined]
        return aggregate
