"""One enrollment: read, pause, resume, exit, history."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from api.auth import Tenant
from api.deps import Core, IfMatch
from api.problems import responses
from api.routes import API, etag
from api.schemas.enrollments import EnrollmentOut, ExitIn, HistoryEntry, HistoryOut

router = APIRouter(prefix=API + "/automation/enrollments/{enrollment_id}", tags=["enrollments"],
                   responses=responses(401, 404, 413, 422))
_WRITE = responses(409, 412)


@router.get("", response_model=EnrollmentOut, summary="Read an enrollment (current state)")
def get_enrollment(tenant: Tenant, core: Core, response: Response,
                   enrollment_id: UUID) -> EnrollmentOut:
    enrollment = core.get_enrollment(tenant, enrollment_id)
    etag(response, enrollment.version)
    return EnrollmentOut.of(enrollment)


@router.post("/pause", response_model=EnrollmentOut, responses=_WRITE,
             summary="Pause an active enrollment")
def pause_enrollment(tenant: Tenant, core: Core, response: Response, if_match: IfMatch,
                     enrollment_id: UUID) -> EnrollmentOut:
    enrollment = core.pause_enrollment(tenant, enrollment_id, if_match)
    etag(response, enrollment.version)
    return EnrollmentOut.of(enrollment)


@router.post("/resume", response_model=EnrollmentOut, responses=_WRITE,
             summary="Resume a paused enrollment; a step overdue meanwhile is due at once")
def resume_enrollment(tenant: Tenant, core: Core, response: Response, if_match: IfMatch,
                      enrollment_id: UUID) -> EnrollmentOut:
    enrollment = core.resume_enrollment(tenant, enrollment_id, if_match)
    etag(response, enrollment.version)
    return EnrollmentOut.of(enrollment)


@router.post("/exit", response_model=EnrollmentOut, responses=_WRITE,
             summary="Take the contact out of the sequence")
def exit_enrollment(tenant: Tenant, core: Core, response: Response, if_match: IfMatch,
                    enrollment_id: UUID, data: ExitIn | None = None) -> EnrollmentOut:
    reason = (data or ExitIn()).reason
    enrollment = core.exit_enrollment(tenant, enrollment_id, reason, if_match)
    etag(response, enrollment.version)
    return EnrollmentOut.of(enrollment)


@router.get("/history", response_model=HistoryOut,
            summary="Every event of the enrollment, oldest first")
def enrollment_history(tenant: Tenant, core: Core, enrollment_id: UUID) -> HistoryOut:
    entries = core.enrollment_history(tenant, enrollment_id)
    return HistoryOut(enrollment_id=enrollment_id,
                      items=[HistoryEntry.model_validate(e) for e in entries])
