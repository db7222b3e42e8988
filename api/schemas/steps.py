"""Step schemas: message template, conditions, and the step itself (DESIGN 3.3)."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, StrictInt

from api.schemas.common import RequestBody

DelayUnit = Literal["minutes", "hours", "days"]
MessageType = Literal["text", "template", "media"]
ConditionType = Literal["tag", "custom_field", "pipeline_status", "last_activity"]
OnConditionFail = Literal["exit", "skip"]


class MessageTemplateIn(RequestBody):
    type: MessageType = "text"
    content: str = Field(default="", max_length=10_000,
                         description="Required for text; `{{contact.name}}`-style variables")
    template_id: str | None = Field(default=None, max_length=200,
                                    description="Required for type template")
    variables: dict[str, str | int | float] = Field(default_factory=dict)
    media_url: str | None = Field(default=None, max_length=2000,
                                  description="Required for type media; https:// only")
    channel: str = Field(default="whatsapp", pattern=r"^[a-z][a-z0-9_]{0,31}$")


class ConditionIn(RequestBody):
    type: ConditionType
    operator: str = Field(description="tag: has, not_has; custom_field: equals, not_equals, "
                                      "contains, greater_than, less_than; pipeline_status: "
                                      "equals, not_equals; last_activity: is_null, is_not_null, "
                                      "within_days, older_than_days")
    value: str | int | float = ""
    field: str | None = Field(default=None, max_length=200)


class StepIn(RequestBody):
    order: StrictInt = Field(ge=0, le=10_000, description="Execution order, 0 first")
    name: str = Field(min_length=1, max_length=200)
    delay_amount: StrictInt = Field(default=0, ge=0, le=3 * 365 * 1440)
    delay_unit: DelayUnit = "minutes"
    message_template: MessageTemplateIn
    conditions: list[ConditionIn] = Field(default_factory=list, max_length=20)
    on_condition_fail: OnConditionFail = "exit"


class StepPatch(RequestBody):
    """The fields to change; the others keep their values."""

    order: StrictInt | None = Field(default=None, ge=0, le=10_000)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    delay_amount: StrictInt | None = Field(default=None, ge=0, le=3 * 365 * 1440)
    delay_unit: DelayUnit | None = None
    message_template: MessageTemplateIn | None = None
    conditions: list[ConditionIn] | None = Field(default=None, max_length=20)
    on_condition_fail: OnConditionFail | None = None


class MessageTemplateOut(BaseModel):
    type: str
    content: str
    template_id: str | None
    variables: dict[str, str]
    media_url: str | None
    channel: str


class ConditionOut(BaseModel):
    type: str
    operator: str
    value: str
    field: str | None


class SourceTemplateOut(BaseModel):
    id: str = Field(description="The template the step was copied from")
    version: int = Field(description="Its version when copied; later edits never reach it")


class StepOut(BaseModel):
    id: UUID
    order: int
    name: str
    delay_amount: int
    delay_unit: str
    message_template: MessageTemplateOut
    conditions: list[ConditionOut]
    on_condition_fail: str
    source_template: SourceTemplateOut | None = None


def body(model: RequestBody) -> dict[str, Any]:
    """What the client sent, as plain data for the core (which validates it again)."""
    return model.model_dump(mode="json", exclude_unset=True)
