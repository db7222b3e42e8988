"""The DripSequence aggregate: a sequence's definition and lifecycle.

Statuses: draft → active (activate) → paused (pause) → active (resume); any → archived
(archive), which is final; a draft can also be deleted. Steps and settings change only in
draft. Counters live in the ``sequence_stats`` read model, not here, so that enrolling and
sending never contend on the sequence's version.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.codec import Creation, trigger
from domain.errors import (
    DuplicateStepOrderError,
    InvalidTransitionError,
    SequenceHasNoStepsError,
    SequenceNotDraftError,
    StepNotFoundError,
)
from domain.steps import Step
from domain.triggers import ReEnrollment
from domain.windows import SendWindow

STATUSES = ("draft", "active", "paused", "archived", "deleted")
# Settings a draft may change with ``update``; each is validated by the application first.
SETTINGS = ("name", "description", "trigger_type", "trigger_data", "exit_on_reply",
            "reenrollment", "send_window", "resume_policy")
RESUME_POLICIES = ("send_late", "skip_missed")


class DripSequence(Aggregate):
    TOPIC = "dripline.DripSequence"

    class Event(Aggregate.Event):
        at: datetime

        def apply(self, s: Any) -> None:
            s.updated_at = self.at

    class Created(Creation, Aggregate.Created):
        TOPIC = "sequence.created"
        tenant_id: str
        name: str
        description: str
        trigger_type: str
        trigger_data: dict[str, str]
        exit_on_reply: bool
        reenrollment: dict[str, Any]
        at: datetime
        cloned_from: UUID | None
        # Fields added later need defaults so that older events still load.
        send_window: dict[str, Any] | None = None
        resume_policy: str = "send_late"

        def apply(self, s: Any) -> None:
            s.tenant_id, s.name, s.description = self.tenant_id, self.name, self.description
            s.trigger_type, s.trigger_data = self.trigger_type, dict(self.trigger_data)
            s.exit_on_reply = self.exit_on_reply
            s.reenrollment = ReEnrollment(**self.reenrollment)
            s.cloned_from, s.send_window = self.cloned_from, self.send_window
            s.resume_policy, s.status = self.resume_policy, "draft"
            s._steps = {}
            s.created_at = s.updated_at = self.at
            s.activated_at = None

    class Updated(Event):
        TOPIC = "sequence.updated"
        changes: dict[str, Any]

        def apply(self, s: Any) -> None:
            for key, value in self.changes.items():
                setattr(s, key, ReEnrollment(**value) if key == "reenrollment" else value)
            s.updated_at = self.at

    class StepAdded(Event):
        TOPIC = "sequence.step_added"
        step: dict[str, Any]

        def apply(self, s: Any) -> None:
            added = Step.from_stored(self.step)
            s._steps[added.id] = added
            s.updated_at = self.at

    class StepUpdated(Event):
        TOPIC = "sequence.step_updated"
        step: dict[str, Any]

        def apply(self, s: Any) -> None:
            updated = Step.from_stored(self.step)
            s._steps[updated.id] = updated
            s.updated_at = self.at

    class StepRemoved(Event):
        TOPIC = "sequence.step_removed"
        step_id: UUID

        def apply(self, s: Any) -> None:
            del s._steps[self.step_id]
            s.updated_at = self.at

    class Activated(Event):
        TOPIC = "sequence.activated"

        def apply(self, s: Any) -> None:
            s.status, s.activated_at, s.updated_at = "active", self.at, self.at

    class Paused(Event):
        TOPIC = "sequence.paused"

        def apply(self, s: Any) -> None:
            s.status, s.updated_at = "paused", self.at

    class Resumed(Event):
        TOPIC = "sequence.resumed"

        def apply(self, s: Any) -> None:
            s.status, s.updated_at = "active", self.at

    class Archived(Event):
        TOPIC = "sequence.archived"

        def apply(self, s: Any) -> None:
            s.status, s.updated_at = "archived", self.at

    class Deleted(Event):
        TOPIC = "sequence.deleted"

        def apply(self, s: Any) -> None:
            s.status, s.updated_at = "deleted", self.at

    if TYPE_CHECKING:  # set by ``Created.apply``; real annotations would make a dataclass
        tenant_id: str
        name: str
        description: str
        trigger_type: str
        trigger_data: dict[str, str]
        exit_on_reply: bool
        reenrollment: ReEnrollment
        cloned_from: UUID | None
        send_window: dict[str, Any] | None
        resume_policy: str
        status: str
        _steps: dict[UUID, Step]
        created_at: datetime
        updated_at: datetime
        activated_at: datetime | None

    @classmethod
    def start(cls, *, id: UUID, tenant_id: str, name: str, description: str,
              trigger_type: str, trigger_data: dict[str, str], exit_on_reply: bool,
              reenrollment: dict[str, Any], at: datetime, cloned_from: UUID | None,
              send_window: dict[str, Any] | None = None,
              resume_policy: str = "send_late") -> DripSequence:
        return cls._create(cls.Created, id=id, tenant_id=tenant_id, name=name,
                           description=description, trigger_type=trigger_type,
                           trigger_data=trigger_data, exit_on_reply=exit_on_reply,
                           reenrollment=reenrollment, at=at, cloned_from=cloned_from,
                           send_window=send_window, resume_policy=resume_policy, timestamp=at)

    def _emit(self, event_class: type[Aggregate.Event], **fields: Any) -> None:
        trigger(self, event_class, fields)

    # --- queries on the definition ----------------------------------------------------------

    @property
    def window(self) -> SendWindow | None:
        if not self.send_window:
            return None
        return SendWindow(hours=tuple(self.send_window["hours"]),
                          weekdays=tuple(self.send_window["weekdays"]),
                          timezone=self.send_window.get("timezone"))

    @property
    def steps(self) -> list[Step]:
        return sorted(self._steps.values(), key=lambda s: s.order)

    def step(self, step_id: UUID) -> Step:
        try:
            return self._steps[step_id]
        except KeyError:
            raise StepNotFoundError(f"sequence {self.id} has no step {step_id}") from None

    def step_at(self, order: int) -> Step | None:
        return next((s for s in self._steps.values() if s.order == order), None)

    def step_after(self, order: int) -> Step | None:
        later = [s for s in self._steps.values() if s.order > order]
        return min(later, key=lambda s: s.order) if later else None

    def first_step(self) -> Step | None:
        return self.steps[0] if self._steps else None

    # --- commands ----------------------------------------------------------------------------

    def update(self, changes: dict[str, Any], at: datetime) -> None:
        self._require_draft("change its settings")
        unknown = set(changes) - set(SETTINGS)
        if unknown:
            raise ValueError(f"not sequence settings: {sorted(unknown)}")
        self._emit(self.Updated, changes=changes, at=at)

    def add_step(self, step: Step, at: datetime) -> None:
        self._require_draft("add steps")
        self._require_free_order(step)
        self._emit(self.StepAdded, step=step.to_dict(), at=at)

    def update_step(self, step: Step, at: datetime) -> None:
        self._require_draft("change steps")
        self.step(step.id)
        self._require_free_order(step)
        self._emit(self.StepUpdated, step=step.to_dict(), at=at)

    def remove_step(self, step_id: UUID, at: datetime) -> None:
        self._require_draft("remove steps")
        self.step(step_id)
        self._emit(self.StepRemoved, step_id=step_id, at=at)

    def activate(self, at: datetime) -> None:
        self._require_status("activate", "draft")
        if not self._steps:
            raise SequenceHasNoStepsError(
                f"sequence {self.id} has no steps: add at least one step before activating it"
            )
        self._emit(self.Activated, at=at)

    def pause(self, at: datetime) -> None:
        self._require_status("pause", "active")
        self._emit(self.Paused, at=at)

    def resume(self, at: datetime) -> None:
        self._require_status("resume", "paused")
        self._emit(self.Resumed, at=at)

    def archive(self, at: datetime) -> None:
        self._require_status("archive", "draft", "active", "paused")
        self._emit(self.Archived, at=at)

    def delete(self, at: datetime) -> None:
        self._require_draft("be deleted (archive it instead)")
        self._emit(self.Deleted, at=at)

    # --- rules -------------------------------------------------------------------------------

    def _require_draft(self, what: str) -> None:
        if self.status != "draft":
            raise SequenceNotDraftError(
                f"sequence {self.id} is {self.status}; only a draft can {what}. "
                "Clone it to get an editable draft."
            )

    def _require_status(self, command: str, *allowed: str) -> None:
        if self.status not in allowed:
            raise InvalidTransitionError(
                f"cannot {command} sequence {self.id}: it is {self.status}, "
                f"and {command} applies only to a {' or '.join(allowed)} sequence"
            )

    def _require_free_order(self, step: Step) -> None:
        for other in self._steps.values():
            if other.order == step.order and other.id != step.id:
                raise DuplicateStepOrderError(
                    f"step order {step.order} is already used by step '{other.name}' "
                    f"({other.id}); each step needs its own order number"
                )
