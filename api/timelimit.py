"""ASGI middleware: the per-request time limit of the GraphQL endpoint.

A request that has not started its response after ``seconds`` is cancelled
and answered with 503 and ``LIMIT_EXCEEDED``. A write already handed to
the store finishes in its own thread (a store transaction is never cut in
half); the client is told it may not have been applied.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.middleware import send_limit_exceeded

__all__ = ["RequestTimeLimit"]


class RequestTimeLimit:
    """Cancel GraphQL requests that take longer than ``seconds``."""

    def __init__(self, app: ASGIApp, seconds: float, path: str = "/graphql") -> None:
        self.app = app
        self.seconds = seconds
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or self.seconds <= 0:
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await asyncio.wait_for(self.app(scope, receive, tracking_send), self.seconds)
        except TimeoutError:
            if started:
                raise
            await send_limit_exceeded(
                send,
                503,
                f"request took longer than the limit of {self.seconds:g} s",
                [(b"retry-after", b"1")],
            )
