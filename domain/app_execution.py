"""Executing due steps, a batch at a time: load the enrollments with their sequences and
contacts in a few queries, decide each (``domain.execution``), save every outcome in one
transaction. Saving decides races: if another writer (a scheduler, a reply, an operator)
changed one of these enrollments, or a sequence they depend on, first, the batch is decided
again on the new facts; a batch that keeps meeting conflicts is split until each enrollment
stands alone, and one that still cannot be written is reported as a lost race (looked at
again at the next scan)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID

from domain import ids
from domain.app_base import Core
from domain.contact import Contact
from domain.enrollment import Enrollment, original_due
from domain.errors import ConcurrencyConflictError
from domain.execution import StepOutcome, StepResult, execute_due
from domain.send_gate import SendGate
from domain.sequence import DripSequence
from domain.unit_of_work import UnitOfWork, loaded_of


class ExecutionCommands:
    def __init__(self, core: Core) -> None:
        self.core = core

    def execute_due(self, enrollment_ids: Iterable[UUID]) -> list[StepOutcome]:
        """Execute every given enrollment whose step is due now; the rest are left alone."""
        return self._execute(list(dict.fromkeys(enrollment_ids)))

    def _execute(self, wanted: list[UUID]) -> list[StepOutcome]:
        if not wanted:
            return []

        def decide(uow: UnitOfWork) -> list[StepOutcome]:
            now = self.core.clock()
            enrollments = loaded_of(uow.load(wanted), Enrollment)
            uow.load({key for e in enrollments.values()
                      for key in (e.sequence_id, ids.contact_id(e.tenant_id, e.contact_id))})
            gate = SendGate.of(uow)
            gate.prefetch(enrollments.values())
            outcomes: list[StepOutcome] = []
            # Throttle slots go by original due time, then enrollment id: a step deferred
            # keeps its place ahead of later ones.
            for e in sorted(enrollments.values(), key=_slot_order):
                sequence = uow.get(e.sequence_id, DripSequence)
                contact = uow.get(ids.contact_id(e.tenant_id, e.contact_id), Contact)
                done = execute_due(e, sequence, contact, now, gate)
                if done and sequence is not None:
                    uow.expect(sequence)  # decided on its status: it must not move meanwhile
                outcomes += done
            asked = {enrollment_id: n for n, enrollment_id in enumerate(wanted)}
            return sorted(outcomes, key=lambda o: asked[o.enrollment_id])  # as asked

        try:
            return self.core.decide(decide, attempts=2, what="this batch of steps",
                                    hands_out=False)[0]
        except ConcurrencyConflictError:
            if len(wanted) == 1:
                return [StepOutcome(wanted[0], StepResult.LOST_RACE)]
            half = len(wanted) // 2
            return self._execute(wanted[:half]) + self._execute(wanted[half:])


def _slot_order(e: Enrollment) -> tuple[datetime, str]:
    return original_due(e) or datetime.max.replace(tzinfo=UTC), str(e.id)
