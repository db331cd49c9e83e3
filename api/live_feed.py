"""How live counts learn that a watched tree moved: polling the store, or Redis pub/sub.

A :class:`TreeVersionFeed` keeps, for every tree (original id) some
subscriber of this process watches, its latest known version
(:meth:`~lineage.store.LineageStore.tree_versions`); the live-count hub
(:mod:`api.graphql.live`) waits on :meth:`WatchedTree.changed` and reads a
watched video only when its tree moved.

* :class:`PollingFeed` (no Redis): one task per process reads the versions of
  all watched trees in one store call every ``interval`` seconds: the cost is
  per process, not per watched video or tree.
* :class:`RedisFeed` (``LINEAGE_REDIS_URL``): a committed write publishes its
  trees' new versions (:class:`PublishTreeVersions`, on channel
  ``lineage:tree:<original id>``; a write whose trees are unknown, such as
  engagement, on ``lineage:tree:*``); each process holds one pub/sub
  connection, subscribed once per watched tree, and reads the store only
  when a message comes (plus a look every :data:`BACKSTOP_S` for writes made
  outside the API, such as ``lineage import``). When Redis does not answer it
  polls like :class:`PollingFeed` (logged once, counted in ``/metrics``) and
  subscribes again as soon as Redis is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Protocol, TypeVar, cast

from redis.exceptions import RedisError
from starlette.concurrency import run_in_threadpool
from strawberry.extensions import SchemaExtension

from api.redis_link import Outage, RedisLink
from lineage.store import ANY_TREE, LineageStore

__all__ = [
    "BACKSTOP_S",
    "CHANNEL_PREFIX",
    "PollingFeed",
    "PublishTreeVersions",
    "RedisFeed",
    "TreeVersionFeed",
    "WatchedTree",
    "make_feed",
]

T = TypeVar("T")

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "lineage:tree:"
# Some tree moved, which is not known: every process looks at all it watches.
ANY_CHANNEL = CHANNEL_PREFIX + "*"
# Seconds between two looks at the store while subscribed (writes made outside the API).
BACKSTOP_S = 5.0

_UNKNOWN = object()


class WatchedTree:
    """One watched tree's latest known version; :meth:`changed` waits for it to move."""

    def __init__(self, tree: str) -> None:
        self.tree = tree
        self.version: object = _UNKNOWN
        self.followers = 0
        # Versions read or received so far, changed or not (tests wait on it).
        self.looks = 0
        self._moved = asyncio.Event()

    def update(self, version: object) -> None:
        """Record the tree's version (an older one than known is ignored)."""
        self.looks += 1
        current = self.version
        if version == current:
            return
        if isinstance(version, int) and isinstance(current, int) and version < current:
            return  # a late message: the store was read since
        self.version = version
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()

    async def changed(self, seen: object) -> object:
        """The version, as soon as it is known and differs from ``seen``."""
        while self.version is _UNKNOWN or self.version == seen:
            await self._moved.wait()
        return self.version


class TreeVersionFeed(Protocol):
    """Where a process learns that its watched trees moved."""

    def follow(self, tree: str) -> contextlib.AbstractAsyncContextManager[WatchedTree]:
        """Watch ``tree`` for the duration of the block."""
        ...

    async def publish(self, versions: Mapping[str, object], *, unknown: bool = False) -> None:
        """Tell every process that these trees moved (``unknown``: some others did)."""
        ...

    @property
    def publishes(self) -> bool:
        """Whether writes must call :meth:`publish` (False when versions are polled)."""
        ...

    async def aclose(self) -> None: ...


class PollingFeed:
    """Reads the versions of every watched tree, in one store call, every ``interval`` s."""

    publishes = False

    def __init__(self, store: LineageStore, *, interval: float = 0.25) -> None:
        self.store = store
        self.interval = interval
        self.trees: dict[str, WatchedTree] = {}
        self._task: asyncio.Task[None] | None = None
        self._inline = bool(getattr(store, "in_process", False))
        self._async_reads: Any = getattr(store, "async_reads", None)
        # Store calls made to learn versions (tests compare it with the watchers).
        self.version_reads = 0

    @contextlib.asynccontextmanager
    async def follow(self, tree: str) -> AsyncIterator[WatchedTree]:
        watched = self.trees.get(tree)
        if watched is None:
            watched = self.trees[tree] = WatchedTree(tree)
        watched.followers += 1
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="live-feed")
        try:
            yield watched
        finally:
            watched.followers -= 1
            if watched.followers == 0 and self.trees.get(tree) is watched:
                del self.trees[tree]

    async def publish(self, versions: Mapping[str, object], *, unknown: bool = False) -> None:
        return  # the store's versions are polled

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _read(self, call: Callable[..., T], *args: Any) -> T:
        if self._async_reads is not None:
            coroutine = getattr(self._async_reads, call.__name__, None)
            if coroutine is not None:
                return cast(T, await coroutine(*args))
        if self._inline:
            return call(*args)
        return await run_in_threadpool(call, *args)

    async def look(self, trees: list[str] | None = None) -> None:
        """Read the versions of ``trees`` (all watched ones by default), one store call."""
        names = list(self.trees) if trees is None else trees
        if not names:
            return
        self.version_reads += 1
        try:
            versions = await self._read(self.store.tree_versions, names)
        except asyncio.CancelledError:
            raise
        except Exception:  # a store hiccup: look again next time
            log.exception("live counts: reading tree versions failed")
            return
        for name, version in versions.items():
            watched = self.trees.get(name)
            if watched is not None:
                watched.update(version)

    async def _run(self) -> None:
        while self.trees:
            await self.look()
            await asyncio.sleep(self.interval)


