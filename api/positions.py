"""Read your writes: every successful write answers with ``X-Dripline-Position``, the store's
position once it was committed (its own events are at or before it). A read that passes it as
``?after=`` is answered only once the read models include it (``api.deps``)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

POSITION_HEADER = "X-Dripline-Position"
_READS = ("GET", "HEAD", "OPTIONS")


class PositionHeaderMiddleware:
    def __init__(self, app: ASGIApp, head: Callable[[], int]) -> None:
        self.app, self.head = app, head

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _READS:
            await self.app(scope, receive, send)
            return

        async def with_position(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                # Read after the write committed (the answer starts only then): at or past it.
                position = await run_in_threadpool(self.head)
                MutableHeaders(scope=message).append(POSITION_HEADER, str(position))
            await send(message)

        await self.app(scope, receive, with_position)
