"""The application as the Kafka intake uses it: the same event store (same tables, same
notification log, so every read model and the relay see what it records), with a *process*
recorder, so that the events one batch of CRM events causes and the Kafka position they came
from commit in one transaction (DESIGN 1, "Kafka input is exactly-once in effect").

This is what ``eventsourcing``'s ``EventSourcedProjection.process_event`` does for one event:
collect the new events on a ``ProcessingEvent`` carrying a ``Tracking`` and record it; here
the "upstream" is a Kafka partition, tracked as ``kafka:{topic}:{partition}`` with position
= the next offset to read (offset + 1). A position already recorded raises IntegrityError and
writes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import Any
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import ProcessRecorder, Tracking

from domain import ids
from domain.app_base import AppBase
from domain.app_crm import CrmOutcome
from domain.application import DriplineApp
from domain.crm import TRIGGER_EVENTS, CrmEvent
from domain.slot import slot_id

PREFETCH_THREADS = 4  # within the event store's connection pool (5 + 10 overflow)


def tracking_name(topic: str, partition: int) -> str:
    return f"kafka:{topic}:{partition}"


class TrackedApp(DriplineApp):
    # eventsourcing derives table names from the class name unless ``name`` is set on the
    # class itself; pin it to the application's so both write the same event store.
    name = DriplineApp.name

    def construct_recorder(self) -> ProcessRecorder:
        return self.factory.process_recorder()

    @property
    def process_recorder(self) -> ProcessRecorder:
        assert isinstance(self.recorder, ProcessRecorder)
        return self.recorder

    def position(self, name: str) -> int:
        """The next offset to apply for a tracked source (0 when nothing was recorded)."""
        return self.process_recorder.max_tracking_id(name) or 0

    # --- planning a batch ---------------------------------------------------------------------
    # Several CRM events of one batch may touch the same aggregate (a contact tagged twice).
    # While a batch is planned, aggregates already changed by earlier events of the batch are
    # found here instead of being loaded again, so the batch is one consistent change.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._batch_state = threading.local()

    # Everything loaded is kept for the batch too (sequences, mostly), so that a batch reads
    # each aggregate once: the batch sees one consistent state, its own changes included.
    def _find(self, aggregate_id: UUID) -> Aggregate | None:
        overlay: dict[UUID, Aggregate | None] | None = getattr(self._batch_state, "overlay", None)
        if overlay is None:
            return super()._find(aggregate_id)
        if aggregate_id not in overlay:
            overlay[aggregate_id] = super()._find(aggregate_id)
        return overlay[aggregate_id]

    def plan_batch(self, events: Sequence[CrmEvent]) -> tuple[list[CrmOutcome], list[Aggregate]]:
        """Plan every event of the batch; returns each outcome and the aggregates to save.
        Raises whatever a single plan raises (the caller then applies the events one by one)."""
        overlay: dict[UUID, Aggregate | None] = {}
        changed: dict[UUID, Aggregate] = {}
        held = getattr(self.lookups, "held", nullcontext)
        self._batch_state.overlay = overlay
        try:
            with held():
                self._preload_batch(events, overlay)
                outcomes = []
                for event in events:
                    outcome = self.plan_crm_event(event)
                    for aggregate in outcome.aggregates:
                        overlay[aggregate.id] = changed.setdefault(aggregate.id, aggregate)
                    outcomes.append(outcome)
            return outcomes, list(changed.values())
        finally:
            self._batch_state.overlay = None

    def _preload_batch(self, events: Sequence[CrmEvent], overlay: dict[UUID, Aggregate | None],
                  ) -> None:
        """Load the contacts and enrollment slots the batch will look at, a few at a time in
        parallel: planning then finds them in memory instead of waiting on one query after
        another. Only a cache: anything not fetched here is loaded when it is asked for."""
        wanted: dict[UUID, None] = {}
        for e in events:
            if not e.known or e.type in ("message_delivered", "message_failed"):
                continue
            wanted[ids.contact_id(e.tenant_id, e.contact_id)] = None
            if e.type in TRIGGER_EVENTS:
                for sequence_id in self.lookups.active_sequences_for_trigger(e.tenant_id, e.type):
                    wanted[slot_id(sequence_id, e.contact_id)] = None
        missing = [key for key in wanted if key not in overlay]
        if len(missing) < 8:
            return
        with ThreadPoolExecutor(PREFETCH_THREADS) as pool:
            for key, found in zip(missing, pool.map(self._load_from_store, missing), strict=True):
                overlay[key] = found

    def _load_from_store(self, aggregate_id: UUID) -> Aggregate | None:
        return AppBase._find(self, aggregate_id)

    def record_tracked(self, aggregates: Sequence[Aggregate], tracking: Tracking) -> None:
        """Save the aggregates' new events and the tracking position in one transaction
        (no aggregates: the position alone, for records that had no effect)."""
        processing_event = ProcessingEvent[UUID](tracking=tracking)
        processing_event.collect_events(*aggregates)
        self._record(processing_event)