def _channel(tree: str) -> str:
    return CHANNEL_PREFIX + tree


def _encode(version: object) -> str:
    try:
        return json.dumps(version)
    except TypeError:
        return json.dumps(repr(version))


class RedisFeed(PollingFeed):
    """Versions pushed through Redis pub/sub; polling while Redis is down."""

    publishes = True

    def __init__(self, store: LineageStore, link: RedisLink, *, interval: float = 0.25) -> None:
        super().__init__(store, interval=interval)
        self.link = link
        self.outage = Outage("live_counts", "polled from the store")
        self.publish_outage = Outage("live_count_publishing", "left to the subscribers' looks")

    async def publish(self, versions: Mapping[str, object], *, unknown: bool = False) -> None:
        if not self.publish_outage.should_try():
            self.publish_outage.fell_back()
            return
        try:
            async with self.link.client().pipeline(transaction=False) as pipe:
                for tree, version in versions.items():
                    if tree != ANY_TREE:
                        pipe.publish(_channel(tree), _encode(version))
                if unknown:
                    pipe.publish(ANY_CHANNEL, "")
                await pipe.execute()
        except (RedisError, OSError) as error:
            self.publish_outage.failed(error)
            self.publish_outage.fell_back()
            return
        self.publish_outage.succeeded()

    async def _run(self) -> None:
        while self.trees:
            if self.outage.should_try():
                try:
                    await self._listen()
                    continue
                except asyncio.CancelledError:
                    raise
                except (RedisError, OSError) as error:
                    self.outage.failed(error)
            self.outage.fell_back()
            await self.look()
            await asyncio.sleep(self.interval)

    async def _listen(self) -> None:
        client = self.link.new_client()
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(ANY_CHANNEL)
            subscribed: set[str] = set()
            self.outage.succeeded()
            since_look = 0.0
            while self.trees:
                added = set(self.trees) - subscribed
                gone = subscribed - set(self.trees)
                if added:
                    await pubsub.subscribe(*[_channel(tree) for tree in sorted(added)])
                    subscribed |= added
                    # After subscribing: a write from now on is a message.
                    await self.look(sorted(added))
                if gone:
                    await pubsub.unsubscribe(*[_channel(tree) for tree in sorted(gone)])
                    subscribed -= gone
                if since_look >= BACKSTOP_S:
                    since_look = 0.0
                    await self.look()
                message = await pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=self.interval
                )
                since_look += self.interval if message is None else 0.0
                if message is not None:
                    self._receive(message)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            with contextlib.suppress(Exception):
                await client.aclose()

    def _receive(self, message: Mapping[str, Any]) -> None:
        channel = message.get("channel")
        if isinstance(channel, bytes):
            channel = channel.decode()
        if not isinstance(channel, str):
            return
        if channel == ANY_CHANNEL:
            task = asyncio.create_task(self.look())
            _background.add(task)
            task.add_done_callback(_background.discard)
            return
        watched = self.trees.get(channel.removeprefix(CHANNEL_PREFIX))
        if watched is None:
            return
        data = message.get("data")
        with contextlib.suppress(ValueError):
            watched.update(json.loads(data if data is not None else "null"))


# Tasks started from a message, kept referenced until done.
_background: set[asyncio.Task[None]] = set()


def make_feed(
    store: LineageStore, link: RedisLink | None, *, interval: float = 0.25
) -> TreeVersionFeed:
    """The feed of this process: through Redis when there is a link, by polling otherwise."""
    if link is None:
        return PollingFeed(store, interval=interval)
    return RedisFeed(store, link, interval=interval)


class PublishTreeVersions(SchemaExtension):
    """After a mutation, publishes the versions of the trees it touched (when
    the process's feed publishes: Redis); the request never fails for it."""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context
        try:
            if context.operation_type.value != "mutation":
                return
        except (RuntimeError, AttributeError):
            return
        lineage = context.context
        request = getattr(lineage, "request", None)
        feed: TreeVersionFeed | None = getattr(
            getattr(getattr(request, "app", None), "state", None), "tree_feed", None
        )
        if feed is None or not feed.publishes:
            return
        noted: set[str] = set(getattr(lineage, "trees", ()) or ())
        noted |= set(getattr(lineage, "seen_trees", ()) or ())
        trees = sorted(tree for tree in noted if tree != ANY_TREE)
        versions: Mapping[str, object] = {}
        try:
            if trees:
                versions = await lineage.read(lineage.store.tree_versions, trees)
        except Exception:  # the answer stands; subscribers look by themselves
            log.exception("live counts: reading versions to publish failed")
        await feed.publish(versions, unknown=ANY_TREE in noted or not trees)
