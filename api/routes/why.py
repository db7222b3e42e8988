"""Why is this enrollment waiting? and which enrollments are stuck (CAPABILITIES §7)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from api.auth import Tenant
from api.deps import Core, RuntimeDep
from api.problems import responses
from api.routes import API
from api.schemas.why import ProjectionLag, StuckItem, StuckPage, WhyOut
from projections.stuck import detector

router = APIRouter(prefix=API + "/automation", tags=["operability"],
                   responses=responses(401, 404, 413, 422))


@router.get("/enrollments/{enrollment_id}/why", response_model=WhyOut,
            summary="Why the enrollment is waiting: its reason, next due time and timeline")
def why(tenant: Tenant, core: Core, runtime: RuntimeDep, enrollment_id: UUID) -> WhyOut:
    stuck_after = timedelta(seconds=runtime.settings.stuck_after_seconds)
    found = detector(runtime.read_models, core)
    return WhyOut.of(core.why.explain(tenant, enrollment_id, stuck_after,
                                      lambda: found.cause_of(enrollment_id)))


@router.get("/ops/stuck", response_model=StuckPage,
            summary="Active enrollments overdue past the threshold, confirmed on the aggregates")
def stuck(tenant: Tenant, core: Core, runtime: RuntimeDep,
          older_than: Annotated[int | None, Query(
              ge=1, le=10_000_000, description="Seconds overdue (default: "
                                               "DRIPLINE_STUCK_AFTER_SECONDS)")] = None,
          sequence_id: UUID | None = None,
          page: Annotated[int, Query(ge=1, le=100_000)] = 1,
          limit: Annotated[int, Query(ge=1, le=500)] = 100) -> StuckPage:
    seconds = older_than or runtime.settings.stuck_after_seconds
    report = detector(runtime.read_models, core).find(
        tenant, timedelta(seconds=seconds), sequence_id=sequence_id, page=page, limit=limit)
    return StuckPage(items=[StuckItem.model_validate(i) for i in report.items],
                     total=report.total, page=report.page, limit=report.limit,
                     projection_lag=ProjectionLag(**report.projection_lag),
                     scheduler_heartbeat_age_seconds=report.scheduler_heartbeat_age_seconds)
