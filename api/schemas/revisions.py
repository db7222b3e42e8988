"""Revision schemas (CAPABILITIES §8): a sequence's numbered versions of its steps and journey
settings, publishing with an optional migration, and a migration's progress."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field, StrictBool, StrictInt

from api.schemas.common import RequestBody
from api.schemas.experiments import EXPERIMENTS_DOC, HOLDOUT_DOC, ExperimentIn, ExperimentOut
from api.schemas.sequences import GoalIn, GoalOut, ResumePolicy, SendWindowIn, SendWindowOut
from api.schemas.steps import StepOut
from domain.migration import Migration, Plan
from domain.sequence import DripSequence, Revision

RevisionStatus = Literal["draft", "live", "previous", "retired"]


def revision_status(sequence: DripSequence, revision: Revision, open_enrollments: int,
                    ) -> RevisionStatus:
    if not revision.published:
        return "draft"
    if revision.number == sequence.live_revision:
        return "live"
    return "previous" if open_enrollments else "retired"


class RevisionCreate(RequestBody):
    from_revision: StrictInt | None = Field(
        default=None, ge=1, description="The published revision to copy (default: the live one)")


class RevisionUpdate(RequestBody):
    """The journey settings of a draft revision to change (the fields given)."""

    exit_on_reply: StrictBool | None = None
    send_window: SendWindowIn | None = Field(default=None, description="null removes it")
    resume_policy: ResumePolicy | None = None
    goal: GoalIn | None = Field(default=None, description="null removes it")
    experiments: list[ExperimentIn] | None = Field(default=None, max_length=5,
                                                   description=EXPERIMENTS_DOC)
    holdout_percent: StrictInt | None = Field(default=None, ge=0, le=50,
                                              description=HOLDOUT_DOC)
    frequency_cap_exempt: StrictBool | None = None


class RevisionSummary(BaseModel):
    revision: int
    status: RevisionStatus
    published_at: datetime | None
    open_enrollments: int = Field(description="Active or paused enrollments pinned to it")
    base_revision: int | None
    retired: bool = Field(description="Published, not live, and no enrollment follows it")


class RevisionOut(RevisionSummary):
    sequence_id: UUID
    created_at: datetime | None
    exit_on_reply: bool
    send_window: SendWindowOut | None
    resume_policy: str
    goal: GoalOut | None = None
    frequency_cap_exempt: bool = False
    steps: list[StepOut]
    experiments: list[ExperimentOut] = Field(default_factory=list)
    holdout_percent: int = 0
    version: int = Field(description="The sequence's version (send it back in If-Match)")

    @classmethod
    def of(cls, sequence: DripSequence, revision: Revision, open_enrollments: int,
           ) -> RevisionOut:
        status = revision_status(sequence, revision, open_enrollments)
        return cls(
            revision=revision.number, status=status, published_at=revision.published_at,
            open_enrollments=open_enrollments, base_revision=revision.base,
            retired=status == "retired", sequence_id=sequence.id,
            created_at=revision.created_at, exit_on_reply=revision.exit_on_reply,
            send_window=(SendWindowOut(**revision.send_window) if revision.send_window
                         else None),
            resume_policy=revision.resume_policy,
            goal=GoalOut(**revision.goal) if revision.goal else None,
            frequency_cap_exempt=revision.frequency_cap_exempt,
            steps=[StepOut.model_validate(step.to_dict()) for step in revision.steps],
            experiments=[ExperimentOut.model_validate(x) for x in revision.experiments],
            holdout_percent=revision.holdout_percent, version=sequence.version)


class StepTarget(RequestBody):
    to: UUID | None = Field(default=None, description="The new revision's step to move to")
    exit: Literal[True] | None = Field(default=None,
                                       description="Leave instead (exit reason step_removed)")


class MigrateIn(RequestBody):
    step_map: dict[str, StepTarget] = Field(
        default_factory=dict,
        description="Old step id → {to: new step id} or {exit: true}. A step whose id the "
                    "new revision still has maps to itself unless given here; any other step "
                    "where open enrollments wait must be given (else 422 naming "
                    "migrate.step_map.<step_id>).")
    due: Literal["keep", "recompute"] = Field(
        default="keep", description="keep: the due time stays; recompute: the last executed "
                                    "step's time + the new step's delay, never before now, "
                                    "then the send window")


class PublishIn(RequestBody):
    migrate: MigrateIn | None = Field(
        default=None, description="Move open enrollments of older revisions (in the "
                                  "background); without it they stay on their revision")
    dry_run: StrictBool = Field(default=False,
                                description="Write nothing; answer what would move")


class PlannedMove(BaseModel):
    from_step: str
    to_step: str | None = Field(description="null: they leave (step_removed)")
    count: int


class Conflict(BaseModel):
    enrollment_id: str
    from_step: str
    to_step: str


class MigrationPlanOut(BaseModel):
    id: UUID | None = Field(description="The migration (null when none was asked for)")
    planned: list[PlannedMove]
    conflicts: list[Conflict] = Field(description=(
        "Enrollments whose target is at or before the last step they executed: they stay "
        "on their revision, so no message id repeats"))
    pinned: int = Field(description="Open enrollments that stay on their revision")

    @classmethod
    def of(cls, migration_id: UUID | None, plan: Plan) -> MigrationPlanOut:
        return cls(id=migration_id,
                   planned=[PlannedMove(**p) for p in plan.planned()],
                   conflicts=[Conflict(**c) for c in plan.conflicts], pinned=plan.pinned)


class PublishOut(BaseModel):
    revision: int
    dry_run: bool
    migration: MigrationPlanOut


class MigrationOut(BaseModel):
    id: UUID
    revision: int
    total: int = Field(description="Enrollments the plan moves, exits or lists as conflicts")
    migrated: int
    exited: int
    conflicts: int
    done: bool
    end: str | None = Field(description="done, superseded (a newer revision went live) or "
                                        "archived; null while running")

    @classmethod
    def of(cls, m: Migration) -> MigrationOut:
        return cls(id=m.id, revision=m.revision, total=m.total, migrated=m.migrated,
                   exited=m.exited, conflicts=m.conflicts, done=m.done, end=m.end or None)
