"""Errors as ``application/problem+json`` (RFC 9457): the body, the exception the API layer
raises itself, and the OpenAPI entries of the error statuses."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

log = logging.getLogger("dripline.api")
PROBLEM_JSON = "application/problem+json"

_TITLES = {
    400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
    405: "Method not allowed", 409: "Conflict", 412: "Precondition failed",
    413: "Content too large", 415: "Unsupported media type", 422: "Invalid request",
    500: "Internal server error", 503: "Service unavailable",
}
_SLUGS = {
    400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
    405: "method-not-allowed", 409: "conflict", 412: "stale-version", 413: "too-large",
    415: "unsupported-media-type", 422: "invalid", 500: "internal", 503: "unavailable",
}


class FieldProblem(BaseModel):
    field: str = Field(description="Dotted path of the offending value, e.g. steps[0].delay_amount")
    message: str


class Problem(BaseModel):
    """An error response (RFC 9457 problem details)."""

    type: str = Field(examples=["urn:dripline:problem:not-found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["sequence 3f0c… not found"])
    field: str | None = Field(default=None, description="For 422: the first offending field")
    errors: list[FieldProblem] | None = Field(default=None, description="For 422: every field")


class ApiError(Exception):
    """Raised by the API layer itself (auth, tenant mismatch, unavailable read models)."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None,
                 field: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers, self.field = status, detail, headers, field


def problem(status: int, detail: str, *, errors: list[FieldProblem] | None = None,
            headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = Problem(type=f"urn:dripline:problem:{_SLUGS.get(status, str(status))}",
                   title=_TITLES.get(status, "Error"), status=status, detail=detail,
                   field=errors[0].field if errors else None, errors=errors)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status,
                        headers=headers, media_type=PROBLEM_JSON)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer."""
    described = {
        401: "Missing or unknown API key", 403: "The request names another tenant",
        404: "No such resource for this tenant", 409: "The current state forbids this",
        412: "If-Match names a stale version", 413: "The body is too large",
        422: "The request is invalid (the field is named)", 503: "Not ready",
    }
    return {s: {"model": Problem, "description": described.get(s, _TITLES[s])}
            for s in statuses}
