"""The template library (CAPABILITIES §5): built-in and tenant templates, clones, previews."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from api.auth import Tenant
from api.deps import Core, IfMatch, ReadModels
from api.problems import responses
from api.routes import API, etag
from api.schemas.common import Page
from api.schemas.steps import body
from api.schemas.templates import (
    TemplateClone,
    TemplateCreate,
    TemplateKind,
    TemplateOut,
    TemplatePreviewIn,
    TemplatePreviewOut,
    TemplateUpdate,
)

router = APIRouter(prefix=f"{API}/automation/templates", tags=["templates"],
                   responses=responses(401, 413, 422))
_WRITE = responses(404, 409, 412)
TemplateId = Annotated[str, Path(min_length=1, max_length=200,
                                 description="`builtin:<name>`, or the id of one of yours")]


def _out(response: Response, template: dict[str, Any]) -> TemplateOut:
    etag(response, int(template["version"]))
    return TemplateOut.model_validate(template)


@router.get("", response_model=Page[TemplateOut], responses=responses(503),
            summary="List the built-in templates and yours")
def list_templates(
    tenant: Tenant, queries: ReadModels,
    kind: TemplateKind | None = None,
    category: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9-]{0,39}$")] = None,
    source: Annotated[str | None, Query(pattern=r"^(builtin|tenant)$")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, pattern=r"^[^\x00]+$",
                                   description="Words in the name or description")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[TemplateOut]:
    found = queries.list_templates(tenant, kind=kind, category=category, source=source, q=q,
                                   page=page, limit=limit)
    return Page[TemplateOut](items=[TemplateOut.model_validate(i) for i in found.items],
                             total=found.total, page=found.page, limit=found.limit)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TemplateOut,
             summary="Create a template of yours (a step or a whole sequence)")
def create_template(tenant: Tenant, core: Core, response: Response,
                    data: TemplateCreate) -> TemplateOut:
    template = core.templates.create_template(tenant, body(data))
    response.headers["Location"] = f"{API}/automation/templates/{template['id']}"
    return _out(response, template)


@router.get("/{template_id}", response_model=TemplateOut, responses=responses(404),
            summary="Read a template")
def get_template(tenant: Tenant, core: Core, response: Response,
                 template_id: TemplateId) -> TemplateOut:
    return _out(response, core.templates.get_template(tenant, template_id))


@router.put("/{template_id}", response_model=TemplateOut, responses=_WRITE,
            summary="Change a template of yours (the fields given); a built-in answers 409")
def update_template(tenant: Tenant, core: Core, response: Response, if_match: IfMatch,
                    template_id: TemplateId, data: TemplateUpdate) -> TemplateOut:
    return _out(response, core.templates.update_template(tenant, template_id, body(data),
                                                         if_match))


@router.delete("/{template_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_WRITE,
               response_class=Response,
               summary="Delete a template of yours; steps copied from it stay as they are")
def delete_template(tenant: Tenant, core: Core, if_match: IfMatch,
                    template_id: TemplateId) -> None:
    core.templates.delete_template(tenant, template_id, if_match)


@router.post("/{template_id}/clone", status_code=status.HTTP_201_CREATED,
             response_model=TemplateOut, responses=responses(404),
             summary="Copy a template (a built-in or yours) into a new template of yours")
def clone_template(tenant: Tenant, core: Core, response: Response, template_id: TemplateId,
                   data: TemplateClone) -> TemplateOut:
    template = core.templates.clone_template(tenant, template_id, data.name)
    response.headers["Location"] = f"{API}/automation/templates/{template['id']}"
    return _out(response, template)


@router.post("/{template_id}/preview", response_model=TemplatePreviewOut,
             responses=responses(404),
             summary="Render a template exactly as it would be sent; writes nothing")
def preview_template(tenant: Tenant, core: Core, template_id: TemplateId,
                     data: TemplatePreviewIn) -> TemplatePreviewOut:
    shown = core.templates.preview_template(tenant, template_id, body(data))
    return TemplatePreviewOut.model_validate(shown)
