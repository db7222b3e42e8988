"""Sequence lifecycle commands, which also act on the sequence's enrollments: activate (and
enroll the contacts who already match), pause, resume, archive.

The sequence changes first; its open enrollments (from the write-side index, never a lagging
read model) follow in chunks, each chunk expecting the sequence unchanged while it is
written. A newer lifecycle command (a status change) stops an older one's remaining chunks,
so a pause that ran into a resume never leaves an enrollment paused in an active sequence;
any other change (a revision drafted or published) only makes the chunk decide again. The
scheduler, which expects the sequence unchanged too, decides again whenever it moved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from domain import ids, resuming
from domain.app_base import Core
from domain.app_enrollments import BulkEnrollment, EnrollmentCommands
from domain.contact import Contact
from domain.enrollment import Enrollment
from domain.errors import ConcurrencyConflictError
from domain.sequence import DripSequence
from domain.store import EnrollmentRow
from domain.unit_of_work import UnitOfWork

_CHUNK = 500


@dataclass
class Activation:
    sequence: DripSequence
    enrolled: BulkEnrollment | None = None
    position: int = 0


class _SupersededError(Exception):
    """The sequence changed again: the newer command looks after its enrollments."""


class LifecycleCommands:
    def __init__(self, core: Core, enrollments: EnrollmentCommands) -> None:
        self.core = core
        self.enrollments = enrollments

    def activate_sequence(self, tenant_id: str, sequence_id: UUID, enroll_existing: bool = False,
                          expected_version: int | None = None) -> Activation:
        """Activate a draft. With ``enroll_existing``, contacts whose known facts already
        match the trigger are enrolled at once (the seed's activation workflow): the facts
        recorded before the activation come from the contacts read model, brought at least
        to the activation's position; those recorded after it start the trigger anyway."""
        sequence, position = self.core.change_sequence(tenant_id, sequence_id, expected_version,
                                           lambda s: s.activate(self.core.clock()))
        if not enroll_existing or sequence.trigger_type == "manual":
            return Activation(sequence, position=position)
        contacts = self.core.lookups.contacts_matching_trigger(
            tenant_id, sequence.trigger_type, sequence.trigger_data, position)
        bulk = self.enrollments.enroll_many(tenant_id, sequence_id, contacts,
                                            source="enroll_existing")
        return Activation(sequence, bulk, max(position, bulk.position))

    def pause_sequence(self, tenant_id: str, sequence_id: UUID,
                       expected_version: int | None = None) -> DripSequence:
        """Pause the sequence, then its active enrollments. Should this stop half-way, the
        scheduler still sends nothing: it checks the sequence's status before every step."""
        now = self.core.clock()
        sequence, _ = self.core.change_sequence(tenant_id, sequence_id, expected_version,
                                   lambda s: s.pause(now))

        def pause(enrollment: Enrollment, _: DripSequence, __: UnitOfWork) -> bool:
            if enrollment.status != "active":
                return False
            enrollment.pause(now, by_sequence=True)
            return True

        self._each_enrollment(sequence, pause)
        return sequence

    def resume_sequence(self, tenant_id: str, sequence_id: UUID,
                        expected_version: int | None = None) -> DripSequence:
        """Resume the sequence and the enrollments its pause had paused (not those paused one
        by one), rescheduled by the sequence's resume policy (``domain.resuming``)."""
        now = self.core.clock()
        sequence, _ = self.core.change_sequence(tenant_id, sequence_id, expected_version,
                                   lambda s: s.resume(now))

        def wake(enrollment: Enrollment, current: DripSequence, uow: UnitOfWork) -> bool:
            if enrollment.status != "paused" or not enrollment.paused_by_sequence:
                return False
            contact = uow.get(ids.contact_id(enrollment.tenant_id, enrollment.contact_id),
                              Contact)
            resuming.resume(enrollment,
                            current.pinned(enrollment.revision).journey(enrollment.assignments),
                            contact.timezone if contact else None, now)
            return True

        self._each_enrollment(sequence, wake, with_contacts=True)
        return sequence

    def archive_sequence(self, tenant_id: str, sequence_id: UUID,
                         expected_version: int | None = None) -> DripSequence:
        """Archive the sequence (final); its open enrollments exit (``sequence_archived``)."""
        now = self.core.clock()
        sequence, _ = self.core.change_sequence(tenant_id, sequence_id, expected_version,
                                   lambda s: s.archive(now))

        def leave(enrollment: Enrollment, _: DripSequence, __: UnitOfWork) -> bool:
            if not enrollment.is_open:
                return False
            enrollment.exit("sequence_archived", now)
            return True

        self._each_enrollment(sequence, leave)
        return sequence

    # --- the enrollments of a sequence ----------------------------------------------------------

    def _each_enrollment(self, sequence: DripSequence,
                         change: Callable[[Enrollment, DripSequence, UnitOfWork], bool], *,
                         with_contacts: bool = False) -> None:
        rows = self.core.store.open_enrollments_of_sequence(sequence.id)
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start:start + _CHUNK]

            def decide(uow: UnitOfWork, chunk: list[EnrollmentRow] = chunk) -> None:
                current = uow.get(sequence.id, DripSequence)
                # Only another lifecycle command supersedes this one (its status moved on);
                # a revision drafted or published meanwhile does not: the chunk is decided
                # on the sequence as it is now.
                if current is None or current.status != sequence.status:
                    raise _SupersededError
                uow.expect(current)
                found = uow.load([row.enrollment_id for row in chunk])
                if with_contacts:
                    uow.load(ids.contact_id(e.tenant_id, e.contact_id)
                             for e in found.values() if isinstance(e, Enrollment))
                for enrollment in found.values():
                    if isinstance(enrollment, Enrollment):
                        change(enrollment, current, uow)

            try:
                self.core.decide(decide, attempts=5, what="updating the enrollments")
            except (_SupersededError, ConcurrencyConflictError):
                return
