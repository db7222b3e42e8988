"""Conversions (CAPABILITIES §3): which goal events converted which enrollments (read model)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from api.auth import Tenant
from api.deps import ReadModels
from api.problems import ApiError, responses
from api.routes import API
from api.schemas.common import Page
from api.schemas.conversions import ConversionOut

router = APIRouter(prefix=f"{API}/automation/conversions", tags=["conversions"],
                   responses=responses(401, 422))


def _utc(moment: datetime | None, field: str) -> datetime | None:
    """A bound in UTC (one without a zone is read as UTC)."""
    if moment is None:
        return None
    try:
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (OverflowError, ValueError):
        raise ApiError(422, f"{field}: out of range", field=field) from None


@router.get("", response_model=Page[ConversionOut], responses=responses(503),
            summary="List conversions (goal event x enrollment), oldest first")
def list_conversions(
    tenant: Tenant, queries: ReadModels,
    contact_id: Annotated[str | None, Query(min_length=1, max_length=200,
                                            pattern=r"^[^\x00]+$")] = None,
    sequence_id: UUID | None = None,
    since: Annotated[datetime | None, Query(
        alias="from", description="Goal events that happened at or after this time")] = None,
    until: Annotated[datetime | None, Query(
        alias="to", description="Goal events that happened at or before this time")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[ConversionOut]:
    since, until = _utc(since, "from"), _utc(until, "to")
    if since is not None and until is not None and until < since:
        raise ApiError(422, "to: must not be before from", field="to")
    found = queries.list_conversions(tenant, contact_id=contact_id, sequence_id=sequence_id,
                                     since=since, until=until, page=page, limit=limit)
    return Page[ConversionOut](items=[ConversionOut.model_validate(i) for i in found.items],
                               total=found.total, page=found.page, limit=found.limit)
