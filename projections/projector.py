"""Moves read models along the notification log, in batches, exactly once.

Each batch is one transaction: lock the generation's state row, read the events after its
position, apply them, store the new position, commit. Events come from the application's
recorder (``select_notifications``), the same on SQLite and PostgreSQL; what differs is
only how a runner learns that there is more to read (see ``runner``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import Notification

from projections import generations as gens
from projections.batch import Batch
from projections.db import ReadDb
from projections.generations import Generation
from projections.models.base import ReadModel

OnBatch = Callable[[Generation, int], None]  # (state after the batch, head position)


class Projector:
    def __init__(self, db: ReadDb, models: Sequence[ReadModel], app: Any,
                 batch_size: int = 500) -> None:
        self.db = db
        self.models = {m.name: m for m in models}
        self.recorder = app.recorder
        self.mapper = app.mapper
        self.batch_size = batch_size

    def head(self) -> int:
        """The store's last notification id (0 when empty)."""
        return int(self.recorder.max_notification_id() or 0)

    def catch_up(self, names: Sequence[str] | None = None) -> None:
        """Process everything recorded up to now in the live generation of the named models
        (all by default); returns once each is at least at the head seen on entry. Rebuilds
        are left to ``step_rebuilds`` so that a long replay never holds up a live read."""
        head = self.head()
        wanted = set(names or self.models)
        for g in gens.all_generations(self.db):
            if g.name in wanted and g.status == "live" and g.name in self.models:
                self.advance(g.name, g.generation, until=head)

    def step_rebuilds(self) -> bool:
        """One batch of every generation being rebuilt; True while any has more to do."""
        more = False
        for g in gens.all_generations(self.db):
            if g.status == "building" and g.name in self.models:
                state = self.process_batch(g.name, g.generation)
                more = more or (state is not None and state.status == "building")
        return more

    def advance(self, name: str, generation: int, until: int,
                on_batch: OnBatch | None = None) -> Generation | None:
        state = None
        while True:
            state = self.process_batch(name, generation)
            if on_batch is not None and state is not None:
                on_batch(state, self.head())
            if state is None or state.position >= until:
                return state

    def process_batch(self, name: str, generation: int) -> Generation | None:
        """One batch for one generation; its state afterwards (None once it was replaced)."""
        model = self.models[name]
        # Read the events before taking the write lock. On SQLite that lock covers the whole
        # file: reading the store while holding it waited for the store's connection pool,
        # whose writer could be waiting for this very lock (a three-way deadlock, seen under
        # load in `dripline serve`, broken only by the pool's timeout).
        rows = self.db.read("SELECT position FROM rm_state WHERE name = %s AND generation = %s",
                            [name, generation])
        if not rows:
            return None
        seen = int(rows[0]["position"])
        # Read the head before the events: every id up to it is committed (the store hands
        # out ids in commit order), so a short batch means "nothing else up to head", and the
        # position can move to head past events of other topics.
        head = self.head()
        notes: Sequence[Notification] = []
        if seen < head:
            notes = self.recorder.select_notifications(
                start=seen + 1, stop=head, limit=self.batch_size, topics=model.topics)
        full = len(notes) == self.batch_size
        with self.db.transaction() as tx:
            g = gens.lock(self.db, tx, name, generation)
            if g is None:
                return None
            # Another runner may have moved on meanwhile: ``_apply`` skips what it applied,
            # and the position never moves back.
            position = max(notes[-1].id if full else head, g.position)
            return self._apply(tx, model, g, notes, position, at_head=not full)

    def deliver(self, name: str, generation: int, notes: Sequence[Notification]) -> Generation:
        """Apply notifications handed in from outside (a redelivery, say): those at or
        before the tracking position are skipped, so delivering twice changes nothing."""
        model = self.models[name]
        with self.db.transaction() as tx:
            g = gens.lock(self.db, tx, name, generation)
            assert g is not None, f"no generation {generation} of {name}"
            last = max((n.id for n in notes), default=g.position)
            return self._apply(tx, model, g, notes, max(last, g.position), at_head=False)

    def _apply(self, tx: Any, model: ReadModel, g: Generation,
               notes: Sequence[Notification], position: int, at_head: bool) -> Generation:
        tables = model.tables(g.generation)
        # The tracking check: an event at or before the position was applied already.
        events = [self.mapper.to_domain_event(n) for n in notes if n.id > g.position]
        batch = Batch(tx)
        model.prefetch(batch, events, tables)
        for event in events:
            model.apply(batch, event, tables)
        batch.flush()
        if position != g.position:
            gens.set_position(tx, g, position)
        status = g.status
        # A rebuild that reached the head seen by this batch is as complete as the live
        # generation can be: switch now, rather than wait for a quiet moment that a busy
        # store may never have.
        if g.status == "building" and at_head:
            gens.switch_to(tx, model, g)
            status = "live"
        return Generation(g.name, g.generation, status, position)
