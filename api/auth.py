"""API keys: ``tenant:key`` pairs from the settings, or one generated key for "default".

The tenant of a request comes only from its key. Keys are compared in constant time, and all
of them every time, so neither the answer's timing nor its shape says which part was wrong.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.problems import ApiError
from domain.errors import InvalidInputError
from domain.validation import TENANT_RULE, tenant_id

log = logging.getLogger("dripline.api")
DEFAULT_TENANT = "default"


class ApiKeysError(ValueError):
    pass


@dataclass(frozen=True)
class ApiKeys:
    by_key: dict[str, str]  # key -> tenant
    generated_key: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, text: str) -> ApiKeys:
        """``tenant:key[,tenant:key…]``; a tenant may have several keys (rotation)."""
        pairs: dict[str, str] = {}
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            tenant, sep, key = item.partition(":")
            if not sep or not tenant.strip() or not key.strip():
                raise ApiKeysError(f"DRIPLINE_API_KEYS: {item!r} is not tenant:key")
            try:
                tenant_id(tenant.strip())
            except InvalidInputError:
                raise ApiKeysError(f"DRIPLINE_API_KEYS: {tenant.strip()!r} is not a tenant id "
                                   f"(tenant ids are {TENANT_RULE})") from None
            pairs[key.strip()] = tenant.strip()
        if not pairs:
            raise ApiKeysError("DRIPLINE_API_KEYS is set but names no tenant:key pair")
        return cls(pairs)

    @classmethod
    def generate(cls) -> ApiKeys:
        key = secrets.token_urlsafe(32)
        return cls({key: DEFAULT_TENANT}, generated_key=key)

    @classmethod
    def from_text(cls, text: str | None) -> ApiKeys:
        """The keys ``DRIPLINE_API_KEYS`` names in ``text``, or when it is unset (or empty) a
        fresh random key for tenant "default" (logged once)."""
        if text:
            return cls.parse(text)
        keys = cls.generate()
        log.warning("DRIPLINE_API_KEYS is not set: generated an API key for tenant %r: %s",
                    DEFAULT_TENANT, keys.generated_key)
        return keys

    def tenant_of(self, presented: str) -> str | None:
        found: str | None = None
        given = presented.encode()
        for key, tenant in self.by_key.items():
            if hmac.compare_digest(key.encode(), given):
                found = tenant
        return found


_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>`")


async def require_tenant(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    keys: ApiKeys = request.app.state.api_keys
    tenant = keys.tenant_of(credentials.credentials) if credentials else None
    if tenant is None:
        raise ApiError(401, "send a valid API key as 'Authorization: Bearer <key>'",
                       headers={"WWW-Authenticate": "Bearer"})
    return tenant


Tenant = Annotated[str, Depends(require_tenant)]
