"""Dependency aliases shared by the routers (the runtime, the core, the read models,
``If-Match``), so that each route's signature says what it uses."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request
from starlette.concurrency import run_in_threadpool

from api.problems import ApiError
from api.runtime import Runtime
from domain.application import DriplineApp
from projections.queries import Queries

READ_WAIT_SECONDS = 5.0  # how long a read with ``after`` waits for the read models


async def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _core(request: Request) -> DriplineApp:
    runtime: Runtime = request.app.state.runtime
    return runtime.app


AFTER = ("Read your writes: answer only once the read models include store position N "
         "(the `X-Dripline-Position` of a write's answer, or `position` in the events "
         "answer), or `head`: every write committed before this request. Waits at most "
         f"{READ_WAIT_SECONDS:g} s, then answers 503 with Retry-After.")


def _head(runtime: Runtime) -> int:
    return runtime.app.recorder.max_notification_id() or 0


async def _queries(
    request: Request,
    after: Annotated[str | None, Query(description=AFTER, pattern=r"^(head|[0-9]{1,18})$",
                                       examples=["head", "1234"])] = None,
) -> Queries:
    runtime: Runtime = request.app.state.runtime
    if after is not None:
        head = await run_in_threadpool(_head, runtime)
        position = head if after == "head" else int(after)
        if position > head:  # no write has answered with it: a mistake, not a wait
            raise ApiError(422, f"after: position {position} is beyond the store's head "
                                f"({head})", field="after")
        try:
            await run_in_threadpool(runtime.read_models.wait_for, position,
                                    timeout=request.app.state.read_wait_seconds)
        except TimeoutError:
            raise ApiError(503, f"the read models have not reached position {position} yet; "
                                "retry in a moment", headers={"Retry-After": "1"}) from None
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
