"""Live counts: one polling task per watched video, shared by all its subscribers.

Each worker process has one :class:`LiveHub`. A subscriber first gets the
video as it is once it has joined the watch (so a write between the
client's query and its subscription is never lost). The first subscriber of
a video starts a task that waits until the process's feed
(:mod:`api.live_feed`: polling the versions of every watched tree in one
store read every ``interval`` seconds, or Redis pub/sub) sees the version of
the video's tree (:meth:`~lineage.store.LineageStore.tree_versions`) move;
only then does the task read the video's own version (the response cache's,
:meth:`~lineage.store.LineageStore.video_versions`) and, when that moved too,
the video and its rights state, once, and hand the new :class:`LiveState`
to every subscriber whose last one differs.
Writes, takedowns and restores by any worker or process move the version,
so every worker sees every change; pushes of a video are at least
``interval`` apart. The task stops when the last subscriber leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from starlette.concurrency import run_in_threadpool

from api.live_feed import PollingFeed, TreeVersionFeed, WatchedTree
from lineage.errors import VideoNotFound
from lineage.models import VideoRecord
from lineage.rights.policy import DEFAULT_RIGHTS, VideoRights
from lineage.store import LineageStore

__all__ = ["LiveHub", "LiveState", "Updates"]

T = TypeVar("T")

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LiveState:
    """What a push carries: the video and its rights state (a takedown changes only
    the second)."""

    record: VideoRecord
    rights: VideoRights


class Updates:
    """One subscriber's view of a watched video: only the latest state is kept."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[LiveState] = asyncio.Queue(maxsize=1)
        self._last: LiveState | None = None

    def offer(self, state: LiveState) -> None:
        """Hand over ``state`` unless this subscriber has it already, replacing one
        not taken yet."""
        if state == self._last:
            return
        self._last = state
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(state)

    async def next(self, timeout: float | None = None) -> LiveState | None:
        """The next state (waits for a change); None when ``timeout`` seconds pass first."""
        if timeout is None:
            return await self._queue.get()
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None


class _Watch:
    def __init__(self, video_id: str) -> None:
        self.video_id = video_id
        self.tree: str | None = None  # known once the first subscriber has read the video
        self.last: LiveState | None = None
        self.subscribers: set[Updates] = set()
        self.task: asyncio.Task[None] | None = None
        self.followed: WatchedTree | None = None

    @property
    def looks(self) -> int:
        """Looks at the tree's version so far (tests wait on it)."""
        return 0 if self.followed is None else self.followed.looks


class LiveHub:
    """The per-process registry of watched videos.

    Parameters
    ----------
    store : LineageStore
        The store the videos are read from.
    interval : float
        Seconds between two looks at a watched video's tree version.
    feed : TreeVersionFeed, optional
        Who tells the watches their tree moved (:mod:`api.live_feed`): Redis
        pub/sub, or by default polling.
    """

    def __init__(
        self,
        store: LineageStore,
        *,
        interval: float = 0.25,
        feed: TreeVersionFeed | None = None,
    ) -> None:
        self.store = store
        self.interval = interval
        self.feed = feed if feed is not None else PollingFeed(store, interval=interval)
        self.watches: dict[str, _Watch] = {}
        self._inline = bool(getattr(store, "in_process", False))
        self._async_reads: Any = getattr(store, "async_reads", None)

    @contextlib.asynccontextmanager
    async def watch(self, video_id: str) -> AsyncIterator[Updates]:
        """Subscribe to the changes of a video until the block ends; the first
        update is its current state.

        Raises
        ------
        VideoNotFound
            No video has this id.
        """
        watch = self.watches.get(video_id)
        if watch is None:
            watch = self.watches[video_id] = _Watch(video_id)
        updates = Updates()
        watch.subscribers.add(updates)
        try:
            # Read after joining: a write after this read moves the version
            # the task compares, so it reaches this subscriber too.
            state = await self._state(video_id)
            if state is None:
                raise VideoNotFound(video_id)
            if watch.tree is None:
                watch.tree, watch.last = state.record.original_id, state
            if watch.task is None:
                watch.task = asyncio.create_task(self._poll(watch), name=f"live:{video_id}")
            updates.offer(state)
            yield updates
        finally:
            watch.subscribers.discard(updates)
            if not watch.subscribers and self.watches.get(video_id) is watch:
                del self.watches[video_id]
                if watch.task is not None:
                    watch.task.cancel()

    async def _read(self, call: Callable[..., T], *args: Any) -> T:
        if self._async_reads is not None:
            coroutine = getattr(self._async_reads, call.__name__, None)
            if coroutine is not None:
                return cast(T, await coroutine(*args))
        if self._inline:
            return call(*args)
        return await run_in_threadpool(call, *args)

    async def _state(self, video_id: str) -> LiveState | None:
        record = await self._read(self.store.get_video, video_id)
        if record is None:
            return None
        rights = await self._read(self.store.video_rights, [video_id])
        return LiveState(record, rights.get(video_id, DEFAULT_RIGHTS))

    async def _poll(self, watch: _Watch) -> None:
        # No version seen yet: the first one known (read after the feed
        # follows the tree) makes this task read the video, so a write between
        # the first subscriber's read and this task's start is not missed.
        assert watch.tree is not None
        seen: object = object()
        video: object = object()  # its version when last read
        async with self.feed.follow(watch.tree) as tree:
            watch.followed = tree
            while True:
                seen = await tree.changed(seen)
                try:
                    # The tree moved; the video only if its own version did (a
                    # write elsewhere in the tree leaves it as it was).
                    versions, _ = await self._read(self.store.video_versions, [watch.video_id])
                    if versions.get(watch.video_id) == video:
                        await asyncio.sleep(self.interval)
                        continue
                    video = versions.get(watch.video_id)
                    state = await self._state(watch.video_id)
                    if state is not None and state != watch.last:
                        watch.last = state
                        for updates in watch.subscribers:
                            updates.offer(state)
                except asyncio.CancelledError:
                    raise
                except Exception:  # a store hiccup: look again next time
                    log.exception("live counts: reading %s failed", watch.video_id)
                await asyncio.sleep(self.interval)
