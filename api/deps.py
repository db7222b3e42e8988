"""Dependency aliases shared by the routers (the runtime, the core, the read models,
``If-Match``), so that each route's signature says what it uses."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from api.problems import ApiError
from domain.application import DriplineApp
from dripline.bootstrap import Runtime
from projections.queries import Queries


async def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _core(request: Request) -> DriplineApp:
    runtime: Runtime = request.app.state.runtime
    return runtime.app


async def _queries(request: Request) -> Queries:
    runtime: Runtime = request.app.state.runtime
    return runtime.queries


async def _if_match(
    if_match: Annotated[str | None, Header(
        alias="If-Match",
        description="The version you read (e.g. `3` or `\"3\"`); a stale one answers 412",
    )] = None,
) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    text = if_match.strip()
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip('"')
    if not text.isdigit() or len(text) > 18:
        raise ApiError(422, f"If-Match must be a version number such as 3; got {if_match!r}",
                       field="If-Match")
    return int(text)


RuntimeDep = Annotated[Runtime, Depends(_runtime)]
Core = Annotated[DriplineApp, Depends(_core)]
ReadModels = Annotated[Queries, Depends(_queries)]
IfMatch = Annotated[int | None, Depends(_if_match)]
