"""Neo4j bookmarks shared between API processes through Redis.

A client that writes through one process and then reads through another
(behind a load balancer) must see its write, even when the read lands on a
cluster member that has not applied it yet. Each store relays its own
bookmarks between its drivers (:mod:`lineage.stores.neo4j.bookmarks`); this
middleware extends that to every process sharing ``LINEAGE_REDIS_URL``:

* before a request runs, the latest bookmarks of every process (one hash
  field per process, ``lineage:neo4j:bookmarks``) are merged into the store's
  relay, so the request's reads wait for them (one ``HVALS``);
* before a response starts, if this process committed a write since it last
  published, its latest write bookmarks are published (one ``HSET``), so the
  write is acknowledged only once any process's next read will wait for it.

When Redis does not answer, requests go on with this process's bookmarks
only (logged once, counted in ``/metrics``); on a single Neo4j server (or
with SQLite) nothing is lost, since every read sees every committed write.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable

from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.redis_link import Outage, RedisLink
from lineage.stores.neo4j.bookmarks import BookmarkRelay

__all__ = ["BOOKMARKS_KEY", "SharedBookmarks"]

BOOKMARKS_KEY = "lineage:neo4j:bookmarks"
# A process's field outlives it by this much (its bookmarks are then long applied).
_TTL_S = 24 * 3600
# Requests that read nothing from the store.
_SKIP = ("/healthz", "/readyz", "/metrics")


class SharedBookmarks:
    """ASGI middleware: pull every process's bookmarks in, push this one's out."""

    def __init__(
        self, app: ASGIApp, *, link: RedisLink, relay: Callable[[], BookmarkRelay | None]
    ) -> None:
        self.app = app
        self.link = link
        self.relay = relay
        self.field = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.published = 0
        self.outage = Outage("bookmarks", "are this process's own")

    async def pull(self, relay: BookmarkRelay) -> None:
        if not self.outage.should_try():
            self.outage.fell_back()
            return
        try:
            values = await self.link.client().hvals(BOOKMARKS_KEY)
        except (RedisError, OSError) as error:
            self.outage.failed(error)
            self.outage.fell_back()
            return
        self.outage.succeeded()
        relay.merge(
            bookmark
            for value in values
            for bookmark in (value.decode() if isinstance(value, bytes) else str(value)).split()
        )

    async def push(self, relay: BookmarkRelay) -> None:
        seq = relay.write_seq
        if seq == self.published or not self.outage.should_try():
            return
        try:
            async with self.link.client().pipeline(transaction=True) as pipe:
                pipe.hset(BOOKMARKS_KEY, self.field, " ".join(relay.written()))
                pipe.expire(BOOKMARKS_KEY, _TTL_S)
                await pipe.execute()
        except (RedisError, OSError) as error:
            self.outage.failed(error)
            self.outage.fell_back()
            return
        self.outage.succeeded()
        self.published = seq

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        relay = self.relay() if scope["type"] in ("http", "websocket") else None
        if relay is None or scope.get("path") in _SKIP:
            await self.app(scope, receive, send)
            return
        await self.pull(relay)
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_after_publishing(message: Message) -> None:
            if message["type"] == "http.response.start":
                await self.push(relay)
            await send(message)

        await self.app(scope, receive, send_after_publishing)
