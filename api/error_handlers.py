"""How errors become answers, each as ``application/problem+json`` (see ``api.problems``).

The domain's error families decide the status: invalid input 422, state conflict 409, unknown
404, stale write 412 when the client sent ``If-Match`` (409 otherwise). Anything unexpected is
a 500 that names no internals; a client's request never reaches that branch on purpose.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from api.problems import ApiError, FieldProblem, log, problem
from domain.errors import (
    ConcurrencyConflictError,
    DomainError,
    InconsistentStateError,
    InvalidInputError,
    NotFoundError,
)


def _field_of(loc: tuple[Any, ...]) -> str:
    """``steps[2].delay_amount``, as the domain names the same field. A capitalised part
    right after a list index is the tag of a union's branch (``("steps", 2, "Step",
    "delay_amount")``), not a field: fields are snake_case."""
    parts = list(loc[1:] if loc and loc[0] == "body" else loc)
    text = ""
    for before, part in zip([None, *parts], parts, strict=False):
        if isinstance(before, int) and isinstance(part, str) and part[:1].isupper():
            continue
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def _branch_loc(loc: tuple[Any, ...], body: Any) -> tuple[Any, ...] | None:
    """For a body that is "one object or a list of them", pydantic reports both union
    branches; keep the errors of the branch the client chose, without the branch tag."""
    if len(loc) > 1 and loc[0] == "body" and isinstance(loc[1], str):
        tag = loc[1]
        if tag.startswith("list["):
            return ("body", *loc[2:]) if isinstance(body, list) else None
        if tag[:1].isupper():
            return ("body", *loc[2:]) if not isinstance(body, list) else None
    return loc


def _domain_status(error: DomainError, request: Request) -> int:
    if isinstance(error, InvalidInputError):
        return 422
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, ConcurrencyConflictError):
        return 412 if request.headers.get("if-match") else 409
    if isinstance(error, InconsistentStateError):
        return 500
    return 409  # StateConflictError, and any other refusal the state makes


async def _on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, DomainError):  # registered for DomainError only
        raise exc
    status = _domain_status(exc, request)
    if isinstance(exc, InvalidInputError):
        return problem(422, exc.message, errors=[FieldProblem(field=exc.field,
                                                              message=exc.reason)])
    return problem(status, exc.message)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):
        raise exc
    errors = [FieldProblem(field=_field_of(loc), message=str(e.get("msg")))
              for e in exc.errors() if (loc := _branch_loc(tuple(e.get("loc", ())), exc.body))]
    names = ", ".join(dict.fromkeys(e.field for e in errors))
    return problem(422, f"the request is invalid; fix: {names}", errors=errors)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, HTTPException):
        raise exc
    if exc.status_code == 400:  # FastAPI: a body it could not decode (e.g. not UTF-8)
        return problem(422, "the body could not be parsed: it must be UTF-8 JSON, nested "
                            "less deeply, with numbers of fewer than 4,300 digits",
                       errors=[FieldProblem(field="body", message="cannot be decoded")])
    return problem(exc.status_code, str(exc.detail), headers=exc.headers)


async def _on_api_problem(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, ApiError):
        raise exc
    errors = [FieldProblem(field=exc.field, message=exc.detail)] if exc.field else None
    return problem(exc.status, exc.detail, headers=exc.headers, errors=errors)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(500, "an unexpected error occurred; it has been logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(ApiError, _on_api_problem)
    app.add_exception_handler(Exception, _on_unexpected)
