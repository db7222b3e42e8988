"""The CRM event envelope (DESIGN 3.1): one JSON object per Kafka record (key = contact_id),
the same body as HTTP ingestion. Both edges take it in through this one model, which is why it
lives here, below them, and not in either. Validation here is about shape; the per-type data
rules live in ``domain.crm``, so every path applies the same ones."""

from __future__ import annotations

import json
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from domain.crm import CrmEvent


class CrmEnvelope(BaseModel):
    model_config = ConfigDict(extra="forbid", title="CrmEvent")

    event_id: str = Field(min_length=1, max_length=200, examples=["evt-123"],
                          description="The CRM's id: an event delivered twice has one effect")
    type: str = Field(min_length=1, max_length=100, examples=["tag_added"],
                      description="Unknown types are ignored")
    tenant_id: str = Field(min_length=1, max_length=100, examples=["acme"])
    contact_id: str = Field(min_length=1, max_length=200, examples=["c-42"])
    occurred_at: AwareDatetime = Field(examples=["2026-11-29T10:00:00Z"])
    data: dict[str, Any] = Field(default_factory=dict,
                                 examples=[{"tag_id": "t-1", "tag_name": "cold-lead"}])

    def to_crm_event(self) -> CrmEvent:
        return CrmEvent(event_id=self.event_id, type=self.type, tenant_id=self.tenant_id,
                        contact_id=self.contact_id, occurred_at=self.occurred_at,
                        data=dict(self.data))


class MalformedEventError(Exception):
    """A record that can never be applied; ``reason`` is a short code, ``detail`` says why."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail[:1000]


def parse_envelope(value: bytes | None, tenants: frozenset[str] | None = None) -> CrmEnvelope:
    """The envelope in a record's value, or ``MalformedEventError`` saying what is wrong."""
    if value is None:
        raise MalformedEventError("bad_json", "the record has no value")
    try:
        body = json.loads(value)
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedEventError("bad_json", str(error)) from None
    try:
        envelope = CrmEnvelope.model_validate(body)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                             for e in error.errors())
        raise MalformedEventError("invalid_envelope", problems) from None
    if tenants is not None and envelope.tenant_id not in tenants:
        raise MalformedEventError("unknown_tenant",
                                  f"tenant {envelope.tenant_id!r} is not served here")
    return envelope
