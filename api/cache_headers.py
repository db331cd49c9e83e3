"""ASGI middleware: what HTTP caches may do with ``GET /graphql`` answers.

Answers depend on the caller (a removed video's prompt is shown to admins
alone) and on the negotiated media type, so every answer to a ``GET`` with
a query names ``Accept`` and ``Authorization`` in ``Vary``, and every
answer to a request that sends ``Authorization`` is ``Cache-Control:
private``: no shared cache (a CDN, a proxy) may keep it, whatever the rest
of its caching headers say. Anonymous answers keep what the response cache
gave them (``max-age=N, must-revalidate`` and an ``ETag``), which shared
caches may store. Tokens arrive only in ``Authorization``, so "sends one"
is exactly "any audience other than anonymous".
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["VARY", "PrivateAnswers"]

# The request headers an answer depends on (Origin is added by CORS when on).
VARY = "Accept, Authorization"


class PrivateAnswers:
    """Mark ``GET`` answers of ``path`` ``Vary: Accept, Authorization``; private with a token.

    Parameters
    ----------
    app : ASGI app
    path : str
        The GraphQL endpoint.
    """

    def __init__(self, app: ASGIApp, path: str = "/graphql") -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != self.path
            or scope["method"] != "GET"
            or not scope["query_string"]  # the GraphiQL page
        ):
            await self.app(scope, receive, send)
            return
        private = any(name == b"authorization" for name, _ in scope["headers"])

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                headers.add_vary_header(VARY)
                if private:
                    control = headers.get("cache-control")
                    if not control:
                        headers["cache-control"] = "private"
                    elif "private" not in control and "no-store" not in control:
                        headers["cache-control"] = f"private, {control}"
            await send(message)

        await self.app(scope, receive, marked)
