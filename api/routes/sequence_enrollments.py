"""A sequence's contacts: enroll one or many, list its enrollments, its stats."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from api.auth import Tenant
from api.deps import Core, ReadModels
from api.problems import responses
from api.routes import API, etag
from api.schemas.common import Page
from api.schemas.enrollments import (
    BulkEnrollIn,
    EnrollIn,
    EnrollmentOut,
    EnrollmentStatus,
    bulk_out,
)
from api.schemas.reads import StatsOut
from api.schemas.sequences import BulkEnrollOut

router = APIRouter(prefix=API + "/automation/sequences/{sequence_id}", tags=["enrollments"],
                   responses=responses(401, 404, 413, 422))


@router.post("/enroll", status_code=status.HTTP_201_CREATED, response_model=EnrollmentOut,
             responses=responses(409), summary="Enroll one contact in an active sequence")
def enroll(tenant: Tenant, core: Core, response: Response, sequence_id: UUID,
           data: EnrollIn) -> EnrollmentOut:
    enrollment = core.enroll(tenant, sequence_id, data.contact_id)
    response.headers["Location"] = f"/api/v1/automation/enrollments/{enrollment.id}"
    etag(response, enrollment.version)
    return EnrollmentOut.of(enrollment)


@router.post("/enroll/bulk", response_model=BulkEnrollOut, responses=responses(409),
             summary="Enroll up to 10,000 contacts; those that cannot be are listed as skipped")
def enroll_bulk(tenant: Tenant, core: Core, sequence_id: UUID,
                data: BulkEnrollIn) -> BulkEnrollOut:
    result = core.enroll_many(tenant, sequence_id, data.contact_ids)
    return BulkEnrollOut.model_validate(bulk_out(result))


@router.get("/enrollments", response_model=Page[EnrollmentOut], responses=responses(503),
            summary="List the sequence's enrollments (read model)")
def list_enrollments(
    tenant: Tenant, core: Core, queries: ReadModels, sequence_id: UUID,
    status_: Annotated[EnrollmentStatus | None, Query(alias="status")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[EnrollmentOut]:
    core.get_sequence(tenant, sequence_id)  # 404 unless the tenant's
    found = queries.list_enrollments(tenant, sequence_id, status=status_, page=page,
                                     limit=limit)
    return Page[EnrollmentOut](items=[EnrollmentOut.model_validate(i) for i in found.items],
                               total=found.total, page=found.page, limit=found.limit)


@router.get("/stats", response_model=StatsOut, responses=responses(503),
            summary="Counters and per-step funnel")
def stats(tenant: Tenant, core: Core, queries: ReadModels, sequence_id: UUID,
          revision: Annotated[int | None, Query(
              ge=1, le=1_000_000, description="Only this revision's figures (default: all "
                                              "revisions, a step's counted by its step_id)",
          )] = None) -> StatsOut:
    sequence = core.get_sequence(tenant, sequence_id)  # 404 unless the tenant's
    if revision is not None:
        sequence.revision(revision)  # 404 for a revision it never had
    found = queries.sequence_stats(tenant, sequence_id, revision=revision)
    conversions = queries.conversion_stats(tenant, sequence_id, revision)
    if found is None:  # not projected yet: nothing has happened that it would count
        found = {"sequence_id": sequence.id, "revision": revision, "total_enrolled": 0,
                 "active_count": 0, "paused_count": 0, "completed_count": 0, "exited_count": 0,
                 "completion_rate": 0.0, "exits_by_reason": {},
                 "avg_completion_seconds": None, "steps": []}
    return StatsOut.model_validate({**found, "conversions": conversions})
