"""Live counts: one task per watched video, shared by all its subscribers.

Each worker process has one :class:`LiveHub`. The first subscriber of a video
starts a task that waits until the process's feed (:mod:`api.live_feed`:
polling once per watched tree, or Redis pub/sub) sees the version of the
video's tree (:meth:`~lineage.store.LineageStore.tree_versions`) move; only
then does the task read the video, once, and hand the new record to every
subscriber's queue when it differs from the last one. Writes by any worker or
process move the version, so every worker sees every change; pushes of a video
are at least ``interval`` apart. The task stops when the last subscriber leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar, cast

from starlette.concurrency import run_in_threadpool

from api.live_feed import PollingFeed, TreeVersionFeed
from lineage.models import VideoRecord
from lineage.store import LineageStore

__all__ = ["LiveHub", "Updates"]

T = TypeVar("T")

log = logging.getLogger(__name__)


class Updates:
    """One subscriber's view of a watched video: only the latest record is kept."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[VideoRecord] = asyncio.Queue(maxsize=1)

    def offer(self, record: VideoRecord) -> None:
        """Hand over ``record``, replacing one the subscriber has not taken yet."""
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(record)

    async def next(self) -> VideoRecord:
        """The next changed record (waits for a change)."""
        return await self._queue.get()


class _Watch:
    def __init__(self, record: VideoRecord) -> None:
        self.video_id = record.id
        self.tree = record.original_id
        self.last = record
        self.subscribers: set[Updates] = set()
        self.task: asyncio.Task[None] | None = None


class LiveHub:
    """The per-process registry of watched videos.

    Parameters
    ----------
    store : LineageStore
        The store the videos are read from.
    interval : float
        Seconds between two looks at a watched video's tree version.
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
        # Who tells the watches their tree moved (api/live_feed.py): Redis, or polling.
        self.feed = feed if feed is not None else PollingFeed(store, interval=interval)
        self.watches: dict[str, _Watch] = {}
        self._inline = bool(getattr(store, "in_process", False))
        self._async_reads: Any = getattr(store, "async_reads", None)

    @contextlib.asynccontextmanager
    async def watch(self, record: VideoRecord) -> AsyncIterator[Updates]:
        """Subscribe to the changes of ``record``'s video until the block ends."""
        watch = self.watches.get(record.id)
        if watch is None:
            watch = self.watches[record.id] = _Watch(record)
            watch.task = asyncio.create_task(self._poll(watch), name=f"live:{record.id}")
        updates = Updates()
        watch.subscribers.add(updates)
        try:
            yield updates
        finally:
            watch.subscribers.discard(updates)
            if not watch.subscribers and self.watches.get(record.id) is watch:
                del self.watches[record.id]
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

    async def _poll(self, watch: _Watch) -> None:
        # No version seen yet: the first one known (read after the feed
        # follows the tree) makes this task read the video, so a write between
        # the subscriber's own read and this task's start is not missed.
        seen: object = object()
        async with self.feed.follow(watch.tree) as tree:
            while True:
                seen = await tree.changed(seen)
                try:
                    record = await self._read(self.store.get_video, watch.video_id)
                    if record is not None and record != watch.last:
                        watch.last = record
                        for updates in watch.subscribers:
                            updates.offer(record)
                except asyncio.CancelledError:
                    raise
                except Exception:  # a store hiccup: look again next time
                    log.exception("live counts: reading %s failed", watch.video_id)
                await asyncio.sleep(self.interval)
