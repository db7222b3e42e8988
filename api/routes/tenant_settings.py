"""The tenant's settings: frequency caps across sequences and per-channel throttles."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.auth import Tenant
from api.deps import Core, IfMatch
from api.problems import responses
from api.routes import API, etag
from api.schemas.tenant_settings import TenantSettingsIn, TenantSettingsOut

router = APIRouter(prefix=API + "/automation/settings", tags=["settings"],
                   responses=responses(401, 413, 422))


@router.get("", response_model=TenantSettingsOut, summary="Read the tenant's settings")
def get_settings(tenant: Tenant, core: Core, response: Response) -> TenantSettingsOut:
    settings = core.tenant_settings(tenant)
    etag(response, settings.version if settings else 0)
    return TenantSettingsOut.of(settings)


@router.put("", response_model=TenantSettingsOut, responses=responses(409, 412),
            summary="Change the tenant's settings (the fields given)")
def put_settings(tenant: Tenant, core: Core, response: Response, if_match: IfMatch,
                 data: TenantSettingsIn) -> TenantSettingsOut:
    settings = core.update_tenant_settings(tenant, data.model_dump(exclude_unset=True),
                                           if_match)
    etag(response, settings.version)
    return TenantSettingsOut.of(settings)
