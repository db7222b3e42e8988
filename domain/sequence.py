"""The DripSequence aggregate: a sequence's definition and lifecycle.

Statuses: draft → active (activate) → paused (pause) → active (resume); any → archived
(archive), which is final; a draft can also be deleted. Counters live in the
``sequence_stats`` read model, not here, so that enrolling and sending never contend on the
sequence's version.

A sequence keeps its id and holds numbered **revisions** (``Revision``): the steps and the
journey-shaping settings (``JOURNEY``). Name, description, trigger and re-enrollment stay on
the sequence. Revision 1 is made with the sequence and edited as long as the sequence is a
draft (today's routes); activating publishes it. After that, a change is a new draft
revision (``create_revision``, a copy of its base with the same step ids), edited, then
published (``publish_revision``): at most one draft at a time, and a published revision never
changes. Each enrollment is pinned to the revision live when it started.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.codec import Creation, trigger
from domain.errors import (
    DuplicateStepOrderError,
    ExperimentNotFoundError,
    InvalidInputError,
    InvalidTransitionError,
    RevisionNotDraftError,
    RevisionNotFoundError,
    SequenceHasNoStepsError,
    SequenceNotDraftError,
    StepNotFoundError,
)
from domain.experiments import arm_of, arm_steps, check_against, path_of
from domain.goals import Goal
from domain.steps import Step
from domain.triggers import ReEnrollment
from domain.windows import SendWindow

STATUSES = ("draft", "active", "paused", "archived", "deleted")
# Settings a draft may change with ``update``; each is validated by the application first.
SETTINGS = ("name", "description", "trigger_type", "trigger_data", "exit_on_reply",
            "reenrollment", "send_window", "resume_policy", "goal", "experiments",
            "holdout_percent", "frequency_cap_exempt")
# The settings that shape a journey: they belong to a revision, the others to the sequence.
JOURNEY = ("exit_on_reply", "send_window", "resume_policy", "goal", "experiments",
           "holdout_percent", "frequency_cap_exempt")
RESUME_POLICIES = ("send_late", "skip_missed")


@dataclass
class Revision:
    """One numbered version of a sequence's steps and journey settings. Mutated only by the
    sequence's events (a draft's edits); published ones never change."""

    number: int
    base: int | None
    exit_on_reply: bool
    send_window: dict[str, Any] | None
    resume_policy: str
    steps_by_id: dict[UUID, Step] = field(default_factory=dict)
    created_at: datetime | None = None
    published_at: datetime | None = None
    goal: dict[str, Any] | None = None  # ``domain.goals.Goal`` as stored; None: no goal
    # A/B tests (``domain.experiments``) and the share of enrollments held out of them.
    experiments: list[dict[str, Any]] = field(default_factory=list)
    holdout_percent: int = 0
    # What each experiment's looks found, by experiment id (``ExperimentEvaluated`` and
    # ``ExperimentConcluded``): {"looks": [...], "winner", "by", "concluded_at"}.
    trials: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Transactional: its sends are neither checked against frequency caps nor counted.
    frequency_cap_exempt: bool = False

    @property
    def published(self) -> bool:
        return self.published_at is not None

    @property
    def goal_rule(self) -> Goal | None:
        return Goal.from_stored(self.goal) if self.goal else None

    def copy(self, number: int, at: datetime) -> Revision:
        return replace(self, number=number, base=self.number, steps_by_id=dict(self.steps_by_id),
                       created_at=at, published_at=None,
                       goal=dict(self.goal) if self.goal else None,
                       experiments=list(self.experiments), trials={})

    def experiment(self, experiment_id: str) -> dict[str, Any] | None:
        return next((x for x in self.experiments if x["id"] == experiment_id), None)

    def trial(self, experiment_id: str) -> dict[str, Any]:
        return self.trials.get(experiment_id) or {"looks": [], "winner": None, "by": None,
                                                  "concluded_at": None}

    def winner_of(self, experiment_id: str) -> str | None:
        winner = self.trial(experiment_id)["winner"]
        return str(winner) if winner is not None else None

    @property
    def has_journey(self) -> bool:
        """Steps to follow: its own, or its path experiment's arms'."""
        return bool(self.steps_by_id) or path_of(self.experiments) is not None

    def journey(self, assignments: Mapping[str, Mapping[str, str]]) -> Revision:
        """The revision as an enrollment with these assignments follows it: with a path
        experiment, its arm's steps (held out or unassigned: the first arm's)."""
        path = path_of(self.experiments)
        if path is None:
            return self
        key = (assignments.get(path["id"]) or {}).get("arm")
        arm = (arm_of(path, key) if key else None) or path["arms"][0]
        return replace(self, steps_by_id=arm_steps(arm))

    def check_experiments(self) -> None:
        """The experiments fit this revision's steps and goal (a 422 naming the field)."""
        check_against(self.experiments, {str(i) for i in self.steps_by_id}, self.goal)

    @property
    def window(self) -> SendWindow | None:
        if not self.send_window:
            return None
        return SendWindow(hours=tuple(self.send_window["hours"]),
                          weekdays=tuple(self.send_window["weekdays"]),
                          timezone=self.send_window.get("timezone"))

    @property
    def steps(self) -> list[Step]:
        return sorted(self.steps_by_id.values(), key=lambda s: s.order)

    def step(self, step_id: UUID) -> Step:
        try:
            return self.steps_by_id[step_id]
        except KeyError:
            raise StepNotFoundError(
                f"revision {self.number} has no step {step_id}") from None

    def step_at(self, order: int) -> Step | None:
        return next((s for s in self.steps_by_id.values() if s.order == order), None)

    def step_after(self, order: int) -> Step | None:
        later = [s for s in self.steps_by_id.values() if s.order > order]
        return min(later, key=lambda s: s.order) if later else None

    def first_step(self) -> Step | None:
        return self.steps[0] if self.steps_by_id else None


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
        goal: dict[str, Any] | None = None
        frequency_cap_exempt: bool = False

        def apply(self, s: Any) -> None:
            s.tenant_id, s.name, s.description = self.tenant_id, self.name, self.description
            s.trigger_type, s.trigger_data = self.trigger_type, dict(self.trigger_data)
            s.reenrollment = ReEnrollment(**self.reenrollment)
            s.cloned_from = self.cloned_from
            s.status = "draft"
            s.revisions = {1: Revision(1, None, self.exit_on_reply, self.send_window,
                                       self.resume_policy, {}, created_at=self.at,
                                       goal=self.goal,
                                       frequency_cap_exempt=self.frequency_cap_exempt)}
            s.live_revision, s.draft_revision, s.last_revision = None, 1, 1
            s.created_at = s.updated_at = self.at
            s.activated_at = None

    class Updated(Event):
        TOPIC = "sequence.updated"
        changes: dict[str, Any]
        revision: int = 1  # where journey settings go; events stored before it: 1

        def apply(self, s: Any) -> None:
            for key, value in self.changes.items():
                if key in JOURNEY:
                    setattr(s.revisions[self.revision], key, value)
                else:
                    setattr(s, key, ReEnrollment(**value) if key == "reenrollment" else value)
            s.updated_at = self.at

    class StepAdded(Event):
        TOPIC = "sequence.step_added"
        step: dict[str, Any]
        revision: int = 1

        def apply(self, s: Any) -> None:
            added = Step.from_stored(self.step)
            s.revisions[self.revision].steps_by_id[added.id] = added
            s.updated_at = self.at

    class StepUpdated(Event):
        TOPIC = "sequence.step_updated"
        step: dict[str, Any]
        revision: int = 1

        def apply(self, s: Any) -> None:
            updated = Step.from_stored(self.step)
            s.revisions[self.revision].steps_by_id[updated.id] = updated
            s.updated_at = self.at

    class StepRemoved(Event):
        TOPIC = "sequence.step_removed"
        step_id: UUID
        revision: int = 1

        def apply(self, s: Any) -> None:
            del s.revisions[self.revision].steps_by_id[self.step_id]
            s.updated_at = self.at

    class Activated(Event):
        """Activating publishes revision 1 (the draft being edited until then)."""

        TOPIC = "sequence.activated"

        def apply(self, s: Any) -> None:
            s.status, s.activated_at, s.updated_at = "active", self.at, self.at
            if s.live_revision is None:
                s.revisions[1].published_at = self.at
                s.live_revision, s.draft_revision = 1, None

    class RevisionCreated(Event):
        TOPIC = "sequence.revision_created"
        revision: int
        base: int

        def apply(self, s: Any) -> None:
            s.revisions[self.revision] = s.revisions[self.base].copy(self.revision, self.at)
            s.draft_revision = s.last_revision = self.revision
            s.updated_at = self.at

    class RevisionPublished(Event):
        """A draft revision goes live for new enrollments; ``migrate`` (or None) is the
        migration of open enrollments asked for with it (``domain.migration``)."""

        TOPIC = "sequence.revision_published"
        revision: int
        migrate: dict[str, Any] | None

        def apply(self, s: Any) -> None:
            s.revisions[self.revision].published_at = self.at
            s.live_revision, s.draft_revision = self.revision, None
            s.updated_at = self.at

    class RevisionDiscarded(Event):
        TOPIC = "sequence.revision_discarded"
        revision: int

        def apply(self, s: Any) -> None:
            del s.revisions[self.revision]
            s.draft_revision = None
            s.updated_at = self.at

    class ExperimentEvaluated(Event):
        """A look at an experiment of ``revision`` (CAPABILITIES §1, rule 5), with the counts
        it used: {arm: {"exposures", "successes"}}; ``p_values`` of the best arm against each
        other; ``result`` insufficient | significant | not_significant."""

        TOPIC = "sequence.experiment_evaluated"
        revision: int
        experiment_id: str
        look: int
        counts: dict[str, Any]
        p_values: dict[str, Any]
        result: str
        best: str | None = None

        def apply(self, s: Any) -> None:
            trial = s.revisions[self.revision].trial(self.experiment_id)
            trial["looks"] = [*trial["looks"], {
                "n": self.look, "at": self.at, "result": self.result, "best": self.best,
                "counts": self.counts, "p_values": self.p_values}]
            s.revisions[self.revision].trials[self.experiment_id] = trial
            s.updated_at = self.at

    class ExperimentConcluded(Event):
        """An experiment of ``revision`` has a winner: new enrollments get it. ``by``: auto
        (a significant look), manual (``conclude``) or fallback (best observed after the
        last look)."""

        TOPIC = "sequence.experiment_concluded"
        revision: int
        experiment_id: str
        winner: str
        by: str

        def apply(self, s: Any) -> None:
            trial = s.revisions[self.revision].trial(self.experiment_id)
            trial.update(winner=self.winner, by=self.by, concluded_at=self.at)
            s.revisions[self.revision].trials[self.experiment_id] = trial
            s.updated_at = self.at

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
        reenrollment: ReEnrollment
        cloned_from: UUID | None
        status: str
        revisions: dict[int, Revision]
        live_revision: int | None  # None until activated
        draft_revision: int | None
        last_revision: int  # the highest number ever used (a discarded one is not reused)
        created_at: datetime
        updated_at: datetime
        activated_at: datetime | None

    @classmethod
    def start(cls, *, id: UUID, tenant_id: str, name: str, description: str,
              trigger_type: str, trigger_data: dict[str, str], exit_on_reply: bool,
              reenrollment: dict[str, Any], at: datetime, cloned_from: UUID | None,
              send_window: dict[str, Any] | None = None,
              resume_policy: str = "send_late",
              goal: dict[str, Any] | None = None,
              frequency_cap_exempt: bool = False) -> DripSequence:
        return cls._create(cls.Created, id=id, tenant_id=tenant_id, name=name,
                           description=description, trigger_type=trigger_type,
                           trigger_data=trigger_data, exit_on_reply=exit_on_reply,
                           reenrollment=reenrollment, at=at, cloned_from=cloned_from,
                           send_window=send_window, resume_policy=resume_policy, goal=goal,
                           frequency_cap_exempt=frequency_cap_exempt, timestamp=at)

    def _emit(self, event_class: type[Aggregate.Event], **fields: Any) -> None:
        trigger(self, event_class, fields)

    # --- queries on the definition ----------------------------------------------------------

    @property
    def current(self) -> Revision:
        """The live revision; before activation, revision 1 (the one being edited)."""
        return self.revisions[self.live_revision or 1]

    def revision(self, number: int) -> Revision:
        try:
            return self.revisions[number]
        except KeyError:
            raise RevisionNotFoundError(
                f"sequence {self.id} has no revision {number}") from None

    def goal_types(self) -> set[str]:
        """The event types of the goals of its published revisions: an enrollment pinned to
        any of them, the live one or an older one, may still convert."""
        return {r.goal["event_type"] for r in self.revisions.values()
                if r.published and r.goal}

    def pinned(self, number: int) -> Revision:
        """The revision an enrollment is pinned to (a published one is never removed)."""
        return self.revisions.get(number) or self.current

    # The live revision's definition, as a sequence without revisions showed it.
    @property
    def exit_on_reply(self) -> bool:
        return self.current.exit_on_reply

    @property
    def send_window(self) -> dict[str, Any] | None:
        return self.current.send_window

    @property
    def resume_policy(self) -> str:
        return self.current.resume_policy

    @property
    def goal(self) -> dict[str, Any] | None:
        return self.current.goal

    @property
    def frequency_cap_exempt(self) -> bool:
        return self.current.frequency_cap_exempt

    @property
    def window(self) -> SendWindow | None:
        return self.current.window

    @property
    def steps(self) -> list[Step]:
        return self.current.steps

    def step(self, step_id: UUID) -> Step:
        return self.current.step(step_id)

    def first_step(self) -> Step | None:
        return self.current.first_step()

    # --- commands ----------------------------------------------------------------------------

    def update(self, changes: dict[str, Any], at: datetime, revision: int | None = None) -> None:
        """Change settings: the sequence's own while it is a draft (with revision 1's journey
        settings); a draft revision's journey settings when ``revision`` names it."""
        number = self._editable(revision, "change its settings")
        unknown = set(changes) - set(SETTINGS if revision is None else JOURNEY)
        if unknown:
            owner = "sequence" if revision is None else "revision"
            raise ValueError(f"not settings of this {owner}: {sorted(unknown)}")
        if "experiments" in changes or "goal" in changes:
            target = self.revisions[number]
            check_against(changes.get("experiments", target.experiments),
                          {str(i) for i in target.steps_by_id},
                          changes.get("goal", target.goal))
        self._emit(self.Updated, changes=changes, revision=number, at=at)

    def add_step(self, step: Step, at: datetime, revision: int | None = None) -> None:
        number = self._editable(revision, "add steps")
        if path_of(self.revisions[number].experiments) is not None:
            raise InvalidInputError("steps", "the revision has a path experiment: each arm "
                                             "has its steps, the revision none of its own")
        self._require_free_order(self.revisions[number], step)
        self._emit(self.StepAdded, step=step.to_dict(), revision=number, at=at)

    def update_step(self, step: Step, at: datetime, revision: int | None = None) -> None:
        number = self._editable(revision, "change steps")
        self.revisions[number].step(step.id)
        self._require_free_order(self.revisions[number], step)
        self._emit(self.StepUpdated, step=step.to_dict(), revision=number, at=at)

    def remove_step(self, step_id: UUID, at: datetime, revision: int | None = None) -> None:
        number = self._editable(revision, "remove steps")
        self.revisions[number].step(step_id)
        self._emit(self.StepRemoved, step_id=step_id, revision=number, at=at)

    def replace_steps(self, steps: Sequence[Step], at: datetime, revision: int | None = None,
                      new: Collection[UUID] = ()) -> None:
        """Make a draft's steps exactly ``steps``, checked whole before anything is recorded:
        a listed step the draft has is kept (an event only if it changed; its provenance
        stays), a step whose id is in ``new`` is added, and a step of the draft not listed is
        removed. Orders need only be unique in the final list, so steps can swap in one
        write. Errors name the item (``steps[2].id``)."""
        number = self._editable(revision, "change steps")
        target = self.revisions[number]
        _check_listed(steps, target, set(new))
        if steps and path_of(target.experiments) is not None:
            raise InvalidInputError("steps", "the revision has a path experiment: each arm "
                                             "has its steps, the revision none of its own")
        listed = {s.id for s in steps}
        removed = [s.id for s in target.steps if s.id not in listed]
        kept = [(s, target.steps_by_id.get(s.id)) for s in steps]
        # Removals first, then changes, then additions: an added step never meets a removed
        # step's order. A changed step may take, for one event, the order of another that
        # changes after it (a swap): the read models key steps by id, so each step's last
        # event sets where it ends (tests/integration/test_replace_steps_stores.py rebuilds).
        for step_id in removed:
            self._emit(self.StepRemoved, step_id=step_id, revision=number, at=at)
        for step, before in kept:
            if before is not None:
                step = replace(step, source_template=before.source_template)
                if step != before:
                    self._emit(self.StepUpdated, step=step.to_dict(), revision=number, at=at)
        for step, before in kept:
            if before is None:
                self._emit(self.StepAdded, step=step.to_dict(), revision=number, at=at)

    def activate(self, at: datetime) -> None:
        self._require_status("activate", "draft")
        if not self.revisions[1].has_journey:
            raise SequenceHasNoStepsError(
                f"sequence {self.id} has no steps: add at least one step before activating it"
            )
        self.revisions[1].check_experiments()
        self._emit(self.Activated, at=at)

    def create_revision(self, at: datetime, base: int | None = None) -> int:
        """A new draft revision copying ``base`` (default: the live one); its number."""
        self._require_status("create a revision of", "active", "paused")
        if self.draft_revision is not None:
            raise InvalidTransitionError(
                f"sequence {self.id} already has a draft revision ({self.draft_revision}); "
                "edit, publish or discard it first")
        number = self.live_revision if base is None else base
        source = self.revisions.get(number) if number is not None else None
        if source is None or not source.published:
            raise RevisionNotFoundError(
                f"sequence {self.id} has no published revision {number} to start from")
        self._emit(self.RevisionCreated, revision=self.last_revision + 1, base=source.number,
                   at=at)
        return self.last_revision

    def check_publishable(self, number: int) -> Revision:
        """The draft revision ``number``, if it can be published now (else a named error)."""
        self._require_status("publish a revision of", "active", "paused")
        draft = self.revision(number)
        if draft.published:
            raise RevisionNotDraftError(
                f"revision {number} of sequence {self.id} is already published; "
                "only a draft revision can be published")
        if not draft.has_journey:
            raise SequenceHasNoStepsError(
                f"revision {number} of sequence {self.id} has no steps: add at least one "
                "before publishing it")
        draft.check_experiments()
        return draft

    def publish_revision(self, number: int, at: datetime,
                         migrate: dict[str, Any] | None = None) -> None:
        self.check_publishable(number)
        self._emit(self.RevisionPublished, revision=number, migrate=migrate, at=at)

    def discard_revision(self, number: int, at: datetime) -> None:
        if self.status == "draft" or self.live_revision is None:
            raise InvalidTransitionError(
                f"sequence {self.id} was never activated: revision 1 is the sequence itself; "
                "delete the sequence instead")
        self._require_draft_revision(number, "be discarded")
        self._emit(self.RevisionDiscarded, revision=number, at=at)

    def record_look(self, number: int, experiment_id: str, *, counts: dict[str, Any],
                    p_values: dict[str, Any], result: str, best: str | None,
                    at: datetime) -> None:
        self._require_running(number, experiment_id)
        look = len(self.revision(number).trial(experiment_id)["looks"]) + 1
        self._emit(self.ExperimentEvaluated, revision=number, experiment_id=experiment_id,
                   look=look, counts=counts, p_values=p_values, result=result, best=best,
                   at=at)

    def conclude_experiment(self, number: int, experiment_id: str, winner: str, by: str,
                            at: datetime) -> None:
        experiment = self._require_running(number, experiment_id)
        if winner not in {a["key"] for a in experiment["arms"]}:
            raise InvalidInputError("winner", f"experiment {experiment_id} has no arm "
                                              f"{winner!r}")
        self._emit(self.ExperimentConcluded, revision=number, experiment_id=experiment_id,
                   winner=winner, by=by, at=at)

    def _require_running(self, number: int, experiment_id: str) -> dict[str, Any]:
        revision = self.revision(number)
        experiment = revision.experiment(experiment_id)
        if experiment is None:
            raise ExperimentNotFoundError(
                f"revision {number} of sequence {self.id} has no experiment {experiment_id}")
        if revision.winner_of(experiment_id) is not None:
            raise InvalidTransitionError(
                f"experiment {experiment_id} is concluded already (winner "
                f"{revision.winner_of(experiment_id)}); change arms through a new revision")
        return experiment

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

    def _editable(self, revision: int | None, what: str) -> int:
        """The revision number an edit goes to: revision 1 of a draft sequence when none is
        named, else the named draft revision."""
        if revision is None:
            self._require_draft(what)
            return 1
        if self.status in ("archived", "deleted"):
            raise InvalidTransitionError(
                f"sequence {self.id} is {self.status}; its revisions cannot change")
        self._require_draft_revision(revision, what)
        return revision

    def check_editable(self, number: int) -> None:
        """Raise what an edit of revision ``number`` would (not found, not a draft)."""
        self._editable(number, "change")

    def _require_draft_revision(self, number: int, what: str) -> None:
        if self.revision(number).published:
            raise RevisionNotDraftError(
                f"revision {number} of sequence {self.id} is published, and a published "
                f"revision never changes; only a draft revision can {what}. Create a new "
                "revision (POST .../revisions) to change it.")

    def _require_draft(self, what: str) -> None:
        if self.status != "draft":
            raise SequenceNotDraftError(
                f"sequence {self.id} is {self.status}; only a draft can {what}. "
                "To change an active sequence, create a revision (POST "
                f"/api/v1/automation/sequences/{self.id}/revisions), edit it and publish it; "
                "or clone it to get an editable draft."
            )

    def _require_status(self, command: str, *allowed: str) -> None:
        if self.status not in allowed:
            raise InvalidTransitionError(
                f"cannot {command} sequence {self.id}: it is {self.status}, "
                f"and {command} applies only to a {' or '.join(allowed)} sequence"
            )

    @staticmethod
    def _require_free_order(revision: Revision, step: Step) -> None:
        for other in revision.steps_by_id.values():
            if other.order == step.order and other.id != step.id:
                raise DuplicateStepOrderError(
                    f"step order {step.order} is already used by step '{other.name}' "
                    f"({other.id}); each step needs its own order number"
                )


MAX_STEPS = 100  # a revision's steps in one list (as when creating a sequence with its steps)


def _check_listed(steps: Sequence[Step], target: Revision, new: set[UUID]) -> None:
    """Each listed step is the draft's or new, once; each order is used once."""
    if len(steps) > MAX_STEPS:
        raise InvalidInputError("steps", f"must be a list of at most {MAX_STEPS} steps")
    ids: dict[UUID, int] = {}
    orders: dict[int, int] = {}
    for i, step in enumerate(steps):
        if step.id in ids:
            raise InvalidInputError(f"steps[{i}].id", f"step {step.id} is listed twice "
                                                      f"(also steps[{ids[step.id]}])")
        if step.id not in new and step.id not in target.steps_by_id:
            raise InvalidInputError(f"steps[{i}].id", f"revision {target.number} has no step "
                                                      f"{step.id}; leave id out for a new step")
        if step.order in orders:
            raise InvalidInputError(f"steps[{i}].order", f"order {step.order} is also used by "
                                                         f"steps[{orders[step.order]}]")
        ids[step.id], orders[step.order] = i, i
