"""The CRM event envelope on HTTP (DESIGN 3.1) and the per-event outcome of ingestion."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field

from api.schemas.common import RequestBody
from domain.crm import CrmEvent


class Envelope(RequestBody):
    event_id: str = Field(min_length=1, max_length=200, examples=["evt-123"],
                          description="The CRM's id: an event posted twice has one effect")
    type: str = Field(min_length=1, max_length=100, examples=["tag_added"],
                      description="Unknown types are accepted and ignored")
    tenant_id: str = Field(min_length=1, max_length=100, examples=["acme"],
                           description="Must be the tenant of your API key (else 403)")
    contact_id: str = Field(min_length=1, max_length=200, examples=["c-42"])
    occurred_at: AwareDatetime = Field(examples=["2026-11-29T10:00:00Z"])
    data: dict[str, Any] = Field(default_factory=dict,
                                 examples=[{"tag_id": "t-1", "tag_name": "cold-lead"}])

    def to_domain(self) -> CrmEvent:
        return CrmEvent(event_id=self.event_id, type=self.type, tenant_id=self.tenant_id,
                        contact_id=self.contact_id, occurred_at=self.occurred_at,
                        data=dict(self.data))


Outcome = Literal["applied", "duplicate", "ignored", "rejected"]


class EventResult(BaseModel):
    event_id: str
    outcome: Outcome
    enrolled: list[UUID] = Field(default_factory=list, description="Enrollments it created")
    exited: list[UUID] = Field(default_factory=list, description="Enrollments it ended")
    detail: str | None = Field(default=None, description="Why it was rejected")
    field: str | None = None


class IngestOut(BaseModel):
    applied: int
    duplicate: int
    ignored: int
    rejected: int
    results: list[EventResult]
