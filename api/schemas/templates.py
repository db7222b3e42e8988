"""Template library schemas (CAPABILITIES §5): step and sequence templates, previews, and
sequences or steps made from a template."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Discriminator, Field, StrictInt, Tag

from api.schemas.common import RequestBody
from api.schemas.sequences import TriggerType
from api.schemas.steps import (
    ConditionIn,
    DelayUnit,
    MessageTemplateIn,
    OnConditionFail,
    StepIn,
    StepPatch,
    body,
)

TemplateKind = Literal["step", "sequence"]
CATEGORY = r"^[a-z][a-z0-9-]{0,39}$"
_CATEGORY_TEXT = ("onboarding, nurture, re-engagement, follow-up, or your own (lowercase "
                  "letters, digits and '-')")


class TemplateStepIn(RequestBody):
    """A step of a sequence template; ``order`` defaults to its place in the list."""

    order: StrictInt | None = Field(default=None, ge=0, le=10_000)
    name: str = Field(min_length=1, max_length=200)
    delay_amount: StrictInt = Field(default=0, ge=0, le=3 * 365 * 1440)
    delay_unit: DelayUnit = "minutes"
    message_template: MessageTemplateIn
    conditions: list[ConditionIn] = Field(default_factory=list, max_length=20)
    on_condition_fail: OnConditionFail = "exit"


class TemplateFields(RequestBody):
    """A step template takes the step's fields; a sequence template its trigger and steps."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    category: str | None = Field(default=None, pattern=CATEGORY, description=_CATEGORY_TEXT)
    delay_amount: StrictInt | None = Field(default=None, ge=0, le=3 * 365 * 1440)
    delay_unit: DelayUnit | None = None
    message_template: MessageTemplateIn | None = None
    conditions: list[ConditionIn] | None = Field(default=None, max_length=20)
    on_condition_fail: OnConditionFail | None = None
    trigger_type: TriggerType | None = None
    trigger_data: dict[str, str] | None = None
    steps: list[TemplateStepIn] | None = Field(default=None, max_length=100)


class TemplateCreate(TemplateFields):
    kind: TemplateKind
    name: str = Field(min_length=1, max_length=200)
    category: str = Field(pattern=CATEGORY, description=_CATEGORY_TEXT)


class TemplateUpdate(TemplateFields):
    """The fields to replace; the others keep their values."""


class TemplateClone(RequestBody):
    name: str | None = Field(default=None, min_length=1, max_length=200)


class TemplateOut(BaseModel):
    id: str = Field(description="`builtin:<name>` for a built-in, a UUID for yours")
    kind: TemplateKind
    source: Literal["builtin", "tenant"]
    version: int
    name: str
    description: str
    category: str
    body: dict[str, Any] = Field(description="The template's fields as they are copied")
    cloned_from: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ContactIn(RequestBody):
    """A contact that exists only for this preview."""

    name: str = Field(default="", max_length=500)
    email: str = Field(default="", max_length=500)
    phone: str = Field(default="", max_length=500)
    timezone: str = Field(default="", max_length=500)
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list, max_length=200)


class PreviewIn(RequestBody):
    contact_id: str | None = Field(default=None, min_length=1, max_length=200,
                                   description="A CRM contact of yours (unknown: fallbacks)")
    contact: ContactIn | None = None


class StepPreviewIn(PreviewIn):
    message_template: MessageTemplateIn | None = Field(
        default=None, description="An unsaved edit of the step's message to render instead "
                                  "(the builder's live preview); absent: the saved one")


class TemplatePreviewIn(PreviewIn):
    variables: dict[str, str] | None = Field(default=None,
                                             description="Static variables to try")


class RenderedOut(BaseModel):
    type: str
    channel: str
    content: str
    variables: dict[str, str]
    media_url: str | None


class PreviewOut(BaseModel):
    rendered: RenderedOut
    missing: list[str] = Field(description="`contact.*` variables the contact lacks")
    contact_known: bool
    warnings: list[str]


class StepPreviewOut(PreviewOut):
    order: int
    name: str


class TemplatePreviewOut(PreviewOut):
    steps: list[StepPreviewOut] | None = Field(
        default=None, description="A sequence template: each step (`rendered` is the first)")


class SequenceFromTemplate(RequestBody):
    template_id: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=200)
    trigger_type: TriggerType | None = None
    trigger_data: dict[str, str] | None = None


class StepFromTemplateIn(RequestBody):
    """A step copied from a step template; ``overrides`` changes any field but the order."""

    template_id: str = Field(min_length=1, max_length=200)
    order: StrictInt = Field(ge=0, le=10_000)
    overrides: StepPatch | None = None


def _step_kind(value: Any) -> str:
    return "FromTemplate" if isinstance(value, dict) and "template_id" in value else "Step"


NewStep = Annotated[Annotated[StepIn, Tag("Step")]
                    | Annotated[StepFromTemplateIn, Tag("FromTemplate")],
                    Discriminator(_step_kind)]


class ListedStepIn(StepIn):
    """A step of the list that replaces a draft's steps."""

    id: UUID | None = Field(default=None, description=(
        "A step of the draft, which this item keeps (all its fields as given here; its "
        "`source_template` stays); leave it out for a new step"))


ListedStep = Annotated[Annotated[ListedStepIn, Tag("Step")]
                       | Annotated[StepFromTemplateIn, Tag("FromTemplate")],
                       Discriminator(_step_kind)]


class StepsIn(RequestBody):
    """A draft's steps, all of them: a step missing here is removed."""

    steps: list[ListedStep] = Field(max_length=100, description=(
        "Each a step (with the `id` of a step it keeps, or none for a new one) or a copy of "
        "a step template (`{template_id, order, overrides?}`, a new step). Orders must be "
        "unique in this list."))

    def listed(self) -> list[dict[str, Any]]:
        """The items as sent, each dumped by its own model (the union's serializer would
        try the first branch on every item)."""
        return [body(item) for item in self.steps]
