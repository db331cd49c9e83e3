"""A response cache for GraphQL queries, exact under writes, per video.

The hottest requests are the same query about the same viral video, asked
by every viewer, while the viral tree is being remixed. Each video has a
version that the store bumps in the same transaction as any change to its
row or to anything under it
(:meth:`~lineage.store.LineageStore.video_versions`). While a query runs, the
GraphQL context notes the videos it read and the videos owning the lists it
read (:data:`VIDEOS`; a video's remixes, variant groups, top variants change
only when something under it changes, which bumps it), and the trees it read
as a whole (:data:`TREES`); a cached answer is served only while all their
versions are unchanged, which one store read tells. A remix so leaves every
answer about its siblings and cousins in the cache: only answers that read
one of its ancestors miss. Answers that depend on every tree (ranked
originals, store-wide search) read the whole-store version :data:`~lineage.store.ANY_TREE`.

Exactness: the versions an entry carries were read *before* the answer was
computed, so a write that commits during the computation makes the entry
miss next time. The first time a query is seen what it reads is unknown: an
in-process store (SQLite) brackets that run with the whole-store version
(cheap there) and caches it if nothing was written meanwhile; a remote
store (Neo4j, where the whole-store version costs a read per tree) only
learns what it read, and the next run, with versions read first, is cached.

HTTP caching: successful ``GET`` answers carry a weak ``ETag``, a digest of
the request's key and the answer's bytes (so every worker that computes an
answer gives it the same tag, whatever it has seen), and ``Cache-Control:
max-age=N, must-revalidate`` (``LINEAGE_API_HTTP_MAX_AGE``, default 0). A
``GET`` whose ``If-None-Match`` names the tag of a valid entry gets ``304 Not
Modified`` without executing the query; one that names the tag of the answer
a run computes gets ``304`` after it.
Who may share them (``private``, ``Vary``) is :mod:`api.cache_headers`'
part, around this middleware; CORS runs around both.

Answers that read the clock (``remixesIn`` and the trending fields without
``asOf``: their window ends now) change when the UTC hour does, with no
write. The GraphQL context notes the hours they read (:data:`HOURS`); such
an entry records its hour and is served only within it, its ETag includes
the current hour, and its ``max-age`` ends with the hour.

Memory: an entry is keyed by a digest of the request (method, query
string, body, ``Accept``, ``Content-Type``, audience), never the request
itself, and the cache is bounded by the bytes its entries hold
(``LINEAGE_API_RESPONSE_CACHE_BYTES``) as well as by their number; an
answer larger than a sixteenth of that budget is not kept (its versions and
tag are, for ``304`` answers).

Concurrent identical requests: while the app answers a request, the same
request arriving meanwhile waits for that answer and then looks the cache
up again, as any request does: it is served the answer only if the versions
of what that answer read, read after it is done, are still those it was
computed after.

Only successful query operations are stored (the GraphQL layer marks them,
see :class:`MarkCacheable`); mutations and errors never are. Clients may
bypass the cache with ``Cache-Control: no-cache``.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from api.keys import DIGEST_BYTES, digest
from api.lru import ByteBoundedLRU
from api.metrics import CACHE_LOOKUPS
from lineage.models import hour_of
from lineage.over_time import clock
from lineage.store import ANY_TREE, LineageStore

__all__ = ["CACHEABLE", "HOURS", "TREES", "VIDEOS", "MarkCacheable", "ResponseCache"]

# The ASGI scope key through which the GraphQL layer marks a cacheable answer.
CACHEABLE = "lineage.cacheable"
# The ASGI scope key of the set of videos a request read (rows, and the
# owners of the lists it read).
VIDEOS = "lineage.videos"
# The ASGI scope key of the set of trees (original ids) a request read as a
# whole (ANY_TREE: every tree).
TREES = "lineage.trees"
# The ASGI scope key of the set of UTC hours a request's answer read as "now".
HOURS = "lineage.hours"
# The default byte budget; an answer beyond 1/_ENTRY_SHARE of it is not kept.
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
_ENTRY_SHARE = 16
# Queries whose reads are remembered (for 304s) when bodies are not cached.
_LEARNED_ENTRIES = 512
# What Python spends on an entry beyond the bytes it holds (the entry, its
# tuples and lists, the map's node), and on each object in it (a header
# name or value, a tree id, a version): measured with sys.getsizeof, rounded up.
_ENTRY_OVERHEAD = 512
_OBJECT_OVERHEAD = 80


@dataclass(frozen=True, slots=True)
class _Read:
    """What one run of a request read: videos and whole trees."""

    videos: set[str]
    trees: set[str]


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


@dataclass(slots=True)
class _Entry:
    """What is known about one request: what it reads and, once cached, its answer.

    ``videos``: the videos whose versions it depends on (the rows it read and
    the owners of the lists it read); ``trees``: the trees it depends on as a
    whole (:data:`ANY_TREE`: the whole store). ``timed``: its answer reads the
    clock; ``hour`` is then the UTC hour the cached answer (and its versions)
    belong to. ``etag``: the tag of the cached answer.
    """

    videos: tuple[str, ...]
    trees: tuple[str, ...]
    timed: bool = False
    versions: tuple[object, ...] | None = None
    hour: int | None = None
    etag: bytes | None = None
    headers: list[Any] | None = None
    body: bytes | None = None

    def current(self, found: _Versions) -> tuple[object, ...]:
        """The versions of what it depends on, in order, from a store read."""
        videos, trees = found
        return (
            *(videos.get(video_id) for video_id in self.videos),
            *(trees.get(tree) for tree in self.trees),
        )

    def size(self) -> int:
        """The bytes it holds, for the cache's budget."""
        size = _ENTRY_OVERHEAD + DIGEST_BYTES
        size += sum(len(name) + _OBJECT_OVERHEAD for name in (*self.videos, *self.trees))
        size += _OBJECT_OVERHEAD * len(self.versions or ())
        if self.etag is not None:
            size += len(self.etag) + _OBJECT_OVERHEAD
        for name, value in self.headers or ():
            size += len(name) + len(value) + 3 * _OBJECT_OVERHEAD
        if self.body is not None:
            size += len(self.body) + _OBJECT_OVERHEAD
        return size


