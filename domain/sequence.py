"""The DripSequence aggregate: a sequence's definition and lifecycle.

Statuses: draft → active (activate) → paused (pause) → active (resume); any → archived
(archive), which is final; a draft can also be deleted. Steps and settings change only in
draft. Counters live in the ``sequence_stats`` read model, not here, so that enrolling and
sending never contend on the sequence's version.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

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

    class Created(Aggregate.Created):
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
        send_window: dict[str, Any] | None = None
        resume_policy: str = "send_late"

    class Updated(Event):
        TOPIC = "sequence.updated"
        changes: dict[str, Any]

    class StepAdded(Event):
        TOPIC = "sequence.step_added"
        step: dict[str, Any]

    class StepUpdated(Event):
        TOPIC = "sequence.step_updated"
        step: dict[str, Any]

    class StepRemoved(Event):
        TOPIC = "sequence.step_removed"
        step_id: UUID

    class Activated(Event):
        TOPIC = "sequence.activated"

    class Paused(Event):
        TOPIC = "sequence.paused"

    class Resumed(Event):
        TOPIC = "sequence.resumed"

    class Archived(Event):
        TOPIC = "sequence.archived"

    class Deleted(Event):
        TOPIC = "sequence.deleted"

    @event(Created)
    def __init__(self, id: UUID, tenant_id: str, name: str, description: str,
                 trigger_type: str, trigger_data: dict[str, str], exit_on_reply: bool,
                 reenrollment: dict[str, Any], at: datetime, cloned_from: UUID | None,
                 send_window: dict[str, Any] | None = None,
                 resume_policy: str = "send_late") -> None:
        # No keyword-only parameters here: the library treats those as required even with a
        # default, and fields added later need defaults so older events still load.
        self.tenant_id = tenant_id
        self.name = name
        self.description = description
        self.trigger_type = trigger_type
        self.trigger_data = dict(trigger_data)
        self.exit_on_reply = exit_on_reply
        self.reenrollment = ReEnrollment(**reenrollment)
        self.cloned_from = cloned_from
        self.send_window = send_window
        self.resume_policy = resume_policy
        self.status = "draft"
        self._steps: dict[UUID, Step] = {}
        self.created_at = at
        self.updated_at = at
        self.activated_at: datetime | None = None

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
        self._update(changes=changes, at=at)

    @event(Updated)
    def _update(self, changes: dict[str, Any], at: datetime) -> None:
        for key, value in changes.items():
            setattr(self, key, ReEnrollment(**value) if key == "reenrollment" else value)
        self.updated_at = at

    def add_step(self, step: Step, at: datetime) -> None:
        self._require_draft("add steps")
        self._require_free_order(step)
        self._add_step(step=step.to_dict(), at=at)

    @event(StepAdded)
    def _add_step(self, step: dict[str, Any], at: datetime) -> None:
        added = Step.from_stored(step)
        self._steps[added.id] = added
        self.updated_at = at

    def update_step(self, step: Step, at: datetime) -> None:
        self._require_draft("change steps")
        self.step(step.id)
        self._require_free_order(step)
        self._update_step(step=step.to_dict(), at=at)

    @event(StepUpdated)
    def _update_step(self, step: dict[str, Any], at: datetime) -> None:
        updated = Step.from_stored(step)
        self._steps[updated.id] = updated
        self.updated_at = at

    def remove_step(self, step_id: UUID, at: datetime) -> None:
        self._require_draft("remove steps")
        self.step(step_id)
        self._remove_step(step_id=step_id, at=at)

    @event(StepRemoved)
    def _remove_step(self, step_id: UUID, at: datetime) -> None:
        del self._steps[step_id]
        self.updated_at = at

    def activate(self, at: datetime) -> None:
        self._require_status("activate", "draft")
        if not self._steps:
            raise SequenceHasNoStepsError(
                f"sequence {self.id} has no steps: add at least one step before activating it"
            )
        self._activate(at=at)

    @event(Activated)
    def _activate(self, at: datetime) -> None:
        self.status = "active"
        self.activated_at = at
        self.updated_at = at

    def pause(self, at: datetime) -> None:
        self._require_status("pause", "active")
        self._pause(at=at)

    @event(Paused)
    def _pause(self, at: datetime) -> None:
        self.status = "paused"
        self.updated_at = at

    def resume(self, at: datetime) -> None:
        self._require_status("resume", "paused")
        self._resume(at=at)

    @event(Resumed)
    def _resume(self, at: datetime) -> None:
        self.status = "active"
        self.updated_at = at

    def archive(self, at: datetime) -> None:
        self._require_status("archive", "draft", "active", "paused")
        self._archive(at=at)

    @event(Archived)
    def _archive(self, at: datetime) -> None:
        self.status = "archived"
        self.updated_at = at

    def delete(self, at: datetime) -> None:
        self._require_draft("be deleted (archive it instead)")
        self._delete(at=at)

    @event(Deleted)
    def _delete(self, at: datetime) -> None:
        self.status = "deleted"
        self.updated_at = at

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
