"""Enrollment commands: enroll one or many, exit, pause, resume, history."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from domain import enrolling, ids
from domain import validation as v
from domain.app_base import Core
from domain.contact import Contact
from domain.enrollment import EXIT_REASONS, Enrollment
from domain.errors import (
    ConcurrencyConflictError,
    DomainError,
    InvalidInputError,
    InvalidTransitionError,
)
from domain.execution import StepOutcome, execute_due
from domain.resuming import resume
from domain.send_gate import SendGate
from domain.sequence import DripSequence
from domain.unit_of_work import UnitOfWork

MAX_BULK = 10_000
_BULK_CHUNK = 250  # contacts per transaction


@dataclass
class BulkEnrollment:
    enrolled: list[Enrollment] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (contact_id, why)
    outcomes: list[StepOutcome] = field(default_factory=list)  # steps executed at once
    position: int = 0  # the store position the enrollments were written at


def _contact_ref(value: object, where: str = "contact_id") -> str:
    return v.contact_id(value.strip() if isinstance(value, str) else value, where)


def enroll_and_start(uow: UnitOfWork, sequence: DripSequence, contact_ref: str, now: Any,
                     source: str, entered_at: Any = None) -> tuple[Enrollment, list[StepOutcome]]:
    """Enroll, and execute the first step at once when it is already due (no delay): its
    message request commits with the enrollment."""
    enrollment = enrolling.enroll(uow, sequence, contact_ref, now, source, entered_at)
    contact = uow.get(ids.contact_id(sequence.tenant_id, contact_ref), Contact)
    return enrollment, execute_due(enrollment, sequence, contact, now, SendGate.of(uow))


class EnrollmentCommands:
    def __init__(self, core: Core) -> None:
        self.core = core

    # --- enrolling ----------------------------------------------------------------------------

    def enroll(self, tenant_id: str, sequence_id: UUID, contact_id: str,
               source: str = "manual") -> Enrollment:
        contact_ref = _contact_ref(contact_id)

        def decide(uow: UnitOfWork) -> Enrollment:
            sequence = enrolling.require_active(self.core.sequence(uow, tenant_id, sequence_id))
            uow.load(enrolling.wanted_for(sequence, contact_ref))
            uow.expect(sequence)  # a pause or archive meanwhile: decide again
            return enroll_and_start(uow, sequence, contact_ref, self.core.clock(), source)[0]

        return self.core.decide(decide, what=f"enrolling contact {contact_ref}")[0]

    def enroll_many(self, tenant_id: str, sequence_id: UUID, contact_ids: list[str],
                    source: str = "bulk") -> BulkEnrollment:
        """Enroll up to 10,000 contacts, a few hundred per transaction. Contacts that cannot
        be enrolled (already enrolled, deleted, unsubscribed, refused by the re-enrollment
        policy) are reported in ``skipped`` and do not stop the others."""
        if not isinstance(contact_ids, list) or len(contact_ids) > MAX_BULK:
            raise InvalidInputError("contact_ids", f"must be a list of at most {MAX_BULK} ids")
        refs = list(dict.fromkeys(_contact_ref(c, f"contact_ids[{i}]")
                                  for i, c in enumerate(contact_ids)))
        uow = self.core.unit()
        enrolling.require_active(self.core.sequence(uow, tenant_id, sequence_id))
        uow.discard()
        result = BulkEnrollment()
        for start in range(0, len(refs), _BULK_CHUNK):
            self._enroll_chunk(tenant_id, sequence_id, refs[start:start + _BULK_CHUNK], source,
                               result)
        return result

    def _enroll_chunk(self, tenant_id: str, sequence_id: UUID, refs: list[str], source: str,
                      result: BulkEnrollment) -> None:
        def decide(uow: UnitOfWork) -> BulkEnrollment:
            chunk = BulkEnrollment()
            sequence = enrolling.require_active(self.core.sequence(uow, tenant_id, sequence_id))
            uow.expect(sequence)
            uow.load([key for ref in refs for key in enrolling.wanted_for(sequence, ref)])
            previous = [s.enrollment_id for s in uow.load(
                [ids.slot_id(sequence.id, ref) for ref in refs]).values()
                if s is not None and hasattr(s, "enrollment_id")]
            uow.load(previous)
            now = self.core.clock()
            for ref in refs:
                try:
                    enrollment, outcomes = enroll_and_start(uow, sequence, ref, now, source)
                except DomainError as error:
                    chunk.skipped.append((ref, error.message))
                    continue
                chunk.enrolled.append(enrollment)
                chunk.outcomes += outcomes
            return chunk

        try:
            chunk, committed = self.core.decide(decide, attempts=2,
                                                what="enrolling these contacts")
        except ConcurrencyConflictError:
            # Concurrent writers keep taking some of these contacts: one by one, so that each
            # gets its own verdict.
            for ref in refs:
                try:
                    result.enrolled.append(self.enroll(tenant_id, sequence_id, ref, source))
                except DomainError as error:
                    result.skipped.append((ref, error.message))
            return
        result.enrolled += chunk.enrolled
        result.skipped += chunk.skipped
        result.outcomes += chunk.outcomes
        result.position = max(result.position, committed.position)

    # --- one enrollment ---------------------------------------------------------------------

    def exit_enrollment(self, tenant_id: str, enrollment_id: UUID, reason: str = "manual_exit",
                        expected_version: int | None = None) -> Enrollment:
        v.choice(reason, "reason", EXIT_REASONS)

        def decide(uow: UnitOfWork) -> Enrollment:
            enrollment = self.core.enrollment(uow, tenant_id, enrollment_id)
            self.core.check_version(enrollment, expected_version)
            enrollment.exit(reason, self.core.clock())
            return enrollment

        return self.core.decide(decide)[0]

    def pause_enrollment(self, tenant_id: str, enrollment_id: UUID,
                         expected_version: int | None = None) -> Enrollment:
        def decide(uow: UnitOfWork) -> Enrollment:
            enrollment = self.core.enrollment(uow, tenant_id, enrollment_id)
            self.core.check_version(enrollment, expected_version)
            enrollment.pause(self.core.clock())
            return enrollment

        return self.core.decide(decide)[0]

    def resume_enrollment(self, tenant_id: str, enrollment_id: UUID,
                          expected_version: int | None = None) -> Enrollment:
        def decide(uow: UnitOfWork) -> Enrollment:
            enrollment = self.core.enrollment(uow, tenant_id, enrollment_id)
            self.core.check_version(enrollment, expected_version)
            sequence = self.core.sequence(uow, tenant_id, enrollment.sequence_id)
            if sequence.status != "active" and enrollment.status == "paused":
                raise InvalidTransitionError(
                    f"sequence {sequence.id} is {sequence.status}: resume the sequence instead")
            uow.expect(sequence)
            contact = uow.get(ids.contact_id(tenant_id, enrollment.contact_id), Contact)
            resume(enrollment, sequence.pinned(enrollment.revision).journey(enrollment.assignments),
                   contact.timezone if contact else None, self.core.clock())
            return enrollment

        return self.core.decide(decide)[0]

    def history(self, tenant_id: str, enrollment_id: UUID,
                events: list[Any]) -> list[dict[str, Any]]:
        """Every event of the enrollment, oldest first, as plain data."""
        uow = self.core.reader()
        self.core.enrollment(uow, tenant_id, enrollment_id)
        uow.discard()
        history = []
        for domain_event in events:
            data = {k: val for k, val in domain_event.__dict__.items()
                    if k not in ("originator_id", "originator_version", "timestamp",
                                 "originator_topic")}
            history.append({"version": domain_event.originator_version,
                            "type": type(domain_event).TOPIC,
                            "at": data.pop("at"), "data": data})
        return history
