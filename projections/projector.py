"""Moves read models along the notification log, in batches, exactly once.

Each batch is one transaction: lock the generations' state rows, read the events after their
positions, apply them, store the new positions, commit. Events come from the application's
recorder (``select_notifications``), the same on SQLite and PostgreSQL; what differs is
only how a runner learns that there is more to read (see ``runner``).

The live generations move together (``catch_up``): one read of the log and one decode per
event serve all of them, in one transaction. A rebuild moves alone (``process_batch``), so
that a long replay never holds up the live ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from eventsourcing.persistence import Notification

from projections import generations as gens
from projections.batch import Batch
from projections.db import BulkTx, ReadDb
from projections.generations import Generation
from projections.models.base import ReadModel
from projections.models.due_enrollments import DueEnrollmentsModel

DUE = DueEnrollmentsModel.name


class StaleGenerationError(RuntimeError):
    """A generation built by other code (``ReadModel.fingerprint``) was to be written."""


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
        while True:
            # Positions are read again before every batch: another runner may have moved a
            # model on, or a rebuild may have replaced its live generation.
            behind = [g for g in gens.all_generations(self.db)
                      if g.name in wanted and g.name in self.models and g.status == "live"
                      and g.position < head]
            if not behind:
                return
            try:
                self._batch(behind)
            except Exception:
                if len(behind) == 1:
                    raise
                # One model failing (a bad event, a bug in its handler) must not hold up
                # the others, ``due_enrollments`` above all: each on its own, then the
                # first failure is reported.
                self._one_by_one([g.name for g in behind])

    def _one_by_one(self, names: Sequence[str]) -> None:
        failure: Exception | None = None
        for name in sorted(names, key=lambda n: (n != DUE, n)):
            try:
                self.catch_up([name])
            except Exception as error:
                failure = failure or error
        if failure is not None:
            raise failure

    def _batch(self, seen: Sequence[Generation]) -> list[Generation]:
        """One batch for several generations (all live, or all being rebuilt): the log is read
        once, from the lowest of their positions, for all their topics, and each event is
        decoded once; their states afterwards (a rebuild that reached the head is live)."""
        models = {g.name: self.models[g.name] for g in seen}
        # Decode only what some model has not applied yet: the models start at different
        # positions, and the read starts at the lowest.
        floor: dict[str, int] = {}
        for g in seen:
            for topic in models[g.name].topics:
                floor[topic] = min(floor.get(topic, g.position), g.position)
        start = min(g.position for g in seen)
        # As in ``process_batch``: the head before the events, and both read before the
        # write lock is taken.
        head = self.head()
        notes = self.recorder.select_notifications(
            start=start + 1, stop=head, limit=self.batch_size, topics=sorted(floor))
        full = len(notes) == self.batch_size
        # Decoded here, outside the lock, which on SQLite holds off every writer of the file.
        decoded = [(n, self.mapper.to_domain_event(n)) for n in notes if n.id > floor[n.topic]]
        after = []
        with self.db.transaction() as tx:
            moves = []
            # The scheduler's model first: it is the one a caller is usually waiting for.
            for g in sorted(gens.lock_all(self.db, tx, seen),
                            key=lambda g: (g.name != DUE, g.name)):
                model = models[g.name]
                topics = set(model.topics)
                # The notes cover every event of the model's topics after ``start`` up to the
                # last note (a full batch) or the head; the locked position is at least
                # ``start``, since positions never move back. Another runner may have moved
                # on meanwhile: what it applied is skipped, and the position keeps its lead.
                events = [e for n, e in decoded if n.topic in topics and n.id > g.position]
                position = max(notes[-1].id if full else head, g.position)
                status = self._apply(tx, model, g, events, at_head=not full)
                moves.append((g, position))
                after.append(replace(g, status=status, position=position))
            gens.set_positions(tx, moves)
        return after

    def step_rebuilds(self) -> bool:
        """One batch of every generation being rebuilt; True while any has more to do."""
        building = [g for g in gens.all_generations(self.db)
                    if g.status == "building" and g.name in self.models]
        return bool(building) and any(g.status == "building"
                                      for g in self.rebuild_batch(building))

    def rebuild_batch(self, building: Sequence[Generation]) -> list[Generation]:
        """One batch of these generations being rebuilt, in one pass over the log (each event
        read and decoded once for all of them); their states afterwards."""
        return self._batch(building)

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
            # Another runner may have moved on meanwhile: what it applied is skipped, and
            # the position never moves back.
            position = max(notes[-1].id if full else head, g.position)
            status = self._apply(tx, model, g, self._decode(notes, g), at_head=not full)
            gens.set_positions(tx, [(g, position)])
            return replace(g, status=status, position=position)

    def deliver(self, name: str, generation: int, notes: Sequence[Notification]) -> Generation:
        """Apply notifications handed in from outside (a redelivery, say): those at or
        before the tracking position are skipped, so delivering twice changes nothing."""
        model = self.models[name]
        with self.db.transaction() as tx:
            g = gens.lock(self.db, tx, name, generation)
            if g is None:
                raise LookupError(f"no generation {generation} of {name}")
            last = max((n.id for n in notes), default=g.position)
            position = max(last, g.position)
            status = self._apply(tx, model, g, self._decode(notes, g), at_head=False)
            gens.set_positions(tx, [(g, position)])
            return replace(g, status=status, position=position)

    def _decode(self, notes: Sequence[Notification], g: Generation) -> list[Any]:
        # The tracking check: an event at or before the position was applied already.
        return [self.mapper.to_domain_event(n) for n in notes if n.id > g.position]

    def _apply(self, tx: BulkTx, model: ReadModel, g: Generation, events: Sequence[Any],
               at_head: bool) -> str:
        """Apply ``events`` (none at or before ``g``'s position); the generation's status
        afterwards. The caller stores the new position, in the same transaction."""
        if g.fingerprint != model.fingerprint:
            # Tables made by another version's code (other columns, or other topics): these
            # handlers writing them would leave rows that neither version's replay makes.
            raise StaleGenerationError(
                f"generation {g.generation} of read model {g.name} was built for "
                f"{g.fingerprint}, and this process writes {model.fingerprint}; "
                "another version of Dripline built it: run one version at a time (a "
                "process's start-up replaces generations built for another shape)")
        tables = model.tables(g.generation)
        batch = Batch(tx)
        model.prefetch(batch, events, tables)
        for event in events:
            model.apply(batch, event, tables)
        batch.flush()
        status = g.status
        # A rebuild that reached the head seen by this batch is as complete as the live
        # generation can be: switch now, rather than wait for a quiet moment that a busy
        # store may never have.
        if g.status == "building" and at_head:
            gens.switch_to(tx, model, g)
            status = "live"
        return status