# (versions of videos, versions of trees), as LineageStore.video_versions answers.
_Versions = tuple[dict[str, object], dict[str, object]]


async def _store_versions(
    store: LineageStore, videos: Sequence[str], trees: Sequence[str]
) -> _Versions:
    """One store read: the versions of ``videos`` and of ``trees`` (none for none: an
    answer that depends on nothing, such as ancestors' ids, costs no read)."""
    if not videos and not trees:
        return {}, {}
    async_reads = getattr(store, "async_reads", None)
    if async_reads is not None and hasattr(async_reads, "video_versions"):
        found = await async_reads.video_versions(list(videos), list(trees))
    elif getattr(store, "in_process", False):
        found = store.video_versions(list(videos), list(trees))
    else:
        found = await run_in_threadpool(store.video_versions, list(videos), list(trees))
    return dict(found[0]), dict(found[1])


def _etag(key: bytes, body: bytes, hour: int | None) -> bytes:
    """The tag of an answer: a digest of the request's key and the answer's bytes, so
    every worker that computes the same answer gives it the same tag.

    The hour (None for an answer that does not read the clock) changes the
    tag of an answer that does when the hour turns.
    """
    hashed = hashlib.blake2b(digest_size=12)
    hashed.update(key)
    hashed.update(b"" if hour is None else str(hour).encode())
    hashed.update(b"\0")
    hashed.update(body)
    return f'W/"{hashed.hexdigest()}"'.encode()


def _matches(if_none_match: bytes, etag: bytes) -> bool:
    tags = [tag.strip() for tag in if_none_match.split(b",")]
    bare = etag.removeprefix(b"W/")
    return b"*" in tags or any(tag.removeprefix(b"W/") == bare for tag in tags)


