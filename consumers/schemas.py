"""Payload schemas of the out topics, for the AsyncAPI document (the records themselves are
built by ``consumers.relay`` and ``consumers.dlq``)."""

from __future__ import annotations

from typing import Any, Literal

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
    variant: str | None = Field(default=None, description=(
        "The A/B test arm whose content this is (null: the step's own content)"))


IntegrationType = Literal[
    "sequence.created", "sequence.activated", "sequence.paused", "sequence.resumed",
    "sequence.archived", "sequence.deleted", "sequence.revision_created",
    "sequence.revision_published", "sequence.revision_discarded", "enrollment.started",
    "enrollment.step_requested", "enrollment.step_skipped", "enrollment.step_failed",
    "enrollment.message_delivered", "enrollment.exited", "enrollment.completed",
    "enrollment.paused", "enrollment.resumed", "enrollment.migrated",
    "enrollment.goal_reached", "enrollment.message_opened", "enrollment.message_clicked",
    "enrollment.reply_attributed", "enrollment.unsubscribe_attributed",
    "sequence.experiment_evaluated", "sequence.experiment_concluded", "template.created",
    "template.updated", "template.deleted", "tenant.settings_updated", "ledger.send_counted",
    "throttle.reserved"]


class IntegrationEventOut(BaseModel):
    """An integration event on ``dripline.events`` (key: the contact id for enrollment
    events, the sequence id for sequence events; headers event_id, event_type,
    store_position). Ids only: never contact profile data or message content. Fields by
    type: every enrollment event has sequence_id, enrollment_id and contact_id;
    enrollment.started adds source, step_order, due_at, entered_at, revision, holdout,
    assignments; enrollment.step_requested adds step_order, step_id, attempt, message_id,
    channel, variant, experiment_id;
    enrollment.step_skipped adds step_order, step_id, reason; enrollment.step_failed adds
    step_order, attempt, message_id, permanent, retry_at; enrollment.message_delivered
    adds step_order, message_id, implied; enrollment.message_opened adds step_order,
    message_id, machine, acted_at; enrollment.message_clicked adds step_order, message_id,
    bot, first, acted_at (never the link); enrollment.reply_attributed and
    enrollment.unsubscribe_attributed add step_order, message_id, by, variant, acted_at;
    enrollment.exited adds reason; enrollment.paused adds
    by_sequence; enrollment.resumed adds due_at; enrollment.migrated (moved to a newer
    revision by a migration) adds from_revision, to_revision, from_step_id, to_step_id,
    due_at; enrollment.goal_reached (the enrollment converted: a CRM event met its goal; an
    exit with reason goal_reached may follow) adds goal_event_id, goal_event_type,
    goal_occurred_at, message_id, step_id and step_order (the last message requested before
    it; null when none), variant, holdout, exclusive, revision. Every sequence event has
    sequence_id; sequence.revision_created adds revision,
    base; sequence.revision_published adds revision, migrate; sequence.revision_discarded
    adds revision; sequence.experiment_evaluated (a look at an A/B test) adds revision,
    experiment_id, look, counts, p_values, result, best; sequence.experiment_concluded
    adds revision, experiment_id, winner, by. Template events (template.created,
    template.updated, template.deleted: a tenant's own step or sequence template) have
    template_id and kind instead of sequence_id, never the template's content. A
    migration's own progress is not published: its enrollments' enrollment.migrated and
    enrollment.exited (reason step_removed) are. Frequency caps and throttles (key: the
    contact id for ledger.send_counted, else the tenant id): tenant.settings_updated has
    changes (the settings fields changed, with their new values); ledger.send_counted (a
    first-attempt request counted against the contact's caps) has contact_id, message_id,
    sequence_id, channel; throttle.reserved (slots of a channel's minute taken by one
    batch) has channel, minute, count, enrollment_ids. Adding a field or a type keeps the
    version."""

    type: IntegrationType
    version: int = Field(description="Of this type's shape: 1. A new shape is a new version; "
                                     "an added field is not")
    event_id: str = Field(description="Unique per event, the same on a republish: "
                                      "deduplicate by it")
    tenant_id: str
    occurred_at: str = Field(description="When it happened in Dripline (ISO 8601)")
    sequence_id: str | None = Field(default=None, description=(
        "Every sequence and enrollment event has one, and ledger.send_counted; template "
        "and other tenant events do not"))
    enrollment_id: str | None = None
    contact_id: str | None = None
    source: str | None = Field(default=None, description="manual, bulk, trigger or "
                                                         "enroll_existing")
    step_order: int | None = None
    step_id: str | None = None
    attempt: int | None = None
    message_id: str | None = None
    channel: str | None = None
    reason: str | None = Field(default=None, description=(
        "Why it exited: contact_replied, contact_unsubscribed, contact_deleted, "
        "condition_not_met, sequence_paused, sequence_archived, error, manual_exit, "
        "step_removed (a migration mapped its step to exit) or goal_reached; or the skip "
        "code"))
    permanent: bool | None = None
    retry_at: str | None = None
    due_at: str | None = None
    entered_at: str | None = None
    by_sequence: bool | None = None
    revision: int | None = Field(default=None, description=(
        "The sequence revision: the one an enrollment is pinned to (enrollment.started; "
        "1 for enrollments made before revisions), the one whose goal was met "
        "(enrollment.goal_reached), or the one created, published or discarded"))
    base: int | None = Field(default=None, description="The published revision a new draft "
                                                       "revision copies")
    migrate: dict[str, Any] | None = Field(default=None, description=(
        "The migration of open enrollments asked for with the publish, or null (they stay "
        "on their revisions): step_map {old step_id: {\"to\": new step_id} | "
        "{\"exit\": true}} and due, keep or recompute"))
    from_revision: int | None = None
    to_revision: int | None = None
    from_step_id: str | None = None
    to_step_id: str | None = None
    goal_event_id: str | None = Field(default=None, description=(
        "The CRM event (its event_id) that met the enrollment's goal"))
    goal_event_type: str | None = None
    goal_occurred_at: str | None = Field(default=None, description="When it happened (CRM "
                                                                   "time, ISO 8601)")
    variant: str | None = Field(default=None, description=(
        "The A/B test arm whose content the message carries (enrollment.step_requested); "
        "null when none"))
    holdout: bool | None = Field(default=None, description=(
        "Held out of the sequence's A/B tests: it gets no message"))
    assignments: dict[str, dict[str, str]] | None = Field(default=None, description=(
        "enrollment.started: its arm in each A/B test, {experiment_id: {\"arm\", \"by\": "
        "split | winner}}"))
    experiment_id: str | None = Field(default=None, description="The A/B test (experiment)")
    look: int | None = Field(default=None, description="The look's number (1, 2, ...)")
    counts: dict[str, dict[str, int]] | None = Field(default=None, description=(
        "Per arm, the matured exposures and successes the look used"))
    p_values: dict[str, float] | None = Field(default=None, description=(
        "The best arm against each other arm (two-sided pooled z-test)"))
    result: Literal["insufficient", "significant", "not_significant"] | None = None
    best: str | None = Field(default=None, description="The arm with the highest rate")
    winner: str | None = Field(default=None, description="The arm new enrollments now get")
    template_id: str | None = Field(default=None, description="Template events: which")
    kind: str | None = Field(default=None, description="Template events: step or sequence")
    exclusive: bool | None = Field(default=None, description=(
        "The one enrollment, across the contact's sequences, this goal event counts for "
        "once (the one with the latest attributed message)"))
    implied: bool | None = Field(default=None, description=(
        "The delivery was not reported: an open or a click showed the message arrived"))
    machine: bool | None = Field(default=None, description="The sender says a machine "
                                                           "opened it (a privacy proxy)")
    bot: bool | None = Field(default=None, description="The sender says a bot clicked")
    first: bool | None = Field(default=None, description=(
        "The message's first click of its kind (human or bot): what the stats count"))
    by: Literal["message_id", "last_message", "auto", "manual", "fallback"] | None = Field(
        default=None, description=(
            "How the reply or unsubscribe was attributed: it named the message, or it was "
            "the contact's latest message before it; how an experiment was concluded: auto "
            "(a significant look), manual, or fallback (best observed after the last look)"))
    acted_at: str | None = Field(default=None, description="When the contact acted (CRM "
                                                           "time, ISO 8601)")
    changes: dict[str, Any] | None = Field(default=None, description=(
        "tenant.settings_updated: timezone, frequency_cap and/or throttle, as now set"))
    minute: str | None = Field(default=None, description="The UTC minute of the throttle "
                                                         "slots (ISO 8601)")
    count: int | None = Field(default=None, description="Slots taken")
    enrollment_ids: list[str] | None = Field(default=None, description=(
        "The enrollments the slots were taken for, in slot order"))


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
