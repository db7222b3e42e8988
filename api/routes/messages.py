"""Message requests recorded by the engine (read model), with their delivery status."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from api.auth import Tenant
from api.deps import ReadModels
from api.problems import responses
from api.routes import API
from api.schemas.common import Page
from api.schemas.reads import MessageOut

router = APIRouter(prefix=f"{API}/automation/messages", tags=["messages"],
                   responses=responses(401, 422))


@router.get("", response_model=Page[MessageOut], responses=responses(503),
            summary="List message requests, newest first")
def list_messages(
    tenant: Tenant, queries: ReadModels,
    contact_id: Annotated[str | None, Query(min_length=1, max_length=200,
                                            pattern=r"^[^\x00]+$")] = None,
    sequence_id: UUID | None = None,
    enrollment_id: UUID | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[MessageOut]:
    found = queries.list_messages(tenant, contact_id=contact_id, sequence_id=sequence_id,
                                  enrollment_id=enrollment_id, page=page, limit=limit)
    return Page[MessageOut](items=[MessageOut.model_validate(i) for i in found.items],
                            total=found.total, page=found.page, limit=found.limit)
