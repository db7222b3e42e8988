"""Enrollment commands: enroll one or many, exit, pause, resume, history."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    IntegrityError,
)

from domain import ids
from domain import validation as v
from domain.app_base import AppBase
from domain.contact import ALL_CHANNELS, Contact
from domain.enrollment import EXIT_REASONS, Enrollment
from domain.errors import (
    AlreadyEnrolledError,
    ConcurrencyConflictError,
    ContactDeletedError,
    ContactSuppressedError,
    DomainError,
    InvalidInputError,
    InvalidTransitionError,
    ReEnrollmentNotAllowedError,
    SequenceNotActiveError,
)
from domain.resuming import resume
from domain.schedule import due_after
from domain.sequence import DripSequence
from domain.slot import EnrollmentSlot, slot_id

MAX_BULK = 10_000
_BULK_CHUNK = 250  # contacts per transaction (two new aggregates each)


@dataclass
class BulkEnrollment:
    enrolled: list[Enrollment] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (contact_id, why)


def _contact_ref(value: object, where: str = "contact_id") -> str:
    return v.text(value, where, max_len=200).strip()


class EnrollmentCommands(AppBase):
    # --- enrolling ----------------------------------------------------------------------------

    def enroll(self, tenant_id: str, sequence_id: UUID, contact_id: str,
               source: str = "manual") -> Enrollment:
        contact_ref = _contact_ref(contact_id)
        for attempt in range(3):
            sequence = self._active_sequence(tenant_id, sequence_id)
            planned = self._plan_enrollment(sequence, contact_ref, self.clock(), source, None)
            try:
                self.save(*planned)
            except IntegrityError:
                # Someone enrolled this contact at the same moment: look again, and the
                # slot now tells us why we may not (or, rarely, that we still may).
                if attempt == 2:
                    raise ConcurrencyConflictError(
                        f"contact {contact_ref} is being enrolled concurrently; retry"
                    ) from None
                continue
            return next(a for a in planned if isinstance(a, Enrollment))
        raise AssertionError("unreachable")  # pragma: no cover

    def enroll_many(self, tenant_id: str, sequence_id: UUID, contact_ids: list[str],
                    source: str = "bulk") -> BulkEnrollment:
        """Enroll up to 10,000 contacts, a few hundred per transaction. Contacts that cannot
        be enrolled (already enrolled, deleted, unsubscribed, refused by the re-enrollment
        policy) are reported in ``skipped`` and do not stop the others."""
        if not isinstance(contact_ids, list) or len(contact_ids) > MAX_BULK:
            raise InvalidInputError("contact_ids", f"must be a list of at most {MAX_BULK} ids")
        refs = list(dict.fromkeys(_contact_ref(c, f"contact_ids[{i}]")
                                  for i, c in enumerate(contact_ids)))
        sequence = self._active_sequence(tenant_id, sequence_id)
        result = BulkEnrollment()
        for start in range(0, len(refs), _BULK_CHUNK):
            self._enroll_chunk(sequence, refs[start:start + _BULK_CHUNK], source, result)
        return result

    def _enroll_chunk(self, sequence: DripSequence, refs: list[str], source: str,
                      result: BulkEnrollment) -> None:
        now = self.clock()
        known = self._prefetch(sequence, refs)
        planned: list[Aggregate] = []
        for ref in refs:
            try:
                planned += self._plan_enrollment(sequence, ref, now, source, None, known)
            except DomainError as error:
                result.skipped.append((ref, error.message))
        try:
            self.save(*planned)
        except IntegrityError:
            # A concurrent writer took some of these contacts: do them one by one, so each
            # gets its own verdict.
            for aggregate in planned:
                if isinstance(aggregate, Enrollment):
                    self._enroll_single_into(sequence, aggregate.contact_id, source, result)
            return
        result.enrolled += [a for a in planned if isinstance(a, Enrollment)]

    def _prefetch(self, sequence: DripSequence, refs: list[str]) -> dict[UUID, Aggregate | None]:
        """The chunk's contact mirrors and slots, then the enrollments the slots point to, in
        a few batched reads instead of two or three per contact (most of a bulk enroll's time
        on PostgreSQL was these round trips). Reading early is safe: the save still checks
        every slot's version, so a change made since is a conflict, never a second enrollment.
        """
        known = self._load_many([ids.contact_id(sequence.tenant_id, ref) for ref in refs]
                                + [slot_id(sequence.id, ref) for ref in refs])
        current = [a.enrollment_id for a in known.values() if isinstance(a, EnrollmentSlot)]
        known.update(self._load_many(current))
        return known

    def _enroll_single_into(self, sequence: DripSequence, ref: str, source: str,
                            result: BulkEnrollment) -> None:
        try:
            result.enrolled.append(self.enroll(sequence.tenant_id, sequence.id, ref, source))
        except DomainError as error:
            result.skipped.append((ref, error.message))

    def _active_sequence(self, tenant_id: str, sequence_id: UUID) -> DripSequence:
        sequence = self.get_sequence(tenant_id, sequence_id)
        if sequence.status != "active":
            raise SequenceNotActiveError(
                f"sequence {sequence_id} is {sequence.status}; contacts can only be enrolled "
                "in an active sequence"
            )
        return sequence

    def _plan_enrollment(self, sequence: DripSequence, contact_ref: str, now: datetime,
                         source: str, contact: Contact | None,
                         known: Mapping[UUID, Aggregate | None] | None = None,
                         ) -> list[Aggregate]:
        """The aggregates to save to enroll the contact, or a named error saying why not.

        ``contact`` is the mirror when the caller already holds it (a CRM event being
        applied); otherwise it is loaded here. ``known`` holds aggregates already read from
        the store (None: there is none); anything not in it is loaded here.
        """
        def find(aggregate_id: UUID) -> Aggregate | None:
            return known[aggregate_id] if known and aggregate_id in known else (
                self._find(aggregate_id))

        if contact is None:
            found = find(ids.contact_id(sequence.tenant_id, contact_ref))
            contact = found if isinstance(found, Contact) else None
        if contact is not None and contact.deleted:
            raise ContactDeletedError(f"contact {contact_ref} was deleted in the CRM")
        if contact is not None and ALL_CHANNELS in contact.unsubscribed:
            raise ContactSuppressedError(f"contact {contact_ref} unsubscribed from every channel")
        first = sequence.first_step()
        assert first is not None  # an active sequence has steps (activation requires them)
        slot = find(slot_id(sequence.id, contact_ref))
        if not isinstance(slot, EnrollmentSlot):
            enrollment = self._new_enrollment(sequence, contact_ref, 1, now, source, contact)
            slot = EnrollmentSlot(sequence_id=sequence.id, contact_id=contact_ref,
                                  enrollment_id=enrollment.id, at=now)
            return [slot, enrollment]
        previous = find(slot.enrollment_id)
        assert isinstance(previous, Enrollment)
        if previous.is_open:
            raise AlreadyEnrolledError(
                f"contact {contact_ref} is already enrolled in sequence {sequence.id} "
                f"(enrollment {previous.id} is {previous.status})"
            )
        refusal = sequence.reenrollment.refusal(previous.status, previous.ended_at, now)
        if refusal:
            raise ReEnrollmentNotAllowedError(f"contact {contact_ref} cannot re-enter: {refusal}")
        enrollment = self._new_enrollment(sequence, contact_ref, slot.count + 1, now, source,
                                          contact)
        slot.reopen(enrollment_id=enrollment.id, at=now)
        return [slot, enrollment]

    @staticmethod
    def _new_enrollment(sequence: DripSequence, contact_ref: str, number: int,
                        now: datetime, source: str, contact: Contact | None) -> Enrollment:
        first = sequence.first_step()
        assert first is not None
        due = due_after(now, first, sequence, contact.timezone if contact else None)
        return Enrollment(
            id=ids.enrollment_id(sequence.id, contact_ref, number), tenant_id=sequence.tenant_id,
            sequence_id=sequence.id, contact_id=contact_ref, number=number,
            step_order=first.order, due_at=due, source=source, at=now,
        )

    # --- one enrollment ---------------------------------------------------------------------

    def exit_enrollment(self, tenant_id: str, enrollment_id: UUID, reason: str = "manual_exit",
                        expected_version: int | None = None) -> Enrollment:
        v.choice(reason, "reason", EXIT_REASONS)
        enrollment = self.get_enrollment(tenant_id, enrollment_id)
        self._check_version(enrollment, expected_version)
        enrollment.exit(reason, self.clock())
        self._save(enrollment)
        return enrollment

    def pause_enrollment(self, tenant_id: str, enrollment_id: UUID,
                         expected_version: int | None = None) -> Enrollment:
        enrollment = self.get_enrollment(tenant_id, enrollment_id)
        self._check_version(enrollment, expected_version)
        enrollment.pause(self.clock())
        self._save(enrollment)
        return enrollment

    def resume_enrollment(self, tenant_id: str, enrollment_id: UUID,
                          expected_version: int | None = None) -> Enrollment:
        enrollment = self.get_enrollment(tenant_id, enrollment_id)
        self._check_version(enrollment, expected_version)
        sequence = self.get_sequence(tenant_id, enrollment.sequence_id)
        if sequence.status != "active" and enrollment.status == "paused":
            raise InvalidTransitionError(
                f"sequence {sequence.id} is {sequence.status}: resume the sequence instead"
            )
        resume(enrollment, sequence, self._timezone_of(enrollment), self.clock())
        self._save(enrollment)
        return enrollment

    def _timezone_of(self, enrollment: Enrollment) -> str | None:
        contact = self._find(ids.contact_id(enrollment.tenant_id, enrollment.contact_id))
        return contact.timezone if isinstance(contact, Contact) else None

    def enrollment_history(self, tenant_id: str, enrollment_id: UUID) -> list[dict[str, Any]]:
        """Every event of the enrollment, oldest first, as plain data."""
        self.get_enrollment(tenant_id, enrollment_id)
        history = []
        for domain_event in self.events.get(enrollment_id):
            data = {k: val for k, val in domain_event.__dict__.items()
                    if k not in ("originator_id", "originator_version", "timestamp",
                                 "originator_topic")}
            history.append({"version": domain_event.originator_version,
                            "type": type(domain_event).TOPIC,  # type: ignore[attr-defined]
                            "at": data.pop("at"), "data": data})
        return history

    # --- many enrollments -------------------------------------------------------------------

    def _update_each(self, enrollment_ids: Iterable[UUID],
                     change: Callable[[Enrollment], bool]) -> int:
        """Apply ``change`` to each enrollment (it returns False to leave one alone) and save
        them in batches; an enrollment that changed under us is reloaded and tried again."""
        batch: list[Aggregate] = []
        changed = 0
        for enrollment_id in enrollment_ids:
            enrollment = self._find(enrollment_id)
            if isinstance(enrollment, Enrollment) and change(enrollment):
                batch.append(enrollment)
            if len(batch) >= 500:
                changed += self._save_each(batch, change)
                batch = []
        return changed + self._save_each(batch, change)

    def _save_each(self, batch: list[Aggregate], change: Callable[[Enrollment], bool]) -> int:
        try:
            self.save(*batch)
            return len(batch)
        except IntegrityError:
            pass
        changed = 0
        for stale in batch:
            for _ in range(5):
                fresh = self._find(stale.id)
                assert isinstance(fresh, Enrollment)
                if not change(fresh):
                    break
                try:
                    self.save(fresh)
                    changed += 1
                    break
                except IntegrityError:
                    continue
        return changed


# --- batched reads of event streams --------------------------------------------------------
# The library reads one stream per query (and, on PostgreSQL, per pooled-connection check-out
# with a pre-ping). A bulk enroll needs a few hundred streams per transaction, so it reads
# them with one query on the library's own events table. Any other store (the in-memory one
# of the unit tests) answers None, and the caller reads stream by stream.