class ResponseCache:
    """ASGI middleware: answer repeated GraphQL queries from memory while their trees are unchanged.

    Parameters
    ----------
    app : ASGI app
    store : callable
        Returns the open store (it is opened after the middleware is built).
    max_entries : int
        Answers kept; least recently used ones are dropped beyond this
        (0: no answers are kept, ETags still work).
    max_bytes : int
        The bytes all entries may hold; least recently used ones are dropped
        beyond this, and an answer over a sixteenth of it is not kept.
    http_max_age : int
        ``max-age`` of ``Cache-Control`` on successful ``GET`` answers.
    path : str
        The GraphQL endpoint.
    partition : callable, optional
        Which audience a request belongs to (answers are shared only within
        one: a removed video's prompt is shown to admins alone), or None to
        pass it to the app uncached. Without it every request is "public".
    """

    def __init__(
        self,
        app: ASGIApp,
        store: Callable[[], LineageStore],
        max_entries: int = 4096,
        max_bytes: int = DEFAULT_MAX_BYTES,
        http_max_age: int = 0,
        path: str = "/graphql",
        partition: Callable[[Scope], Awaitable[str | None]] | None = None,
    ) -> None:
        self.app = app
        self.store = store
        # Asked before the cache is consulted: which callers may share this
        # request's answers (answers depend on the caller's role), or None to
        # send the request to the app uncached, like any other.
        self.partition = partition
        self.max_entries = max_entries
        self.keep_bodies = max_entries > 0
        self.http_max_age = http_max_age
        self.path = path
        self.entries: ByteBoundedLRU[bytes, _Entry] = ByteBoundedLRU(
            max_bytes,
            max_entries if self.keep_bodies else _LEARNED_ENTRIES,
            max_bytes // _ENTRY_SHARE,
        )
        self.hits = 0
        self.misses = 0
        self.not_modified = 0
        # Requests being answered by the app, by key: the same request arriving
        # meanwhile waits for that answer instead of computing its own.
        self.running: dict[bytes, asyncio.Future[None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if b"no-cache" in headers.get(b"cache-control", b""):
            await self.app(scope, receive, send)
            return
        audience = "public" if self.partition is None else await self.partition(scope)
        if audience is None:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method == "GET":
            if not scope["query_string"]:  # GraphiQL page
                await self.app(scope, receive, send)
                return
            body = b""
            replay = receive
        elif method == "POST" and self.keep_bodies:  # no ETags on POST: nothing to do
            body, replay = await _read_body(receive)
        else:
            await self.app(scope, receive, send)
            return
        # A digest: a key holding the body would keep every distinct body alive.
        key = digest(
            method,
            scope["query_string"],
            body,
            headers.get(b"accept", b""),
            headers.get(b"content-type", b""),
            audience,
        )
        store = self.store()
        if_none_match = headers.get(b"if-none-match", b"") if method == "GET" else b""
        entry, before = await self._lookup(key, store)
        if await self._serve(send, method, if_none_match, entry, before):
            return
        running = self.running.get(key) if self.keep_bodies else None
        if running is not None:
            # The same request is being answered: wait for that answer, then
            # look again. It serves this request only if the versions of what
            # it read, read now, are those it was computed after: no write it
            # depends on committed since it began, so none before this began.
            await asyncio.wait([running])
            entry, before = await self._lookup(key, store)
            if await self._serve(send, method, if_none_match, entry, before):
                return
            running = self.running.get(key)
        computing = None
        if running is None and self.keep_bodies:
            computing = self.running[key] = asyncio.get_running_loop().create_future()
        try:
            await self._compute(scope, replay, send, method, if_none_match, key, entry, before)
        finally:
            if computing is not None:
                del self.running[key]
                computing.set_result(None)

    async def _lookup(
        self, key: bytes, store: LineageStore
    ) -> tuple[_Entry | None, _Versions | None]:
        """The entry of ``key`` and the versions it depends on, read now (or the
        whole-store version on an in-process store, for a first run)."""
        entry = self.entries.get(key)
        try:
            if entry is not None:
                return entry, await _store_versions(store, entry.videos, entry.trees)
            if getattr(store, "in_process", False):
                return None, await _store_versions(store, (), [ANY_TREE])
        except Exception:  # a store that cannot answer: serve uncached
            pass
        return None, None

    async def _serve(
        self,
        send: Send,
        method: str,
        if_none_match: bytes,
        entry: _Entry | None,
        before: _Versions | None,
    ) -> bool:
        """Answer from ``entry`` if it is valid at ``before``; whether it did."""
        if entry is None or before is None:
            return False
        hour = clock.current_hour() if entry.timed else None
        etag = entry.etag
        if etag is None or entry.versions != entry.current(before) or entry.hour != hour:
            return False
        if if_none_match and _matches(if_none_match, etag):
            self.not_modified += 1
            await _send(send, 304, self._tagged(etag, hour))
            return True
        if entry.body is None:
            return False
        self.hits += 1
        CACHE_LOOKUPS.labels("hit").inc()
        extra = [(b"x-lineage-cache", b"hit")]
        if method == "GET":
            extra += self._tagged(etag, hour)
        await _send(send, 200, [*(entry.headers or []), *extra], entry.body)
        return True

    async def _compute(
        self,
        scope: Scope,
        replay: Receive,
        send: Send,
        method: str,
        if_none_match: bytes,
        key: bytes,
        entry: _Entry | None,
        before: _Versions | None,
    ) -> None:
        """Run the request through the app and keep its answer if it is exact."""
        store = self.store()
        self.misses += 1
        CACHE_LOOKUPS.labels("miss").inc()
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            # Held back until the answer is complete: its ETag depends on it.
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            else:
                await send(message)

        await self.app(scope, replay, capture)
        response_body = b"".join(chunks)
        response_headers = list(start.get("headers", []))
        extra = [(b"x-lineage-cache", b"miss")] if self.keep_bodies else []
        if scope.get(CACHEABLE) and start.get("status") == 200:
            hours: set[int] = scope.get(HOURS) or set()
            hour = max(hours) if hours else None
            etag = _etag(key, response_body, hour)
            read = _Read(scope.get(VIDEOS) or set(), scope.get(TREES) or set())
            stored = None
            if before is not None and len(hours) <= 1:
                stored = await self._remember(key, entry, before, read, hour, store)
            else:  # or it read two hours (it ran across the turn of one): learn only
                self._learn(key, read, timed=bool(hours))
            if stored is not None:
                stored.etag = etag
                if self.keep_bodies:
                    stored.headers, stored.body = response_headers, response_body
                if not self.entries.put(key, stored, stored.size()):
                    # Over its share of the budget: keep what its ETag needs.
                    stored.headers = stored.body = None
                    self.entries.put(key, stored, stored.size())
            if method == "GET":
                if if_none_match and _matches(if_none_match, etag):
                    self.not_modified += 1
                    await _send(send, 304, self._tagged(etag, hour))
                    return
                extra += self._tagged(etag, hour)
        await send({**start, "headers": [*response_headers, *extra]})
        await send({"type": "http.response.body", "body": response_body})

    async def _remember(
        self,
        key: bytes,
        entry: _Entry | None,
        before: _Versions,
        read: _Read,
        hour: int | None,
        store: LineageStore,
    ) -> _Entry | None:
        """The entry (not yet stored) for an answer computed after ``before`` was
        read, if it is exact.

        ``hour``: the UTC hour the answer read as now (None: it did not).
        """
        timed = hour is not None
        if entry is not None:
            if not (read.videos <= set(entry.videos) and read.trees <= set(entry.trees)):
                # It read more than it did before: learn it all, cache next time.
                self._learn(
                    key,
                    _Read(read.videos | set(entry.videos), read.trees | set(entry.trees)),
                    timed,
                )
                return None
            return _Entry(entry.videos, entry.trees, timed, entry.current(before), hour)
        # First run on an in-process store: exact if nothing at all was
        # written while it ran.
        videos, trees = tuple(sorted(read.videos)), tuple(sorted(read.trees))
        try:
            after = await _store_versions(store, videos, [*trees, ANY_TREE])
        except Exception:
            return None
        if after[1][ANY_TREE] != before[1][ANY_TREE]:
            self._learn(key, read, timed)
            return None
        stored = _Entry(videos, trees, timed, hour=hour)
        stored.versions = stored.current(after)
        return stored

    def _tagged(self, etag: bytes, hour: int | None) -> list[tuple[bytes, bytes]]:
        """The HTTP caching headers of a ``GET`` answer (``hour``: the one it read as now)."""
        max_age = self.http_max_age
        if hour is not None:  # a shared cache must not keep it past its hour
            now = clock.now()
            left = clock.seconds_left_in_hour(now) if hour_of(now) == hour else 0
            max_age = min(max_age, left)
        return [(b"etag", etag), (b"cache-control", f"max-age={max_age}, must-revalidate".encode())]

    def _learn(self, key: bytes, read: _Read, timed: bool) -> None:
        """Remember what a request reads (and whether it reads the clock)."""
        entry = _Entry(tuple(sorted(read.videos)), tuple(sorted(read.trees)), timed)
        self.entries.put(key, entry, entry.size())


async def _send(send: Send, status: int, headers: list[Any], body: bytes = b"") -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


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
