"""A sequence's revisions (CAPABILITIES §8): list them, start a draft from a published one,
edit its settings and steps, discard it, publish it (with an optional migration of the open
enrollments, or a dry run of one), and follow a migration."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Path, Query, Response, status

from api.auth import Tenant
from api.deps import Core, IfMatch, ReadModels
from api.examples import STEP_EXAMPLES, STEPS_EXAMPLES
from api.problems import responses
from api.routes import API, etag
from api.routes.steps import REPLACE_STEPS
from api.schemas.common import Page
from api.schemas.revisions import (
    MigrationOut,
    MigrationPlanOut,
    PublishIn,
    PublishOut,
    RevisionCreate,
    RevisionOut,
    RevisionSummary,
    RevisionUpdate,
)
from api.schemas.sequences import StepChangeOut
from api.schemas.steps import StepPatch, body
from api.schemas.templates import NewStep, StepsIn

router = APIRouter(prefix=API + "/automation/sequences/{sequence_id}/revisions",
                   tags=["revisions"], responses=responses(401, 404, 413, 422))
_WRITE = responses(409, 412)
Number = Annotated[int, Path(ge=1, le=1_000_000, description="The revision number")]


@router.get("", response_model=Page[RevisionSummary], responses=responses(503),
            summary="List the revisions, newest first, with their open enrollments")
def list_revisions(
    tenant: Tenant, core: Core, queries: ReadModels, sequence_id: UUID,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[RevisionSummary]:
    sequence = core.get_sequence(tenant, sequence_id)
    counts = queries.revision_counts(tenant, sequence_id)
    newest_first = sorted(sequence.revisions.values(), key=lambda r: -r.number)
    items = [RevisionSummary(**RevisionOut.of(sequence, r, counts.get(r.number, 0))
                             .model_dump(include=set(RevisionSummary.model_fields)))
             for r in newest_first[(page - 1) * limit:page * limit]]
    return Page[RevisionSummary](items=items, total=len(newest_first), page=page, limit=limit)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=RevisionOut,
             responses=_WRITE,
             summary="Start a draft revision from a published one (409 if a draft exists)")
def create_revision(tenant: Tenant, core: Core, response: Response, if_match: IfMatch,
                    sequence_id: UUID, data: RevisionCreate | None = None) -> RevisionOut:
    sequence, number = core.revisions.create_revision(
        tenant, sequence_id, (data or RevisionCreate()).from_revision, if_match)
    response.headers["Location"] = (f"{API}/automation/sequences/{sequence_id}"
                                    f"/revisions/{number}")
    etag(response, sequence.version)
    return RevisionOut.of(sequence, sequence.revision(number), 0)


@router.get("/{number}", response_model=RevisionOut, responses=responses(503),
            summary="Read one revision: its steps and journey settings")
def get_revision(tenant: Tenant, core: Core, queries: ReadModels, response: Response,
                 sequence_id: UUID, number: Number) -> RevisionOut:
    sequence = core.get_sequence(tenant, sequence_id)
    revision = sequence.revision(number)
    etag(response, sequence.version)
    return RevisionOut.of(sequence, revision,
                          queries.revision_counts(tenant, sequence_id).get(number, 0))


@router.put("/{number}", response_model=RevisionOut, responses=_WRITE,
            summary="Change a draft revision's journey settings (the fields given)")
def update_revision(tenant: Tenant, core: Core, response: Response, if_match: IfMatch,
                    sequence_id: UUID, number: Number, data: RevisionUpdate) -> RevisionOut:
    sequence = core.revisions.update_revision(tenant, sequence_id, number, body(data), if_match)
    etag(response, sequence.version)
    return RevisionOut.of(sequence, sequence.revision(number), 0)


@router.delete("/{number}", status_code=status.HTTP_204_NO_CONTENT, responses=_WRITE,
               summary="Discard a draft revision")
def discard_revision(tenant: Tenant, core: Core, response: Response, if_match: IfMatch,
                     sequence_id: UUID, number: Number) -> None:
    sequence = core.revisions.discard_revision(tenant, sequence_id, number, if_match)
    etag(response, sequence.version)


@router.post("/{number}/steps", status_code=status.HTTP_201_CREATED,
             response_model=StepChangeOut, responses=_WRITE,
             summary="Add a step to a draft revision")
def add_step(tenant: Tenant, core: Core, response: Response, if_match: IfMatch,
             sequence_id: UUID, number: Number,
             data: Annotated[NewStep, Body(openapi_examples=STEP_EXAMPLES)]) -> StepChangeOut:
    sequence, step = core.add_step(tenant, sequence_id, body(data), if_match, revision=number)
    etag(response, sequence.version)
    return StepChangeOut.of(sequence, step)


@router.put("/{number}/steps", response_model=RevisionOut, responses=_WRITE,
            summary="Replace a draft revision's steps in one write (all or nothing)",
            description=REPLACE_STEPS)
def replace_steps(tenant: Tenant, core: Core, response: Response, if_match: IfMatch,
                  sequence_id: UUID, number: Number,
                  data: Annotated[StepsIn, Body(openapi_examples=STEPS_EXAMPLES)],
                  ) -> RevisionOut:
    sequence = core.replace_steps(tenant, sequence_id, data.listed(), if_match,
                                  revision=number)
    etag(response, sequence.version)
    return RevisionOut.of(sequence, sequence.revision(number), 0)


@router.put("/{number}/steps/{step_id}", response_model=StepChangeOut, responses=_WRITE,
            summary="Change a step of a draft revision (the fields given)")
def update_step(tenant: Tenant, core: Core, response: Response, if_match: IfMatch,
                sequence_id: UUID, number: Number, step_id: UUID,
                data: StepPatch) -> StepChangeOut:
    sequence, step = core.update_step(tenant, sequence_id, step_id, body(data), if_match,
                                      revision=number)
    etag(response, sequence.version)
    return StepChangeOut.of(sequence, step)


@router.delete("/{number}/steps/{step_id}", response_model=RevisionOut, responses=_WRITE,
               summary="Remove a step from a draft revision; answers the revision")
def remove_step(tenant: Tenant, core: Core, response: Response, if_match: IfMatch,
                sequence_id: UUID, number: Number, step_id: UUID) -> RevisionOut:
    sequence = core.remove_step(tenant, sequence_id, step_id, if_match, revision=number)
    etag(response, sequence.version)
    return RevisionOut.of(sequence, sequence.revision(number), 0)


@router.post("/{number}/publish", response_model=PublishOut, responses=_WRITE,
             summary="Make a draft revision live for new enrollments, optionally migrating "
                     "the open ones (dry_run: write nothing, answer what would move)")
def publish_revision(tenant: Tenant, core: Core, response: Response, if_match: IfMatch,
                     sequence_id: UUID, number: Number,
                     data: PublishIn | None = None) -> PublishOut:
    options = data or PublishIn()
    migrate = body(options.migrate) if options.migrate is not None else None
    done = core.revisions.publish_revision(tenant, sequence_id, number, migrate,
                                           options.dry_run, if_match)
    etag(response, done.sequence.version)
    return PublishOut(revision=number, dry_run=done.dry_run,
                      migration=MigrationPlanOut.of(done.migration_id, done.plan))


@router.get("/{number}/migration", response_model=MigrationOut,
            summary="How far the migration asked for with this revision has come")
def get_migration(tenant: Tenant, core: Core, sequence_id: UUID,
                  number: Number) -> MigrationOut:
    return MigrationOut.of(core.revisions.migration(tenant, sequence_id, number))
