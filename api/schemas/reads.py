"""Read-model schemas: stats and messages (DESIGN 3.2, 3.3)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class StepFunnel(BaseModel):
    """How far contacts got at one step: one step id, summed across the revisions that keep
    it (or one revision's, with ``?revision=``)."""

    step_id: UUID | None = Field(default=None, description="The step (stable across "
                                                           "revisions that keep it)")
    step_order: int = Field(description="Its order in the newest revision that has it")
    reached: int
    message_requested: int
    skipped: dict[str, int] = Field(description="Skips by reason")
    failed: int
    delivered: int


class StatsOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sequence_id: UUID
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
    attempt: int
    status: str = Field(description="requested, delivered or failed")
    error: str | None
    requested_at: datetime
    updated_at: datetime
