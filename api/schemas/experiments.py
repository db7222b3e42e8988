"""A/B test schemas (CAPABILITIES §1): an experiment as given on a sequence or a revision,
as stored, and its view with per-arm counts, the looks taken and the holdout."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt

from api.schemas.common import RequestBody
from api.schemas.steps import MessageTemplateIn, MessageTemplateOut, StepIn, StepOut

Key = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
Metric = Literal["open", "click", "reply", "conversion"]


class AutoWinnerIn(RequestBody):
    enabled: StrictBool = True
    min_exposures_per_arm: StrictInt = Field(default=200, ge=10, le=1_000_000)
    outcome_window_hours: StrictInt = Field(
        default=72, ge=1, le=2160, description="How long after its exposure a success "
                                               "counts (conversion: the goal's window)")
    alpha: float = Field(default=0.05, gt=0, lt=1)
    evaluate_every_hours: StrictInt = Field(default=24, ge=1, le=720)
    max_looks: StrictInt = Field(default=7, ge=1, le=50)
    fallback: Literal["keep_split", "best_observed"] = "keep_split"


class ArmIn(RequestBody):
    key: str = Key
    weight: StrictInt = Field(ge=1, le=100, description="Weights of the arms sum to 100")
    message_template: MessageTemplateIn | None = Field(
        default=None, description="A content arm: replaces the step's message")
    steps: list[StepIn] | None = Field(default=None, min_length=1, max_length=100,
                                       description="A path arm: its own steps")


class ExperimentIn(RequestBody):
    id: str = Key
    kind: Literal["content", "path"] = Field(
        default="content", description="content: each arm replaces the step's message; "
                                        "path: each arm has its own steps (the revision "
                                        "then has none of its own)")
    step_id: str | None = Field(default=None, max_length=64,
                                description="The revision's step a content test tests")
    arms: list[ArmIn] = Field(min_length=2, max_length=8)
    metric: Metric = Field(default="reply", description="conversion needs the revision's goal")
    auto_winner: AutoWinnerIn | None = Field(
        default=None, description="When a winner is declared on its own; absent or null: "
                                  "the defaults (enabled; enabled false turns it off)")


class ArmOut(BaseModel):
    key: str
    weight: int
    message_template: MessageTemplateOut | None = None
    steps: list[StepOut] | None = None


class ExperimentOut(BaseModel):
    id: str
    kind: str
    step_id: str | None
    arms: list[ArmOut]
    metric: str
    auto_winner: dict[str, Any]


EXPERIMENTS_DOC = ("A/B tests: one path experiment, or at most 5 content experiments on "
                   "distinct steps; null or [] for none")
HOLDOUT_DOC = "Share of enrollments (0-50 %) that get no message at all: the control group"


class LookOut(BaseModel):
    n: int
    at: datetime
    result: Literal["insufficient", "significant", "not_significant"]
    best: str | None
    counts: dict[str, dict[str, int]] = Field(
        description="Per arm, the matured exposures and successes the look used")
    p_values: dict[str, float] = Field(description="The best arm against each other arm")


class ArmStats(BaseModel):
    key: str
    weight: int
    assigned: int
    exposures: int
    matured: int = Field(description="Exposures of split assignments past their window")
    successes: int = Field(description="Successes within the window of matured exposures")
    rate: float | None
    p_value_vs_best: float | None = Field(description="From the latest counted look")


class HoldoutStats(BaseModel):
    assigned: int
    converted: int
    conversion_rate: float | None


class ExperimentView(BaseModel):
    id: str
    kind: str
    step_id: str | None
    metric: str
    revision: int
    status: Literal["running", "concluded", "inconclusive"]
    winner: str | None
    concluded_by: Literal["auto", "manual", "fallback"] | None
    concluded_at: datetime | None
    looks: list[LookOut]
    arms: list[ArmStats]
    holdout: HoldoutStats


class ConcludeIn(RequestBody):
    winner: str = Key
