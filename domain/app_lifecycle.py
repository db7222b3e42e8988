"""Sequence lifecycle commands, which also act on the sequence's enrollments."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain import resuming
from domain.app_enrollments import BulkEnrollment, EnrollmentCommands
from domain.enrollment import Enrollment
from domain.sequence import DripSequence


@dataclass
class Activation:
    sequence: DripSequence
    enrolled: BulkEnrollment | None = None


class LifecycleCommands(EnrollmentCommands):
    def activate_sequence(self, tenant_id: str, sequence_id: UUID, enroll_existing: bool = False,
                          expected_version: int | None = None) -> Activation:
        """Activate a draft. With ``enroll_existing``, contacts whose mirror already matches
        the trigger are enrolled at once (the seed's activation workflow); without it, the
        trigger acts only on events from now on."""
        sequence = self.get_sequence(tenant_id, sequence_id)
        self._check_version(sequence, expected_version)
        sequence.activate(self.clock())
        self._save(sequence)
        if not enroll_existing or sequence.trigger_type == "manual":
            return Activation(sequence)
        contacts = self.lookups.contacts_matching_trigger(
            tenant_id, sequence.trigger_type, sequence.trigger_data)
        return Activation(sequence, self.enroll_many(tenant_id, sequence_id, contacts,
                                                     source="enroll_existing"))

    def pause_sequence(self, tenant_id: str, sequence_id: UUID,
                       expected_version: int | None = None) -> DripSequence:
        """Pause the sequence, then its active enrollments. Should this stop half-way, the
        scheduler still sends nothing: it checks the sequence's status before every step."""
        sequence = self.get_sequence(tenant_id, sequence_id)
        self._check_version(sequence, expected_version)
        now = self.clock()
        sequence.pause(now)
        self._save(sequence)

        def pause(enrollment: Enrollment) -> bool:
            if enrollment.status != "active":
                return False
            enrollment.pause(now, by_sequence=True)
            return True

        self._update_each(self.lookups.open_enrollments_of_sequence(sequence_id), pause)
        return sequence

    def resume_sequence(self, tenant_id: str, sequence_id: UUID,
                        expected_version: int | None = None) -> DripSequence:
        """Resume the sequence and the enrollments its pause had paused (not those paused one
        by one), rescheduled by the sequence's resume policy (``domain.resuming``)."""
        sequence = self.get_sequence(tenant_id, sequence_id)
        self._check_version(sequence, expected_version)
        now = self.clock()
        sequence.resume(now)
        self._save(sequence)

        def wake(enrollment: Enrollment) -> bool:
            if enrollment.status != "paused" or not enrollment.paused_by_sequence:
                return False
            resuming.resume(enrollment, sequence, self._timezone_of(enrollment), now)
            return True

        self._update_each(self.lookups.open_enrollments_of_sequence(sequence_id), wake)
        return sequence

    def archive_sequence(self, tenant_id: str, sequence_id: UUID,
                         expected_version: int | None = None) -> DripSequence:
        """Archive the sequence (final); its open enrollments exit (``sequence_archived``)."""
        sequence = self.get_sequence(tenant_id, sequence_id)
        self._check_version(sequence, expected_version)
        now = self.clock()
        sequence.archive(now)
        self._save(sequence)

        def leave(enrollment: Enrollment) -> bool:
            if not enrollment.is_open:
                return False
            enrollment.exit("sequence_archived", now)
            return True

        self._update_each(self.lookups.open_enrollments_of_sequence(sequence_id), leave)
        return sequence
