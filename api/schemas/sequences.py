"""Sequence schemas (DESIGN 3.3) and the mapping from the ``DripSequence`` aggregate."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field, StrictBool, StrictInt

from api.schemas.common import RequestBody
from api.schemas.experiments import EXPERIMENTS_DOC, HOLDOUT_DOC, ExperimentIn, ExperimentOut
from api.schemas.steps import StepIn, StepOut
from domain.sequence import DripSequence
from domain.steps import Step

TriggerType = Literal["manual", "tag_added", "list_joined", "form_submit", "pipeline_entered"]
SequenceStatus = Literal["draft", "active", "paused", "archived"]
Policy = Literal["never", "after_completion", "after_exit", "always"]


class ReEnrollmentIn(RequestBody):
    policy: Policy = "never"
    cooldown_seconds: StrictInt = Field(default=0, ge=0, le=10 * 365 * 86400)


class ReEnrollmentOut(BaseModel):
    policy: str
    cooldown_seconds: int


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ResumePolicy = Literal["send_late", "skip_missed"]


class SendWindowIn(RequestBody):
    """Smart sending: steps fall due only in these local hours and weekdays, read in the
    contact's time zone (else ``timezone``, else UTC)."""

    hours: list[Annotated[StrictInt, Field(ge=0, le=23)]] = Field(
        min_length=1, max_length=24, examples=[[9, 10, 11, 12, 13, 14, 15, 16, 17]])
    weekdays: list[Weekday] = Field(default=["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                                    min_length=1, max_length=7)
    timezone: str | None = Field(default=None, max_length=64, examples=["Europe/Berlin"])


class SendWindowOut(BaseModel):
    hours: list[int]
    weekdays: list[str]
    timezone: str | None


GoalEventType = Literal["tag_added", "list_joined", "form_submit", "pipeline_entered",
                        "tag_removed", "pipeline_status_changed", "contact_updated",
                        "contact_replied", "custom_event"]


class GoalIn(RequestBody):
    """The journey's goal (CAPABILITIES §3): a CRM event that converts the contact's
    enrollment, credited to the last message before it."""

    event_type: GoalEventType = Field(description=(
        "Any CRM event type except message_*, contact_deleted and contact_unsubscribed"))
    match: dict[str, Annotated[str, Field(max_length=500)]] = Field(
        min_length=1, max_length=10, examples=[{"pipeline_id": "p-1", "status": "won"}],
        description="1-10 dot paths into the event's data (e.g. properties.plan), each "
                    "compared exactly, as text, with the value given")
    attribution_window_hours: StrictInt = Field(
        default=168, ge=1, le=2160, description="How long after an enrollment ended a goal "
                                                "event still converts it (at most 90 days)")
    exit_on_goal: StrictBool = Field(
        default=True, description="An open enrollment exits (goal_reached) when it converts")


class GoalOut(BaseModel):
    event_type: str
    match: dict[str, str]
    attribution_window_hours: int
    exit_on_goal: bool


_TRIGGER_DATA = ("tag_added: tag_id or tag_name; list_joined: list_id (list_name); "
                 "form_submit: form_id (form_name); pipeline_entered: pipeline_id "
                 "(pipeline_name); manual: {}")


class SequenceCreate(RequestBody):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    trigger_type: TriggerType = "manual"
    trigger_data: dict[str, str] = Field(default_factory=dict, description=_TRIGGER_DATA)
    exit_on_reply: StrictBool = True
    reenrollment: ReEnrollmentIn | None = None
    send_window: SendWindowIn | None = None
    resume_policy: ResumePolicy = Field(
        default="send_late", description="On resume: send missed steps at once, or skip them")
    goal: GoalIn | None = None
    frequency_cap_exempt: StrictBool = Field(
        default=False, description="Transactional: its sends are neither checked against "
                                   "the tenant's frequency caps nor counted")
    steps: list[StepIn] = Field(default_factory=list, max_length=100)
    experiments: list[ExperimentIn] | None = Field(default=None, max_length=5,
                                                   description=EXPERIMENTS_DOC)
    holdout_percent: StrictInt | None = Field(default=None, ge=0, le=50,
                                              description=HOLDOUT_DOC)


class SequenceUpdate(RequestBody):
    """The settings to change (draft only); the others keep their values."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    trigger_type: TriggerType | None = None
    trigger_data: dict[str, str] | None = Field(default=None, description=_TRIGGER_DATA)
    exit_on_reply: StrictBool | None = None
    reenrollment: ReEnrollmentIn | None = None
    send_window: SendWindowIn | None = Field(default=None, description="null removes it")
    resume_policy: ResumePolicy | None = None
    goal: GoalIn | None = Field(default=None, description="null removes it")
    experiments: list[ExperimentIn] | None = Field(default=None, max_length=5,
                                                   description=EXPERIMENTS_DOC)
    holdout_percent: StrictInt | None = Field(default=None, ge=0, le=50,
                                              description=HOLDOUT_DOC)
    frequency_cap_exempt: StrictBool | None = None


class ActivateIn(RequestBody):
    enroll_existing: StrictBool = Field(
        default=False, description="Also enroll contacts that already match the trigger")


class CloneIn(RequestBody):
    name: str | None = Field(default=None, min_length=1, max_length=200,
                             description="Defaults to '<name> (copy)'")


class SequenceOut(BaseModel):
    id: UUID
    tenant_id: str
    name: str
    description: str
    status: str
    trigger_type: str
    trigger_data: dict[str, str]
    exit_on_reply: bool
    reenrollment: ReEnrollmentOut
    send_window: SendWindowOut | None
    resume_policy: str
    goal: GoalOut | None = Field(default=None, description="The live revision's goal")
    frequency_cap_exempt: bool | None = Field(default=None, description=(
        "The live revision's: its sends are neither checked against frequency caps nor "
        "counted (null in lists: read the sequence)"))
    steps: list[StepOut]
    version: int
    created_at: datetime
    updated_at: datetime
    activated_at: datetime | None
    cloned_from: UUID | None
    revision: int | None = Field(
        default=None, description="The live revision (null until activated); steps and "
                                  "journey settings shown here are its own")
    draft_revision: int | None = Field(
        default=None, description="The revision being edited, if any (1 before activation)")
    experiments: list[ExperimentOut] | None = Field(
        default=None, description="The live revision's A/B tests (left out of lists)")
    holdout_percent: int | None = Field(
        default=None, description="The live revision's holdout (left out of lists)")

    @classmethod
    def of(cls, sequence: DripSequence) -> SequenceOut:
        return cls(
            id=sequence.id, tenant_id=sequence.tenant_id, name=sequence.name,
            description=sequence.description, status=sequence.status,
            trigger_type=sequence.trigger_type, trigger_data=dict(sequence.trigger_data),
            exit_on_reply=sequence.exit_on_reply,
            reenrollment=ReEnrollmentOut(**sequence.reenrollment.to_dict()),
            send_window=(SendWindowOut(**sequence.send_window) if sequence.send_window
                         else None),
            resume_policy=sequence.resume_policy,
            goal=GoalOut(**sequence.goal) if sequence.goal else None,
            frequency_cap_exempt=sequence.frequency_cap_exempt,
            steps=[StepOut.model_validate(step.to_dict()) for step in sequence.steps],
            version=sequence.version, created_at=sequence.created_at,
            updated_at=sequence.updated_at, activated_at=sequence.activated_at,
            cloned_from=sequence.cloned_from, revision=sequence.live_revision,
            draft_revision=sequence.draft_revision,
            experiments=[ExperimentOut.model_validate(x) for x in sequence.current.experiments],
            holdout_percent=sequence.current.holdout_percent,
        )


class BulkSkip(BaseModel):
    contact_id: str
    reason: str


class BulkEnrolled(BaseModel):
    enrollment_id: UUID
    contact_id: str


class BulkEnrollOut(BaseModel):
    enrolled_count: int
    skipped_count: int
    enrolled: list[BulkEnrolled]
    skipped: list[BulkSkip]


class ActivationOut(SequenceOut):
    enroll_existing: BulkEnrollOut | None = Field(
        default=None, description="With enroll_existing: who was enrolled and who was not")


class StepChangeOut(BaseModel):
    """The step written and the sequence it produced (its new version)."""

    step: StepOut
    sequence: SequenceOut

    @classmethod
    def of(cls, sequence: DripSequence, step: Step) -> StepChangeOut:
        return cls(step=StepOut.model_validate(step.to_dict()), sequence=SequenceOut.of(sequence))
