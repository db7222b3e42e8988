"""Enrollment schemas (DESIGN 3.3) and the mapping from the ``Enrollment`` aggregate."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import RequestBody
from domain.app_enrollments import BulkEnrollment
from domain.enrollment import Enrollment, original_due
from domain.validation import CONTACT_RULE

EnrollmentStatus = Literal["active", "paused", "completed", "exited"]
ExitReason = Literal["manual_exit", "contact_replied", "contact_unsubscribed", "contact_deleted",
                     "condition_not_met", "sequence_paused", "sequence_archived", "error"]
MAX_BULK = 10_000


class EnrollIn(RequestBody):
    contact_id: str = Field(min_length=1, max_length=200, examples=["c-42"],
                            description="The CRM's contact id: " + CONTACT_RULE)


class BulkEnrollIn(RequestBody):
    contact_ids: list[str] = Field(max_length=MAX_BULK, examples=[["c-1", "c-2", "c-3"]],
                                   description=f"Up to {MAX_BULK} CRM contact ids")


class ExitIn(RequestBody):
    reason: ExitReason = "manual_exit"


class Assignment(BaseModel):
    arm: str
    by: Literal["split", "winner"]


class EnrollmentOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: UUID
    tenant_id: str
    sequence_id: UUID
    contact_id: str
    status: str
    current_step_order: int
    next_scheduled_at: datetime | None
    enrolled_at: datetime = Field(description="When Dripline enrolled the contact")
    entered_at: datetime = Field(description=(
        "When the contact entered, in CRM time: the trigger event's occurred_at for an "
        "enrollment made by a CRM event, else enrolled_at. Exit events count from here."))
    completed_at: datetime | None
    exited_at: datetime | None
    exit_reason: str | None = Field(description=(
        "manual_exit, contact_replied, contact_unsubscribed, contact_deleted, "
        "condition_not_met, sequence_paused, sequence_archived, error, step_removed or "
        "goal_reached"))
    converted_at: datetime | None = Field(default=None, description=(
        "When the goal event that converted it happened (CRM time); null: not converted"))
    number: int = Field(description="1 for the first enrollment of the contact in the sequence")
    source: str = Field(description="manual, bulk, trigger or enroll_existing")
    updated_at: datetime
    version: int
    revision: int = Field(default=1, description=(
        "The sequence revision this enrollment follows: the one live when it started, or "
        "the one a migration moved it to"))
    holdout: bool = Field(default=False, description=(
        "Held out of the sequence's A/B tests: it gets no message at all"))
    assignments: dict[str, Assignment] = Field(default_factory=dict, description=(
        "Its arm in each A/B test of its revision, by experiment id: by split (the "
        "documented hash) or winner (enrolled after the experiment concluded)"))
    deferred_by: str | None = Field(default=None, description=(
        "Why its current step waits past its due time: send_window, frequency_cap or "
        "throttle (the latest deferral); null when it was not deferred"))
    step_due_at: datetime | None = Field(default=None, description=(
        "When its current step fell due, before any deferral moved it"))

    @classmethod
    def of(cls, e: Enrollment) -> EnrollmentOut:
        return cls(id=e.id, tenant_id=e.tenant_id, sequence_id=e.sequence_id,
                   contact_id=e.contact_id, status=e.status,
                   current_step_order=e.current_step_order,
                   next_scheduled_at=e.next_scheduled_at, enrolled_at=e.enrolled_at,
                   entered_at=e.entered_at,
                   completed_at=e.completed_at, exited_at=e.exited_at,
                   exit_reason=e.exit_reason, converted_at=e.converted_at, number=e.number,
                   source=e.source,
                   updated_at=e.updated_at, version=e.version, revision=e.revision,
                   holdout=e.holdout,
                   assignments={k: Assignment.model_validate(a)
                                for k, a in e.assignments.items()},
                   deferred_by=getattr(e, "deferred_by", None) if e.is_open else None,
                   step_due_at=original_due(e) if e.is_open else None)


class HistoryEntry(BaseModel):
    version: int
    type: str = Field(examples=["sequence.contact_enrolled"])
    at: datetime
    data: dict[str, Any]


class HistoryOut(BaseModel):
    enrollment_id: UUID
    items: list[HistoryEntry]


def bulk_out(result: BulkEnrollment) -> dict[str, Any]:
    return {
        "enrolled_count": len(result.enrolled), "skipped_count": len(result.skipped),
        "enrolled": [{"enrollment_id": e.id, "contact_id": e.contact_id}
                     for e in result.enrolled],
        "skipped": [{"contact_id": c, "reason": why} for c, why in result.skipped],
    }
