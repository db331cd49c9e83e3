"""ASGI middleware: each HTTP request's store reads are batched apart from other requests'.

A Neo4j wave that mixed the reads of every concurrent request was a new query
text almost every time (which reads, in which order, varies with what the
other requests were doing), and the server plans each new text before it
runs it: seconds under load. Within one request the reads of a wave are fixed
by its query, so its combined texts repeat and are planned once.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from lineage.stores.read_scope import read_scope

__all__ = ["ReadScopes"]


class ReadScopes:
    """Opens a :func:`~lineage.stores.read_scope.read_scope` around each HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with read_scope():
            await self.app(scope, receive, send)
