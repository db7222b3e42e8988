"""The CRM event envelope on HTTP (DESIGN 3.1) and the per-event outcome of ingestion."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.common import StorableStrings
from domain.crm import CrmEvent
from domain.envelope import CrmEnvelope


class Envelope(CrmEnvelope, StorableStrings):
    """DESIGN 3.1's envelope: the Kafka intake's model (one definition for both paths), plus
    the API's refusal of strings that cannot be stored. ``tenant_id`` must be the tenant of
    your API key (else 403)."""

    def to_domain(self) -> CrmEvent:
        return self.to_crm_event()


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
    position: int = Field(description=(
        "The store position these events were written at: pass it as `?after=` to a list "
        "or stats read to see their effects (also in the X-Dripline-Position header)"))
