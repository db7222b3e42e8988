"""Steps of a draft sequence: add (written out, or copied from a template), change, remove,
or replace them all in one write; and a preview of any step."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Response, status

from api.auth import Tenant
from api.deps import Core, IfMatch
from api.examples import STEP_EXAMPLES, STEPS_EXAMPLES
from api.problems import responses
from api.routes import API, etag
from api.schemas.sequences import SequenceOut, StepChangeOut
from api.schemas.steps import StepOut, StepPatch, body
from api.schemas.templates import NewStep, PreviewOut, StepPreviewIn, StepsIn

REPLACE_STEPS = (
    "One atomic write of the whole arrangement: each item with the `id` of a step of the "
    "draft keeps that step (its fields as given; its `source_template` stays), an item "
    "without `id` (or a `{template_id, order, overrides?}` copy of a step template) is a new "
    "step, and a step left out is removed. Orders need only be unique in the final list, so "
    "steps can swap places in one call. All or nothing: a 422 names the item "
    "(`steps[2].delay_amount`, `steps[0].id` for an id the draft does not have) and nothing "
    "changes. The events are the single-step routes' (`sequence.step_added`, "
    "`step_updated`, `step_removed`), one per step that changes; an unchanged step records "
    "none. `If-Match` as for every write.")

router = APIRouter(prefix=API + "/automation/sequences/{sequence_id}/steps", tags=["steps"],
                   responses=responses(401, 404, 409, 412, 413, 422))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=StepChangeOut,
             summary="Add a step to a draft")
def add_step(tenant: Tenant, core: Core, response: Response, if_match: IfMatch,
             sequence_id: UUID,
             data: Annotated[NewStep, Body(openapi_examples=STEP_EXAMPLES)]) -> StepChangeOut:
    sequence, step = core.add_step(tenant, sequence_id, body(data), if_match)
    etag(response, sequence.version)
    return StepChangeOut(step=StepOut.model_validate(step.to_dict()),
                         sequence=SequenceOut.of(sequence))


@router.put("", response_model=SequenceOut,
            summary="Replace a draft's steps in one write (all or nothing)",
            description=REPLACE_STEPS)
def replace_steps(tenant: Tenant, core: Core, response: Response, if_match: IfMatch,
                  sequence_id: UUID,
                  data: Annotated[StepsIn, Body(openapi_examples=STEPS_EXAMPLES)],
                  ) -> SequenceOut:
    sequence = core.replace_steps(tenant, sequence_id, data.listed(), if_match)
    etag(response, sequence.version)
    return SequenceOut.of(sequence)


@router.post("/{step_id}/preview", response_model=PreviewOut,
             summary="Render a step exactly as it would be sent (any status); writes nothing")
def preview_step(tenant: Tenant, core: Core, sequence_id: UUID, step_id: UUID,
                 data: StepPreviewIn) -> PreviewOut:
    return PreviewOut.model_validate(
        core.templates.preview_step(tenant, sequence_id, step_id, body(data)))


@router.put("/{step_id}", response_model=StepChangeOut,
            summary="Change a step of a draft (the fields given)")
def update_step(tenant: Tenant, core: Core, response: Response, if_match: IfMatch,
                sequence_id: UUID, step_id: UUID, data: StepPatch) -> StepChangeOut:
    sequence, step = core.update_step(tenant, sequence_id, step_id, body(data), if_match)
    etag(response, sequence.version)
    return StepChangeOut(step=StepOut.model_validate(step.to_dict()),
                         sequence=SequenceOut.of(sequence))


@router.delete("/{step_id}", response_model=SequenceOut,
               summary="Remove a step from a draft; answers the sequence without it")
def remove_step(tenant: Tenant, core: Core, response: Response, if_match: IfMatch,
                sequence_id: UUID, step_id: UUID) -> SequenceOut:
    sequence = core.remove_step(tenant, sequence_id, step_id, if_match)
    etag(response, sequence.version)
    return SequenceOut.of(sequence)
