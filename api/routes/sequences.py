"""Sequences: list, create, read, change and delete drafts."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Query, Response, status

from api.auth import Tenant
from api.deps import Core, IfMatch, ReadModels
from api.examples import SEQUENCE_EXAMPLES
from api.problems import responses
from api.routes import API, etag
from api.schemas.common import Page
from api.schemas.sequences import (
    SequenceCreate,
    SequenceOut,
    SequenceStatus,
    SequenceUpdate,
    TriggerType,
)
from api.schemas.steps import body
from api.schemas.templates import SequenceFromTemplate

router = APIRouter(prefix=f"{API}/automation/sequences", tags=["sequences"],
                   responses=responses(401, 413, 422))
_WRITE = responses(404, 409, 412)


@router.get("", response_model=Page[SequenceOut], responses=responses(503),
            summary="List the tenant's sequences")
def list_sequences(
    tenant: Tenant, queries: ReadModels,
    status_: Annotated[SequenceStatus | None, Query(alias="status")] = None,
    trigger_type: TriggerType | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[SequenceOut]:
    found = queries.list_sequences(tenant, status=status_, trigger_type=trigger_type,
                                   page=page, limit=limit)
    return Page[SequenceOut](items=[SequenceOut.model_validate(i) for i in found.items],
                             total=found.total, page=found.page, limit=found.limit)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SequenceOut,
             summary="Create a draft sequence, with or without steps")
def create_sequence(
    tenant: Tenant, core: Core, response: Response,
    data: Annotated[SequenceCreate, Body(openapi_examples=SEQUENCE_EXAMPLES)],
) -> SequenceOut:
    sequence = core.create_sequence(tenant, body(data))
    response.headers["Location"] = f"/api/v1/automation/sequences/{sequence.id}"
    etag(response, sequence.version)
    return SequenceOut.of(sequence)


@router.post("/from-template", status_code=status.HTTP_201_CREATED, response_model=SequenceOut,
             summary="Create a draft sequence from a sequence template (a copy of its steps)")
def create_from_template(tenant: Tenant, core: Core, response: Response,
                         data: SequenceFromTemplate) -> SequenceOut:
    sequence = core.templates.sequence_from(tenant, body(data))
    response.headers["Location"] = f"/api/v1/automation/sequences/{sequence.id}"
    etag(response, sequence.version)
    return SequenceOut.of(sequence)


@router.get("/{sequence_id}", response_model=SequenceOut, responses=responses(404),
            summary="Read a sequence (its current state, not the read model)")
def get_sequence(tenant: Tenant, core: Core, response: Response,
                 sequence_id: UUID) -> SequenceOut:
    sequence = core.get_sequence(tenant, sequence_id)
    etag(response, sequence.version)
    return SequenceOut.of(sequence)


@router.put("/{sequence_id}", response_model=SequenceOut, responses=_WRITE,
            summary="Change a draft's settings (the fields given)")
def update_sequence(tenant: Tenant, core: Core, response: Response, if_match: IfMatch,
                    sequence_id: UUID, data: SequenceUpdate) -> SequenceOut:
    sequence = core.update_sequence(tenant, sequence_id, body(data), if_match)
    etag(response, sequence.version)
    return SequenceOut.of(sequence)


@router.delete("/{sequence_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_WRITE,
               response_class=Response, summary="Delete a draft; any other state answers 409")
def delete_sequence(tenant: Tenant, core: Core, if_match: IfMatch, sequence_id: UUID) -> None:
    core.delete_sequence(tenant, sequence_id, if_match)
