"""Read-model schemas: stats and messages (DESIGN 3.2, 3.3)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.conversions import ConversionStats


class Rates(BaseModel):
    """Engagement rates (CAPABILITIES §2): over ``delivered`` when there are deliveries, else
    over ``sent``; each null when its divisor is 0; rounded to 3 decimals. Machine opens and
    bot clicks are in none of them."""

    base: Literal["delivered", "sent"] = Field(description="What the rates divide by")
    open_rate: float | None = Field(description="Human opens / base")
    click_rate: float | None = Field(description="Messages clicked by a human / base")
    click_to_open: float | None = Field(description="Messages clicked / messages opened")
    reply_rate: float | None = Field(default=None, description="Attributed replies / base")
    unsubscribe_rate: float | None = Field(default=None,
                                           description="Attributed unsubscribes / base")


def _no_rates() -> Rates:
    return Rates(base="sent", open_rate=None, click_rate=None, click_to_open=None)


class Engagement(BaseModel):
    """The engagement counters of the steps shown, added up, with their rates."""

    sent: int = Field(default=0, description="Message requests (every attempt)")
    delivered: int = Field(default=0, description="Messages delivered (reported, or implied "
                                                  "by an open or a click)")
    opened: int = Field(default=0, description="Messages opened by a human")
    opened_machine: int = Field(default=0, description="Messages opened by a machine (a mail "
                                                       "privacy proxy, say)")
    clicked: int = Field(default=0, description="Messages with a link clicked by a human")
    clicked_bot: int = Field(default=0, description="Messages with a link clicked by a bot")
    replied: int = Field(default=0, description="Messages a reply was attributed to")
    unsubscribed: int = Field(default=0,
                              description="Messages an unsubscribe was attributed to")
    avg_seconds_to_first_reply: float | None = Field(
        default=None, description="From a message's request to the first reply attributed "
                                  "to it, on average")
    rates: Rates = Field(default_factory=_no_rates)


class VariantFunnel(BaseModel):
    """One A/B arm of a step (CAPABILITIES §1): the messages that carried its content."""

    variant: str
    message_requested: int
    delivered: int
    opened: int = Field(description="Messages opened by a human")
    clicked: int = Field(description="Messages with a link clicked by a human")
    replied: int
    unsubscribed: int
    rates: Rates


class StepFunnel(BaseModel):
    """How far contacts got at one step: one step id, summed across the revisions that keep
    it (or one revision's, with ``?revision=``)."""

    step_id: UUID | None = Field(default=None, description="The step (stable across "
                                                           "revisions that keep it)")
    step_order: int = Field(description="Its order in the newest revision that has it")
    reached: int
    message_requested: int
    skipped: dict[str, int] = Field(description="Skips by reason (frequency_capped: a "
                                                "frequency cap skipped it)")
    deferred: dict[str, int] = Field(default_factory=dict, description=(
        "Deferrals by reason: frequency_cap and throttle (a step may be deferred more "
        "than once)"))
    failed: int
    delivered: int = Field(description="Messages delivered (reported, or implied by an open "
                                       "or a click)")
    opened: int = Field(description="Messages opened by a human")
    opened_machine: int = Field(description="Messages opened by a machine")
    clicked: int = Field(description="Messages with a link clicked by a human")
    clicked_bot: int = Field(description="Messages with a link clicked by a bot")
    replied: int = Field(default=0, description="Messages a reply was attributed to")
    unsubscribed: int = Field(default=0,
                              description="Messages an unsubscribe was attributed to")
    avg_seconds_to_first_reply: float | None = None
    converted: int = Field(default=0, description="Conversions credited to this step (the "
                                                  "last message before the goal event)")
    rates: Rates
    variants: list[VariantFunnel] = Field(default_factory=list, description=(
        "Per A/B arm of a content experiment on this step, its messages' counters"))


class StatsOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sequence_id: UUID
    conversions: ConversionStats | None = Field(
        default=None, description="Conversions to the goal (CAPABILITIES §3)")
    revision: int | None = Field(default=None, description="The revision these figures are "
                                                           "limited to (null: all of them)")
    total_enrolled: int
    active_count: int
    paused_count: int
    completed_count: int
    exited_count: int
    completion_rate: float
    exits_by_reason: dict[str, int]
    avg_completion_seconds: float | None
    steps: list[StepFunnel]
    engagement: Engagement = Field(default_factory=Engagement, description=(
        "The steps' engagement added up (one revision's with ``?revision=``)"))


class MessageOut(BaseModel):
    """A message request (DESIGN 3.2) and its delivery status."""

    model_config = ConfigDict(extra="ignore")

    message_id: str
    tenant_id: str
    contact_id: str | None
    sequence_id: UUID | None
    enrollment_id: UUID | None
    step_id: UUID | None
    step_order: int | None
    channel: str | None
    type: str | None
    content: str | None
    template_id: str | None
    variables: dict[str, Any]
    media_url: str | None
    due_at: datetime | None
    created_at: datetime | None
    variant: str | None = Field(default=None, description="The A/B test arm it carries")
    attempt: int
    status: str = Field(description="requested, delivered or failed (delivered also when an "
                                    "open or a click showed that it arrived)")
    error: str | None
    requested_at: datetime
    updated_at: datetime
    opened_at: datetime | None = Field(default=None, description=(
        "When a human first opened it (the CRM's time; machine opens left out)"))
    clicked_at: datetime | None = Field(default=None, description=(
        "When a human first clicked a link of it (the CRM's time; bot clicks left out)"))
    replied_at: datetime | None = Field(default=None, description=(
        "When the reply attributed to it was sent (the CRM's time)"))
    unsubscribed_at: datetime | None = Field(default=None, description=(
        "When the unsubscribe attributed to it happened (the CRM's time)"))
