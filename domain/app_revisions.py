"""Revision commands: start a draft revision of a live sequence, change its settings, discard
it, publish it (with an optional migration and a dry run), and carry running migrations on in
batches (``domain.migration``). Steps of a draft revision are edited through
``SequenceCommands`` with the revision named."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from domain import ids
from domain import validation as v
from domain.app_base import Core
from domain.app_sequences import validated_settings
from domain.contact import Contact
from domain.enrollment import Enrollment
from domain.errors import ConcurrencyConflictError, InvalidInputError, MigrationNotFoundError
from domain.migration import BATCH, MigrateSpec, Migration, Plan, carry_out, decide, migration_id
from domain.sequence import JOURNEY, DripSequence, Revision
from domain.unit_of_work import UnitOfWork, loaded_of

log = logging.getLogger("dripline.migrations")


@dataclass
class Publication:
    sequence: DripSequence
    revision: int
    dry_run: bool
    plan: Plan = field(default_factory=Plan)
    migration_id: UUID | None = None
    position: int = 0


class RevisionCommands:
    def __init__(self, core: Core) -> None:
        self.core = core

    def create_revision(self, tenant_id: str, sequence_id: UUID, base: int | None = None,
                        expected_version: int | None = None) -> tuple[DripSequence, int]:
        """A draft revision copying ``base`` (default: the live one); the sequence and its
        number."""
        if base is not None:
            base = v.integer(base, "from_revision", minimum=1, maximum=1_000_000)
        sequence, _ = self.core.change_sequence(tenant_id, sequence_id, expected_version,
                                   lambda s: s.create_revision(self.core.clock(), base))
        return sequence, sequence.last_revision

    def update_revision(self, tenant_id: str, sequence_id: UUID, number: int,
                        data: dict[str, Any], expected_version: int | None = None,
                        ) -> DripSequence:
        """Change a draft revision's journey settings (the fields given)."""
        v.reject_unknown(data, set(JOURNEY), "")
        changes = validated_settings(data, None)

        def change(sequence: DripSequence) -> None:
            if changes:
                sequence.update(changes, self.core.clock(), revision=number)
            else:
                sequence.check_editable(number)  # nothing to change: still 404 / 409

        return self.core.change_sequence(tenant_id, sequence_id, expected_version, change)[0]

    def discard_revision(self, tenant_id: str, sequence_id: UUID, number: int,
                         expected_version: int | None = None) -> DripSequence:
        return self.core.change_sequence(tenant_id, sequence_id, expected_version,
                            lambda s: s.discard_revision(number, self.core.clock()))[0]

    # --- publishing -----------------------------------------------------------------------------

    def publish_revision(self, tenant_id: str, sequence_id: UUID, number: int,
                         migrate: object = None, dry_run: bool = False,
                         expected_version: int | None = None) -> Publication:
        """Make draft revision ``number`` live for new enrollments. With ``migrate``, open
        enrollments of older revisions move as it says (in the background, batch by batch);
        every occupied step must be covered (422 naming ``migrate.step_map.<step id>``).
        ``dry_run``: nothing is written; the answer says what would move."""
        current = self.core.read_sequence(tenant_id, sequence_id)
        self.core.check_version(current, expected_version)
        draft = current.check_publishable(number)
        spec = self._spec(current, draft, migrate)
        if spec is None:  # nobody moves: every open enrollment stays pinned
            plan = Plan(pinned=len(self.core.store.open_enrollments_of_sequence(sequence_id)))
        else:
            plan = self.plan(current, draft, spec)
        if spec is not None and plan.unmapped:
            steps = sorted(plan.unmapped)
            raise InvalidInputError(
                f"migrate.step_map.{steps[0]}",
                f"open enrollments wait at step(s) {', '.join(steps)}, which revision "
                f"{number} does not have: map each to one of its steps "
                '({"to": "<step id>"}) or let them leave ({"exit": true})')
        if dry_run:
            return Publication(current, number, True, plan)

        def decision(uow: UnitOfWork) -> DripSequence:
            sequence = self.core.sequence(uow, tenant_id, sequence_id)
            self.core.check_version(sequence, expected_version)
            now = self.core.clock()
            # The draft may have changed since the plan: the map must hold for it as it is.
            if spec is not None:
                self._spec(sequence, sequence.check_publishable(number), migrate)
            sequence.publish_revision(number, now, spec.to_dict() if spec else None)
            if spec is not None:
                uow.add(Migration.start(tenant_id=sequence.tenant_id, sequence_id=sequence.id,
                                        revision=number, migrate=spec.to_dict(),
                                        total=plan.total, at=now))
            return sequence

        sequence, committed = self.core.decide(decision)
        return Publication(sequence, number, False, plan,
                           migration_id(sequence_id, number) if spec else None,
                           committed.position)

    @staticmethod
    def _spec(sequence: DripSequence, draft: Revision, migrate: object) -> MigrateSpec | None:
        """The validated ``migrate`` (None if not given): its targets are steps of the
        draft, its keys steps of a published revision."""
        if migrate is None:
            return None
        spec = MigrateSpec.from_dict(migrate, draft)
        known = {i for r in sequence.revisions.values() if r.published for i in r.steps_by_id}
        for old in spec.step_map:
            if old not in known:
                raise InvalidInputError(f"migrate.step_map.{old}",
                                        f"no published revision of sequence {sequence.id} "
                                        f"has step {old}")
        return spec

    def plan(self, sequence: DripSequence, new: Revision, spec: MigrateSpec | None) -> Plan:
        """What migrating to ``new`` would do to the open enrollments, as they are now."""
        plan = Plan()
        after = ""
        while True:
            rows = self.core.store.open_enrollments_of_sequence(sequence.id, after, BATCH)
            if not rows:
                return plan
            uow = self.core.reader()
            try:
                found = loaded_of(uow.load(r.enrollment_id for r in rows), Enrollment)
            finally:
                uow.discard()
            for e in found.values():
                plan.count(e, decide(e, sequence, spec, new))
            after = str(rows[-1].enrollment_id)

    def migration(self, tenant_id: str, sequence_id: UUID, number: int) -> Migration:
        self.core.read_sequence(tenant_id, sequence_id).revision(number)
        uow = self.core.reader()
        try:
            found = uow.get(migration_id(sequence_id, number), Migration)
        finally:
            uow.discard()
        if found is None or found.tenant_id != tenant_id:
            raise MigrationNotFoundError(
                f"revision {number} of sequence {sequence_id} was published without a "
                "migration")
        return found

    # --- carrying migrations on -----------------------------------------------------------------

    def run_migrations(self, batches: int = 1) -> int:
        """Up to ``batches`` batches of every running migration; the enrollments looked at."""
        handled = 0
        for mid in self.core.store.running_migrations():
            try:
                for _ in range(batches):
                    looked, more = self._batch(mid)
                    handled += looked
                    if not more:
                        break
            except ConcurrencyConflictError:  # others moved these enrollments: next round
                log.info("migration %s met concurrent changes; it goes on later", mid)
        return handled

    def _batch(self, mid: UUID) -> tuple[int, bool]:
        def decision(uow: UnitOfWork) -> tuple[int, bool]:
            now = self.core.clock()
            m = uow.get(mid, Migration)
            if m is None or m.done:
                return 0, False
            sequence = uow.get(m.sequence_id, DripSequence)
            if sequence is None or sequence.status in ("archived", "deleted"):
                m.finish("archived", now)
                return 0, False
            if sequence.live_revision != m.revision:
                m.finish("superseded", now)
                return 0, False
            uow.expect(sequence)
            new = sequence.revisions[m.revision]
            try:
                spec = MigrateSpec.from_dict(m.migrate, new)
            except InvalidInputError:  # cannot be recorded so; never block the others
                m.finish("invalid", now)
                return 0, False
            rows = self.core.store.open_enrollments_of_sequence(sequence.id, m.cursor, BATCH)
            if not rows:
                m.finish("done", now)
                return 0, False
            found = loaded_of(uow.load(r.enrollment_id for r in rows), Enrollment)
            contacts = loaded_of(uow.load(ids.contact_id(e.tenant_id, e.contact_id)
                                          for e in found.values()), Contact)
            counts = {"move": 0, "exit": 0, "conflict": 0}
            for e in found.values():
                d = decide(e, sequence, spec, new)
                if d.kind in counts:
                    counts[d.kind] += 1
                contact = contacts.get(ids.contact_id(e.tenant_id, e.contact_id))
                carry_out(e, d, spec, new, contact.timezone if contact else None, now)
            m.progress(str(rows[-1].enrollment_id), counts["move"], counts["exit"],
                       counts["conflict"], now)
            return len(rows), True

        return self.core.decide(decision, attempts=3, what="this migration batch",
                                hands_out=False)[0]
