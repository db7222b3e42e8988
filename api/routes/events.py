"""CRM event ingestion over HTTP: the same envelope as the Kafka topic (DESIGN 3.1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, status
from pydantic import Field

from api.auth import Tenant
from api.deps import Core
from api.examples import EVENT_EXAMPLES
from api.problems import ApiError, responses
from api.routes import API
from api.schemas.events import Envelope, EventResult, IngestOut
from domain.app_crm import FEEDBACK
from domain.crm import CrmEvent
from domain.errors import DomainError, InvalidInputError

MAX_EVENTS = 1000
router = APIRouter(prefix=f"{API}/events", tags=["events"])
Batch = Annotated[list[Envelope], Field(min_length=1, max_length=MAX_EVENTS)]


@router.post(
    "", status_code=status.HTTP_202_ACCEPTED, response_model=IngestOut,
    responses=responses(401, 403, 404, 409, 413, 422),
    summary="Record CRM events: one envelope or a list of up to 1,000",
    description=(
        "Each event is recorded on its own, in order, and answered with its outcome: "
        "`applied`, `duplicate` (its `event_id` was seen before), `ignored` (unknown type) "
        "or, in a list, `rejected` with the reason (a single rejected event answers 422, "
        "or 404/409 as the error says). An event whose `tenant_id` is not the API key's "
        "tenant refuses the whole request with 403 before anything is recorded."
    ),
)
def ingest_events(
    tenant: Tenant, core: Core, request: Request,
    data: Annotated[Envelope | Batch, Body(openapi_examples=EVENT_EXAMPLES)],
) -> IngestOut:
    envelopes = data if isinstance(data, list) else [data]
    for i, envelope in enumerate(envelopes):
        if envelope.tenant_id != tenant:
            where = f"[{i}].tenant_id" if isinstance(data, list) else "tenant_id"
            raise ApiError(403, f"{where}: {envelope.tenant_id!r} is not the tenant of your "
                                "API key; nothing was recorded", field=where)
    # Each envelope becomes a domain event first; one invalid in itself (say, a contact id
    # outside the allowed alphabet) is rejected on its own, and the others still apply.
    converted: list[CrmEvent | DomainError] = []
    for envelope in envelopes:
        try:
            converted.append(envelope.to_domain())
        except DomainError as error:
            converted.append(error)
    valid = [e for e in converted if isinstance(e, CrmEvent)]
    recorded, committed = core.record_batch(valid) if valid else ([], None)
    outcomes = iter(recorded)
    results: list[EventResult] = []
    for envelope, item in zip(envelopes, converted, strict=True):
        if isinstance(item, DomainError):
            results.append(_rejected(envelope, item, single=not isinstance(data, list)))
            continue
        outcome = next(outcomes)
        if outcome.error is not None:
            results.append(_rejected(envelope, outcome.error,
                                     single=not isinstance(data, list)))
            continue
        results.append(EventResult.model_validate({
            "event_id": envelope.event_id, "outcome": outcome.status.value,
            "enrolled": outcome.enrolled, "exited": outcome.exited}))
    counts = {k: sum(r.outcome == k for r in results)
              for k in ("applied", "duplicate", "ignored", "rejected")}
    lifecycle = request.app.state.metrics.message_events
    for envelope, result in zip(envelopes, results, strict=True):
        if envelope.type in FEEDBACK:
            lifecycle.labels(envelope.type, result.outcome).inc()
    # The events' own position; when nothing new was written (duplicates only), the store's
    # head: a read with ``after`` then sees whatever the first delivery wrote.
    position = (committed.position if committed is not None and committed.position
                else core.recorder.max_notification_id() or 0)
    return IngestOut(**counts, results=results, position=position)


def _rejected(envelope: Envelope, error: DomainError, *, single: bool) -> EventResult:
    """A single event that is rejected answers with its error's status (422, 404, 409)."""
    if single:
        raise error
    field = error.field if isinstance(error, InvalidInputError) else None
    return EventResult(event_id=envelope.event_id, outcome="rejected", detail=error.message,
                       field=field)
