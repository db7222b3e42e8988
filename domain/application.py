"""The Dripline application: the core's commands and queries behind one object.

Built by the composition root (``dripline.bootstrap``) with the persistence settings (whose
recorder is Dripline's event store, ``domain.store``), a clock, an aggregate cache and the
read-model lookups. Each use case is a command handler of its own (sequences, lifecycle,
enrollments, CRM events, execution), all writing through one unit of work (``Core.decide``);
this object only wires them and offers their methods.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper, ProcessRecorder, Recording, Tracking
from eventsourcing.utils import EnvType

from domain.app_base import Core, Settings
from domain.app_crm import CrmCommands, CrmOutcome
from domain.app_enrollments import BulkEnrollment, EnrollmentCommands
from domain.app_execution import ExecutionCommands
from domain.app_experiments import ExperimentCommands
from domain.app_lifecycle import Activation, LifecycleCommands
from domain.app_revisions import RevisionCommands
from domain.app_sequences import SequenceCommands
from domain.app_settings import SettingsCommands
from domain.app_templates import TemplateCommands
from domain.app_why import WhyQueries
from domain.clock import Clock, system_clock
from domain.codec import EventMapper
from domain.crm import CrmEvent
from domain.enrollment import Enrollment
from domain.execution import StepOutcome
from domain.lookups import Lookups
from domain.sequence import DripSequence
from domain.steps import Step
from domain.store import EventStore
from domain.tenant_settings import TenantSettings
from domain.unit_of_work import AggregateCache, Committed


class StoreNotConfiguredError(RuntimeError):
    pass


class DriplineApp(Application[UUID]):
    # Set on the concrete class: the library gives every subclass its own class name unless
    # the subclass sets one, and the name picks the tables (dripline_events, ...).
    name = "dripline"

    def __init__(self, env: EnvType | None = None, *, clock: Clock = system_clock,
                 lookups: Lookups | None = None, cache: AggregateCache | None = None,
                 settings: Settings | None = None) -> None:
        super().__init__(env)
        if not hasattr(self.recorder, "write"):
            raise StoreNotConfiguredError(
                "the event store is not Dripline's: build the environment with "
                "projections.storage.env (PROCESS_RECORDER_TOPIC names it)")
        self.clock = clock
        if not isinstance(self.mapper, EventMapper):
            raise StoreNotConfiguredError("the event mapper is not Dripline's")
        self.core = Core(self.store, self.mapper, clock, cache=cache, lookups=lookups,
                         settings=settings)
        self.sequences = SequenceCommands(self.core)
        self.enrollments = EnrollmentCommands(self.core)
        self.lifecycle = LifecycleCommands(self.core, self.enrollments)
        self.crm = CrmCommands(self.core)
        self.execution = ExecutionCommands(self.core)
        self.revisions = RevisionCommands(self.core)
        self.templates = TemplateCommands(self.core)
        self.why = WhyQueries(self.core, lambda aggregate_id: list(self.events.get(aggregate_id)))
        self.experiments = ExperimentCommands(self.core)
        self.tenant_config = SettingsCommands(self.core)

    def construct_mapper(self) -> Mapper[UUID]:
        return EventMapper()

    def construct_recorder(self) -> ProcessRecorder:
        return self.factory.process_recorder()

    @property
    def store(self) -> EventStore:
        return cast(EventStore, self.recorder)  # checked in __init__: it has its methods

    @property
    def lookups(self) -> Lookups:
        return self.core.lookups

    @lookups.setter
    def lookups(self, lookups: Lookups) -> None:
        self.core.lookups = lookups

    # --- one way to write, also for callers holding aggregates ---------------------------------

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """Save these aggregates' new events (and their index rows) in one transaction."""
        aggregates = [o for o in objs if isinstance(o, Aggregate)]
        return _recordings(self.record_tracked(aggregates, kwargs.get("tracking")))

    def record_tracked(self, aggregates: Sequence[Aggregate],
                       tracking: Tracking | None) -> Committed:
        """Save aggregates changed outside a unit of work (and a tracking position). Cached
        copies of them are dropped: the cache only ever holds what a unit of work wrote."""
        if self.core.cache is not None:
            self.core.cache.drop(a.id for a in aggregates)
        uow = self.core.reader()
        uow.add(*aggregates)
        return uow.commit(tracking)

    # --- queries of one aggregate ------------------------------------------------------------

    def get_sequence(self, tenant_id: str, sequence_id: UUID) -> DripSequence:
        return self.core.read_sequence(tenant_id, sequence_id)

    def get_enrollment(self, tenant_id: str, enrollment_id: UUID) -> Enrollment:
        uow = self.core.reader()
        try:
            return self.core.enrollment(uow, tenant_id, enrollment_id)
        finally:
            uow.discard()

    def enrollment_history(self, tenant_id: str, enrollment_id: UUID) -> list[dict[str, Any]]:
        self.get_enrollment(tenant_id, enrollment_id)
        return self.enrollments.history(tenant_id, enrollment_id,
                                        list(self.events.get(enrollment_id)))

    # --- commands --------------------------------------------------------------------------------

    def create_sequence(self, tenant_id: str, data: dict[str, Any]) -> DripSequence:
        return self.sequences.create_sequence(tenant_id, data)

    def update_sequence(self, tenant_id: str, sequence_id: UUID, data: dict[str, Any],
                        expected_version: int | None = None) -> DripSequence:
        return self.sequences.update_sequence(tenant_id, sequence_id, data, expected_version)

    def add_step(self, tenant_id: str, sequence_id: UUID, data: dict[str, Any],
                 expected_version: int | None = None, revision: int | None = None,
                 ) -> tuple[DripSequence, Step]:
        step = self.templates.step_from(tenant_id, data) if "template_id" in data else None
        return self.sequences.add_step(tenant_id, sequence_id, data, expected_version,
                                       revision, step)

    def update_step(self, tenant_id: str, sequence_id: UUID, step_id: UUID,
                    data: dict[str, Any], expected_version: int | None = None,
                    revision: int | None = None) -> tuple[DripSequence, Step]:
        return self.sequences.update_step(tenant_id, sequence_id, step_id, data,
                                          expected_version, revision)

    def remove_step(self, tenant_id: str, sequence_id: UUID, step_id: UUID,
                    expected_version: int | None = None, revision: int | None = None,
                    ) -> DripSequence:
        return self.sequences.remove_step(tenant_id, sequence_id, step_id, expected_version,
                                          revision)

    def replace_steps(self, tenant_id: str, sequence_id: UUID, items: object,
                      expected_version: int | None = None, revision: int | None = None,
                      ) -> DripSequence:
        return self.sequences.replace_steps(
            tenant_id, sequence_id, items, expected_version, revision,
            lambda item, where: self.templates.listed_step_from(tenant_id, item, where))

    def delete_sequence(self, tenant_id: str, sequence_id: UUID,
                        expected_version: int | None = None) -> None:
        self.sequences.delete_sequence(tenant_id, sequence_id, expected_version)

    def clone_sequence(self, tenant_id: str, sequence_id: UUID, name: str | None = None,
                       target_tenant_id: str | None = None) -> DripSequence:
        return self.sequences.clone_sequence(tenant_id, sequence_id, name, target_tenant_id)

    def activate_sequence(self, tenant_id: str, sequence_id: UUID, enroll_existing: bool = False,
                          expected_version: int | None = None) -> Activation:
        return self.lifecycle.activate_sequence(tenant_id, sequence_id, enroll_existing,
                                                expected_version)

    def pause_sequence(self, tenant_id: str, sequence_id: UUID,
                       expected_version: int | None = None) -> DripSequence:
        return self.lifecycle.pause_sequence(tenant_id, sequence_id, expected_version)

    def resume_sequence(self, tenant_id: str, sequence_id: UUID,
                        expected_version: int | None = None) -> DripSequence:
        return self.lifecycle.resume_sequence(tenant_id, sequence_id, expected_version)

    def archive_sequence(self, tenant_id: str, sequence_id: UUID,
                         expected_version: int | None = None) -> DripSequence:
        return self.lifecycle.archive_sequence(tenant_id, sequence_id, expected_version)

    def enroll(self, tenant_id: str, sequence_id: UUID, contact_id: str,
               source: str = "manual") -> Enrollment:
        return self.enrollments.enroll(tenant_id, sequence_id, contact_id, source)

    def enroll_many(self, tenant_id: str, sequence_id: UUID, contact_ids: list[str],
                    source: str = "bulk") -> BulkEnrollment:
        return self.enrollments.enroll_many(tenant_id, sequence_id, contact_ids, source)

    def exit_enrollment(self, tenant_id: str, enrollment_id: UUID, reason: str = "manual_exit",
                        expected_version: int | None = None) -> Enrollment:
        return self.enrollments.exit_enrollment(tenant_id, enrollment_id, reason,
                                                expected_version)

    def pause_enrollment(self, tenant_id: str, enrollment_id: UUID,
                         expected_version: int | None = None) -> Enrollment:
        return self.enrollments.pause_enrollment(tenant_id, enrollment_id, expected_version)

    def resume_enrollment(self, tenant_id: str, enrollment_id: UUID,
                          expected_version: int | None = None) -> Enrollment:
        return self.enrollments.resume_enrollment(tenant_id, enrollment_id, expected_version)

    def record_crm_event(self, crm_event: CrmEvent) -> CrmOutcome:
        return self.crm.record_crm_event(crm_event)

    def record_batch(self, events: Sequence[CrmEvent], tracking: Tracking | None = None,
                     ) -> tuple[list[CrmOutcome], Committed]:
        return self.crm.record_batch(events, tracking)

    def execute_due(self, enrollment_ids: Iterable[UUID]) -> list[StepOutcome]:
        return self.execution.execute_due(enrollment_ids)

    def tenant_settings(self, tenant_id: str) -> TenantSettings | None:
        return self.tenant_config.tenant_settings(tenant_id)

    def update_tenant_settings(self, tenant_id: str, data: object,
                               expected_version: int | None = None) -> TenantSettings:
        return self.tenant_config.update_tenant_settings(tenant_id, data, expected_version)


def _recordings(committed: Committed) -> list[Recording[UUID]]:
    from eventsourcing.persistence import Notification

    out: list[Recording[UUID]] = []
    for event, position in zip(committed.events, committed.positions, strict=False):
        out.append(Recording(event, Notification(
            id=position, originator_id=event.originator_id,
            originator_version=event.originator_version, topic="", state=b"")))
    return out
