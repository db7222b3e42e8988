"""Payload schemas of the out topics, for the AsyncAPI document (the records themselves are
built by ``consumers.relay`` and ``consumers.dlq``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class MessageRequestOut(BaseModel):
    """A message request (DESIGN 3.2), as recorded by the enrollment that asked for it."""

    message_id: str = Field(description="Deterministic: enrollment:step_order:attempt")
    tenant_id: str
    contact_id: str
    sequence_id: str
    enrollment_id: str
    step_id: str
    step_order: int
    attempt: int = 1
    channel: str
    type: str
    content: str
    template_id: str | None = None
    variables: dict[str, str] = Field(default_factory=dict)
    media_url: str | None = None
    due_at: str
    created_at: str


class DomainEventOut(BaseModel):
    event_id: str = Field(description="aggregate_id:version, unique per event")
    type: str = Field(description="The event's stable topic, e.g. sequence.contact_enrolled")
    aggregate_id: str
    version: int
    position: int = Field(description="Position in Dripline's event store")
    data: dict[str, Any]


class DeadLetterHeaders(BaseModel):
    """The value is the original record's value (possibly not JSON); these are headers."""

    dlq_reason: str = Field(alias="dlq-reason", description="bad_json | invalid_envelope | "
                            "unknown_tenant | invalid_event | failed")
    dlq_detail: str = Field(alias="dlq-detail")
    dlq_source_topic: str = Field(alias="dlq-source-topic")
    dlq_source_partition: str = Field(alias="dlq-source-partition")
    dlq_source_offset: str = Field(alias="dlq-source-offset")
    dlq_attempts: str = Field(alias="dlq-attempts")
    dlq_event_id: str = Field(alias="dlq-event-id")
