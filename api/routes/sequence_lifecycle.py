"""A sequence's lifecycle: activate, pause, resume, archive; and cloning it into a draft."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response, status

from api.auth import Tenant
from api.deps import Core, IfMatch
from api.problems import responses
from api.routes import API, etag
from api.schemas.enrollments import bulk_out
from api.schemas.sequences import ActivateIn, ActivationOut, BulkEnrollOut, CloneIn, SequenceOut

router = APIRouter(prefix=API + "/automation/sequences/{sequence_id}", tags=["sequences"],
                   responses=responses(401, 404, 413, 422))
_WRITE = responses(409, 412)


@router.post("/activate", response_model=ActivationOut, responses=_WRITE,
             summary="Activate a draft that has steps")
def activate_sequence(tenant: Tenant, core: Core, response: Response, if_match: IfMatch,
                      sequence_id: UUID, data: ActivateIn | None = None) -> ActivationOut:
    options = data or ActivateIn()
    activation = core.activate_sequence(tenant, sequence_id, options.enroll_existing, if_match)
    etag(response, activation.sequence.version)
    out = SequenceOut.of(activation.sequence).model_dump()
    enrolled = (BulkEnrollOut.model_validate(bulk_out(activation.enrolled))
                if activation.enrolled else None)
    return ActivationOut(**out, enroll_existing=enrolled)


@router.post("/pause", response_model=SequenceOut, responses=_WRITE,
             summary="Pause an active sequence and its active enrollments")
def pause_sequence(tenant: Tenant, core: Core, response: Response, if_match: IfMatch,
                   sequence_id: UUID) -> SequenceOut:
    sequence = core.pause_sequence(tenant, sequence_id, if_match)
    etag(response, sequence.version)
    return SequenceOut.of(sequence)


@router.post("/resume", response_model=SequenceOut, responses=_WRITE,
             summary="Resume a paused sequence and the enrollments its pause paused")
def resume_sequence(tenant: Tenant, core: Core, response: Response, if_match: IfMatch,
                    sequence_id: UUID) -> SequenceOut:
    sequence = core.resume_sequence(tenant, sequence_id, if_match)
    etag(response, sequence.version)
    return SequenceOut.of(sequence)


@router.post("/archive", response_model=SequenceOut, responses=_WRITE,
             summary="Archive a sequence (final); its open enrollments exit")
def archive_sequence(tenant: Tenant, core: Core, response: Response, if_match: IfMatch,
                     sequence_id: UUID) -> SequenceOut:
    sequence = core.archive_sequence(tenant, sequence_id, if_match)
    etag(response, sequence.version)
    return SequenceOut.of(sequence)


@router.post("/clone", status_code=status.HTTP_201_CREATED,
             response_model=SequenceOut,
             summary="Copy a sequence into a new draft (new step ids)")
def clone_sequence(tenant: Tenant, core: Core, response: Response, sequence_id: UUID,
                   data: CloneIn | None = None) -> SequenceOut:
    clone = core.clone_sequence(tenant, sequence_id, name=(data or CloneIn()).name)
    response.headers["Location"] = f"/api/v1/automation/sequences/{clone.id}"
    etag(response, clone.version)
    return SequenceOut.of(clone)
