"""Payload schemas of the out topics, for the AsyncAPI document (the records themselves are
built by ``consumers.relay`` and ``consumers.dlq``)."""

from __future__ import annotations

from typing import Literal

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


IntegrationType = Literal[
    "sequence.created", "sequence.activated", "sequence.paused", "sequence.resumed",
    "sequence.archived", "sequence.deleted", "enrollment.started",
    "enrollment.step_requested", "enrollment.step_skipped", "enrollment.step_failed",
    "enrollment.message_delivered", "enrollment.exited", "enrollment.completed",
    "enrollment.paused", "enrollment.resumed"]


class IntegrationEventOut(BaseModel):
    """An integration event on ``dripline.events`` (key: the contact id for enrollment
    events, the sequence id for sequence events; headers event_id, event_type,
    store_position). Ids only: never contact profile data or message content. Fields by
    type: every enrollment event has sequence_id, enrollment_id and contact_id;
    enrollment.started adds source, step_order, due_at, entered_at;
    enrollment.step_requested adds step_order, step_id, attempt, message_id, channel;
    enrollment.step_skipped adds step_order, step_id, reason; enrollment.step_failed adds
    step_order, attempt, message_id, permanent, retry_at; enrollment.message_delivered
    adds step_order, message_id; enrollment.exited adds reason; enrollment.paused adds
    by_sequence; enrollment.resumed adds due_at. Sequence events have sequence_id only."""

    type: IntegrationType
    version: int = Field(description="Of this type's shape: 1. A new shape is a new version")
    event_id: str = Field(description="Unique per event, the same on a republish: "
                                      "deduplicate by it")
    tenant_id: str
    occurred_at: str = Field(description="When it happened in Dripline (ISO 8601)")
    sequence_id: str
    enrollment_id: str | None = None
    contact_id: str | None = None
    source: str | None = Field(default=None, description="manual, bulk, trigger or "
                                                         "enroll_existing")
    step_order: int | None = None
    step_id: str | None = None
    attempt: int | None = None
    message_id: str | None = None
    channel: str | None = None
    reason: str | None = Field(default=None, description="Why it exited, or the skip code")
    permanent: bool | None = None
    retry_at: str | None = None
    due_at: str | None = None
    entered_at: str | None = None
    by_sequence: bool | None = None


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
