"""A contact's enrollments across the tenant's sequences (read model)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.auth import Tenant
from api.deps import ReadModels
from api.problems import responses
from api.routes import API
from api.schemas.common import Page
from api.schemas.enrollments import EnrollmentOut, EnrollmentStatus

router = APIRouter(prefix=f"{API}/automation/contacts", tags=["contacts"],
                   responses=responses(401, 422))
ContactRef = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[^\x00]+$")]


@router.get("/{contact_id}/enrollments", response_model=Page[EnrollmentOut],
            responses=responses(503),
            summary="The contact's enrollments (an unknown contact has none)")
def contact_enrollments(
    tenant: Tenant, queries: ReadModels, contact_id: ContactRef,
    status_: Annotated[EnrollmentStatus | None, Query(alias="status")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[EnrollmentOut]:
    rows = queries.contact_enrollments(tenant, contact_id, status=status_)
    chunk = rows[(page - 1) * limit:page * limit]
    return Page[EnrollmentOut](items=[EnrollmentOut.model_validate(r) for r in chunk],
                               total=len(rows), page=page, limit=limit)
