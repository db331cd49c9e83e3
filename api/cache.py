"""A response cache for GraphQL queries, exact under writes.

The hottest requests are the same query about the same viral video, asked
by every viewer. A cached answer is served only while the store has seen no
write since it was computed: each entry carries the store's data version
(for SQLite, ``PRAGMA data_version`` plus the store's own commit count), and
any commit, from this process or another, changes the version and misses
every entry. Only successful query operations are stored (the GraphQL layer
marks them, see :class:`MarkCacheable`); mutations and errors never are.
Clients may bypass the cache with ``Cache-Control: no-cache``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from api.metrics import CACHE_LOOKUPS

__all__ = ["CACHEABLE", "MarkCacheable", "ResponseCache"]

# The ASGI scope key through which the GraphQL layer marks a cacheable answer.
CACHEABLE = "lineage.cacheable"
_MAX_ENTRY_BYTES = 256 * 1024


class MarkCacheable(SchemaExtension):
    """Mark the HTTP request when its operation was a query that succeeded."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        result = context.result
        if result is None or result.errors:
            return
        try:
            is_query = context.operation_type is OperationType.QUERY
        except RuntimeError:
            return
        request = getattr(context.context, "request", None)
        if is_query and request is not None:
            request.scope[CACHEABLE] = True


class ResponseCache:
    """ASGI middleware: answer repeated GraphQL queries from memory while the store is unchanged.

    Parameters
    ----------
    app : ASGI app
    data_version : callable
        Returns the store's current data version, or None when it cannot
        tell (then nothing is cached).
    max_entries : int
        Least recently used entries are dropped beyond this.
    path : str
        The GraphQL endpoint.
    """

    def __init__(
        self,
        app: ASGIApp,
        data_version: Callable[[], object | None],
        max_entries: int = 512,
        path: str = "/graphql",
        admit: Callable[[Scope], Awaitable[bool]] | None = None,
    ) -> None:
        self.app = app
        # Asked before a cached answer is served (private reads: a live token);
        # a request it turns away goes to the app, uncached, like any other.
        self.admit = admit
        self.data_version = data_version
        self.max_entries = max_entries
        self.path = path
        self.entries: OrderedDict[tuple[Any, ...], tuple[object, int, list[Any], bytes]] = (
            OrderedDict()
        )
        self.hits = 0
        self.misses = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if b"no-cache" in headers.get(b"cache-control", b"") or (
            self.admit is not None and not await self.admit(scope)
        ):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method == "GET":
            if not scope["query_string"]:  # GraphiQL page
                await self.app(scope, receive, send)
                return
            body = b""
            replay = receive
        elif method == "POST":
            body, replay = await _read_body(receive)
        else:
            await self.app(scope, receive, send)
            return
        key = (
            method,
            scope["query_string"],
            body,
            headers.get(b"accept", b""),
            headers.get(b"content-type", b""),
        )
        try:
            version = self.data_version()
        except Exception:  # a store that cannot answer: serve uncached
            version = None
        entry = self.entries.get(key) if version is not None else None
        if entry is not None and entry[0] == version:
            self.hits += 1
            CACHE_LOOKUPS.labels("hit").inc()
            self.entries.move_to_end(key)
            _, status, response_headers, response_body = entry
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [*response_headers, (b"x-lineage-cache", b"hit")],
                }
            )
            await send({"type": "http.response.body", "body": response_body})
            return
        self.misses += 1
        CACHE_LOOKUPS.labels("miss").inc()
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"x-lineage-cache", b"miss")],
                }
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.app(scope, replay, capture)
        if version is None or not scope.get(CACHEABLE) or start.get("status") != 200:
            return
        response_body = b"".join(chunks)
        if len(response_body) > _MAX_ENTRY_BYTES:
            return
        self.entries[key] = (version, 200, list(start.get("headers", [])), response_body)
        self.entries.move_to_end(key)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole request body, and a ``receive`` that replays it."""
    chunks = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return b"", receive  # the client went away; let the app see it
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay
