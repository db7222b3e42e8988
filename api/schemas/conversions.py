"""Conversion schemas (CAPABILITIES §3): one goal event credited to one enrollment, and the
``conversions`` block of a sequence's statistics."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.sequences import GoalOut


class ConversionOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    event_id: str = Field(description="The CRM event that met the goal")
    event_type: str
    occurred_at: datetime = Field(description="When it happened (CRM time)")
    contact_id: str
    sequence_id: UUID
    enrollment_id: UUID
    revision: int = Field(description="The revision whose goal it met")
    message_id: str | None = Field(description="The last message requested before the "
                                               "event (last touch); null: none")
    step_id: str | None
    step_order: int | None
    variant: str | None = Field(description="The content variant of that message (A/B tests)")
    holdout: bool = Field(description="The enrollment is in the holdout (A/B tests)")
    exclusive: bool = Field(description=(
        "The one enrollment, of all the contact's sequences this event converted in, that it "
        "counts for once: the one with the latest attributed message (ties: the later "
        "enrollment). Summing exclusive conversions across sequences never double counts"))


class HoldoutConversions(BaseModel):
    enrolled: int
    converted: int
    conversion_rate: float | None


class ConversionStats(BaseModel):
    """A sequence's conversions (its goal's), holdout apart; rates over enrolled, null when
    none are."""

    goal: GoalOut | None = Field(description="The goal of the revision shown (all: the live "
                                             "one)")
    converted: int
    converted_exclusive: int
    conversion_rate: float | None
    avg_seconds_to_convert: float | None = Field(
        description="From entering (CRM time) to the goal event, on average")
    holdout: HoldoutConversions
    lift: float | None = Field(description="(rate - holdout rate) / holdout rate; null when "
                                           "the holdout's rate is 0")
