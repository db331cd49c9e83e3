"""ASGI middleware: the per-request time limit of the GraphQL endpoint.

A request that has not started its response after ``seconds`` is cancelled
and answered with 503 and ``LIMIT_EXCEEDED``. A write already handed to
the store finishes in its own thread (a store transaction is never cut in
half); the client is told it may not have been applied.

Cancelling alone is not enough: a query that fans out into thousands of
resolvers keeps them busy after the cancel, and SQLite reads run on the
event loop. So the middleware also puts the request's :class:`Deadline` in
the ASGI scope (:data:`DEADLINE`); the GraphQL context checks it before
every store read, and reads past it fail at once with ``LIMIT_EXCEEDED``.
"""

from __future__ import annotations

import asyncio
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.middleware import send_limit_exceeded
from lineage.errors import LimitExceeded

__all__ = ["DEADLINE", "Deadline", "RequestTimeLimit"]

# The ASGI scope key of the request's Deadline.
DEADLINE = "lineage.deadline"


class Deadline:
    """When a request's time is up.

    Parameters
    ----------
    seconds : float
        The limit, counted from now.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def check(self) -> None:
        """Raise ``LIMIT_EXCEEDED`` once the time is up."""
        if time.monotonic() > self.at:
            raise LimitExceeded(f"request took longer than the limit of {self.seconds:g} s")


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
        scope[DEADLINE] = Deadline(self.seconds)
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            # A timeout around the request's own task: wait_for would run the
            # request in a task of its own, one more per request.
            async with asyncio.timeout(self.seconds):
                await self.app(scope, receive, tracking_send)
        except TimeoutError:
            if started:
                raise
            await send_limit_exceeded(
                send,
                503,
                f"request took longer than the limit of {self.seconds:g} s",
                [(b"retry-after", b"1")],
            )
