"""Schemas of the "why" view and the stuck list (CAPABILITIES §7), mapped from the domain's
``Explanation`` and the detector's report."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.common import Page
from domain.why import Explanation

WaitingReason = Literal["delay", "send_window", "frequency_cap", "throttle", "retry_backoff",
                        "paused", "sequence_paused", "migration", "due", "stuck", "ended"]
SuspectedCause = Literal["no_scheduler", "projection_lag", "sequence_missing", "unknown"]


class CurrentStep(BaseModel):
    id: str
    order: int
    name: str


class WaitingOut(BaseModel):
    reason: WaitingReason | str = Field(
        description="delay, send_window, frequency_cap, throttle, retry_backoff, paused, "
                    "sequence_paused, migration, due (overdue up to the stuck threshold: the "
                    "scheduler is behind), stuck, or ended")
    since: datetime | None = Field(description="When the event that set this reason happened")
    until: datetime | None = Field(description="When the wait ends (None: not by time)")
    detail: dict[str, Any] = Field(
        description="send_window: timezone, local_due, local_until; retry_backoff: attempt, "
                    "last_error; frequency_cap: rule_index, count, limit; throttle: channel, "
                    "minute, limit; due/stuck: behind_seconds (stuck: suspected_cause); "
                    "ended: outcome, reason, detail (a failed condition and its value)")


class TimelineEntryOut(BaseModel):
    at: datetime
    type: str = Field(examples=["sequence.contact_enrolled"])
    summary: str = Field(description="One line in words; ids only, never message content")
    data: dict[str, Any]


class WhyOut(BaseModel):
    enrollment_id: UUID
    sequence_id: UUID
    contact_id: str
    status: str
    revision: int
    current_step: CurrentStep | None
    next_due_at: datetime | None
    nominal_due_at: datetime | None = Field(
        description="The due time the delay alone gives, before a send window moved it")
    waiting: WaitingOut
    overdue_seconds: int = Field(ge=0)
    timeline: list[TimelineEntryOut] = Field(
        description="The enrollment's newest 500 events, oldest first")
    timeline_omitted: int = Field(0, ge=0, description="Older events left out of the timeline")

    @classmethod
    def of(cls, x: Explanation) -> WhyOut:
        return cls(
            enrollment_id=x.enrollment_id, sequence_id=x.sequence_id, contact_id=x.contact_id,
            status=x.status, revision=x.revision,
            current_step=CurrentStep(**x.current_step) if x.current_step else None,
            next_due_at=x.next_due_at, nominal_due_at=x.nominal_due_at,
            waiting=WaitingOut(reason=x.waiting.reason, since=x.waiting.since,
                               until=x.waiting.until, detail=x.waiting.detail),
            overdue_seconds=x.overdue_seconds,
            timeline=[TimelineEntryOut(at=t.at, type=t.type, summary=t.summary, data=t.data)
                      for t in x.timeline],
            timeline_omitted=x.timeline_omitted)


class StuckItem(BaseModel):
    enrollment_id: UUID
    sequence_id: UUID
    contact_id: str
    step_order: int
    due_at: datetime
    overdue_seconds: int = Field(ge=0)
    suspected_cause: SuspectedCause


class ProjectionLag(BaseModel):
    behind_events: int = Field(ge=0, description="Events the due_enrollments read model is "
                                                 "behind the event store")
    contradicted: int = Field(ge=0, description="Overdue rows of the read model, among "
                                                "those examined, that their aggregate "
                                                "contradicts (lag, not stuck)")
    contradicted_ids: list[str] = Field(description="The first 100 of them")


class StuckPage(Page[StuckItem]):
    total: int = Field(ge=0, description=(
        "Exact when every candidate was examined; otherwise the confirmed ones plus the "
        "candidates past those examined for this page (an upper bound, at most 10,000)"))
    projection_lag: ProjectionLag
    scheduler_heartbeat_age_seconds: int | None = Field(
        description="Seconds since a scheduler last scanned (None: none ever did)")
