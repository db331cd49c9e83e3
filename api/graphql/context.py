"""The per-request GraphQL context: the store, the settings and fresh DataLoaders.

Loaders are made per request (never shared), so a request sees its own
consistent cache and nothing leaks between clients. Parents, originals,
ancestors and the two ends of remix edges all load through ``videos``: one
store call per batch, whatever the number of fields that ask; rights states
(which decide what a caller sees of a removed video) through ``rights``.
"""

from __future__ import annotations

from asyncio import gather
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from api.cache import HOURS, TREES, VIDEOS
from api.core.config import ApiSettings
from api.graphql.live import LiveHub
from api.loop_share import take_turn
from api.security import Access, get_connection_access
from api.timelimit import DEADLINE, Deadline
from lineage.importing.group_commit import GroupCommitter
from lineage.models import GenerationCount, VideoRecord
from lineage.rights.policy import DEFAULT_RIGHTS, VideoRights
from lineage.store import ANY_TREE, LineageStore, PathNode, VideoOrder

__all__ = ["LineageContext", "VideoLoader", "deepest_generation", "make_context"]

T = TypeVar("T")


def _ids(args: tuple[Any, ...]) -> Sequence[str] | None:
    return list(args[0])


def _id(args: tuple[Any, ...]) -> Sequence[str] | None:
    return None if args[0] is None else [args[0]]  # None: the originals, any tree


# What a store read's answer depends on beyond the videos in it: the videos
# owning the lists and totals it reads (a video's version changes with
# anything under it), from its arguments; None for the whole store. A read
# not named here depends on the whole store.
_OWNERS: dict[str, Callable[[tuple[Any, ...]], Sequence[str] | None]] = {
    "get_videos": _ids,  # a missing one too: its version appears when it is stored
    "get_video": _id,
    "video_rights": _ids,
    "generation_counts": _id,
    "generation_counts_many": _ids,
    "generation_views_many": _ids,
    "derived_from_removed": _ids,  # and its tree (the resolver notes it)
    "lineage_path": lambda args: [],  # a path never changes; its videos are noted
    "lineage_paths": lambda args: [],
    "children": _id,
    "children_many": _ids,
    "count_children": _id,
    "descendant_page": _id,
    "variant_groups": _id,
    "variant_groups_with_tops": _id,
    "group_tops": lambda args: [parent_id for parent_id, _ in args[0]],
    "remixes_in": _id,
    "remixes_in_many": _ids,
    "trending": _id,
    "max_generation": lambda args: [],  # the query's cost bound, not its answer
}


class VideoLoader(DataLoader[str, VideoRecord | None]):
    """The request's video rows, batched: :meth:`load` notes the video for the
    response cache (its version, or its absence), :meth:`load_fixed` does not, for a
    caller that reads of it only what never changes (:mod:`api.graphql.dependencies`)."""

    def __init__(
        self,
        load_fn: Callable[[Sequence[str]], Awaitable[list[VideoRecord | None]]],
        noted: set[str],
    ) -> None:
        super().__init__(load_fn)
        self.noted = noted

    def load(self, key: str) -> Awaitable[VideoRecord | None]:
        self.noted.add(key)
        return super().load(key)

    def load_fixed(self, key: str) -> Awaitable[VideoRecord | None]:
        """:meth:`load`, not noted."""
        return super().load(key)

    def load_many_fixed(self, keys: Sequence[str]) -> Awaitable[list[VideoRecord | None]]:
        """:meth:`load_many`, not noted."""
        return gather(*map(self.load_fixed, keys))


class LineageContext(BaseContext):
    """What every resolver gets as ``info.context``."""

    def __init__(
        self, store: LineageStore, settings: ApiSettings, access: Access | None = None
    ) -> None:
        super().__init__()
        self.store = store
        self.settings = settings
        # Who is calling (authenticated on first need); anonymous without a request.
        self.access = access if access is not None else Access(None, None)
        # Local stores (SQLite) answer in microseconds: calling them on the
        # event loop is cheaper than a thread hop. Remote ones go to a thread.
        self.inline_reads = bool(getattr(store, "in_process", False))
        # Remote stores may offer their reads as coroutines, method by method.
        self.async_reads: Any = getattr(store, "async_reads", None)
        # The videos this request read (rows, and owners of lists it read) and
        # the trees it read as a whole: the response cache's validity
        # (api/cache.py). ANY_TREE among the trees when an answer depends on all.
        self.videos_read: set[str] = set()
        self.trees: set[str] = set()
        # The trees of the videos it read (the live feed publishes them after
        # a mutation, api/live_feed.py).
        self.seen_trees: set[str] = set()
        # The UTC hours (since the epoch) its answer read as "now" (a window
        # without asOf): the answer is valid only within that hour.
        self.hours: set[int] = set()
        # Remixes into one tree share transactions through it (None: off).
        self.committer: GroupCommitter | None = None
        # The process's live-count hub (subscriptions; None: none served).
        self.live: LiveHub | None = None
        # When the request's time is up (api/timelimit.py; None: no limit).
        self.deadline: Deadline | None = None
        self.videos = VideoLoader(self._load_videos, self.videos_read)
        self.generation_counts: DataLoader[str, list[GenerationCount]] = DataLoader(
            self._load_generation_counts
        )
        # Rights states (status, reason...), which decide what a caller sees.
        self.rights: DataLoader[str, VideoRights] = DataLoader(self._load_rights)
        # First pages of ranked remixes, keyed by (parent id, order, size).
        self.remix_pages: DataLoader[tuple[str, VideoOrder, int], list[VideoRecord]] = DataLoader(
            self._load_remix_pages
        )

    async def read(
        self,
        call: Callable[..., T],
        *args: Any,
        owners: Sequence[str] | None = None,
        noted: bool = True,
    ) -> T:
        """Run a store read: on the store's async API if it has one (Neo4j), inline
        for local stores (SQLite), in a worker thread otherwise.

        It first waits for its :meth:`turn`, so past the request's deadline it
        raises ``LIMIT_EXCEEDED`` instead of reading. The videos in its result
        and those owning what it read are noted (``owners``, when given, name
        the latter for a read the context does not know; the caller then
        notes any tree it depends on). ``noted=False``: neither, for a caller
        that reads of the result only what never changes.
        """
        if noted:
            self.note_owners(call, args, owners)
        await self.turn()
        if self.async_reads is not None:
            coroutine = getattr(self.async_reads, call.__name__, None)
            if coroutine is not None:
                result = cast(T, await coroutine(*args))
            else:
                result = await run_in_threadpool(call, *args)
        elif self.inline_reads:
            result = call(*args)
        else:
            result = await run_in_threadpool(call, *args)
        self.note_videos(result, noted)
        return result

    @property
    def reads_now(self) -> bool:
        """Whether store reads may run here and now, inside a resolver that waits
        for nothing (an in-process store: SQLite)."""
        return self.inline_reads and self.async_reads is None

    def note_owners(
        self, call: Callable[..., object], args: tuple[Any, ...], owners: Sequence[str] | None
    ) -> None:
        """Note the videos owning what a read of ``call(*args)`` reads (``owners``
        when the caller names them), or the whole store when they are unknown."""
        if owners is None:
            owned = _OWNERS.get(call.__name__)
            found = None if owned is None else owned(args)
            if found is None:
                self.trees.add(ANY_TREE)
            else:
                self.videos_read.update(found)
        else:
            self.videos_read.update(owners)

    def read_now(self, call: Callable[..., T], *args: Any, noted: bool = True) -> T:
        """Run a store read here and now (only where :attr:`reads_now`): no task,
        no loader, no loop turn; past the request's deadline it raises
        ``LIMIT_EXCEEDED`` as :meth:`read` does. What it read is noted for the
        response cache as :meth:`read` notes it (``noted=False``: not)."""
        if noted:
            self.note_owners(call, args, None)
        if self.deadline is not None:
            self.deadline.check()
        result = call(*args)
        self.note_videos(result, noted)
        return result

    def video_now(self, video_id: str, noted: bool = True) -> VideoRecord | None:
        """A video read here and now (only where :attr:`reads_now`), or the one the
        loader already holds; ``noted=False`` for a caller that reads of it only
        what never changes."""
        held = self.videos.cache_map.get(video_id)
        if held is not None and held.done() and not held.cancelled() and not held.exception():
            record = held.result()
            self.note_videos(record, noted)
            return record
        found = self.read_now(self.store.get_videos, [video_id], noted=noted)
        record = found.get(video_id)
        if record is None:
            self.videos_read.add(video_id)  # stored later, it would change the answer
        else:
            self.videos.prime(video_id, record)
        return record

    async def turn(self) -> None:
        """Wait for a turn on the event loop, then raise ``LIMIT_EXCEEDED`` if the
        request's time is up.

        Called before every store read and before a resolver hands back a
        list of videos: graphql-core completes a list (and starts the
        resolvers of its items) in one go, so resolvers woken together by one
        loader batch would otherwise hold the loop for all their lists.
        """
        await take_turn()
        if self.deadline is not None:
            self.deadline.check()

    async def video(self, video_id: str, fixed: bool = False) -> VideoRecord | None:
        """A video through the loader, noted unless ``fixed`` (the caller reads of it
        only what never changes); a missing one is noted either way (stored
        later, it would change the answer)."""
        if not fixed:
            return await self.videos.load(video_id)
        record = await self.videos.load_fixed(video_id)
        if record is None:
            self.videos_read.add(video_id)
        return record

    def note_videos(self, result: object, noted: bool = True) -> None:
        """Note the videos in a read's result (their trees only, unless ``noted``)."""
        if isinstance(result, VideoRecord | PathNode):
            if noted:
                self.videos_read.add(result.id)
            self.seen_trees.add(result.original_id)
        elif isinstance(result, dict):
            for value in result.values():
                self.note_videos(value, noted)
        elif isinstance(result, list | tuple):
            for value in result:
                self.note_videos(value, noted)

    async def write(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a store write in a worker thread: it may wait for the store's write lock."""
        return await run_in_threadpool(call, *args, **kwargs)

    async def _load_videos(self, ids: Sequence[str]) -> list[VideoRecord | None]:
        # The loader notes each video as it is asked for (VideoLoader.load).
        found = await self.read(self.store.get_videos, list(ids), noted=False)
        return [found.get(video_id) for video_id in ids]

    async def _load_rights(self, ids: Sequence[str]) -> list[VideoRights]:
        found = await self.read(self.store.video_rights, list(ids))
        return [found.get(video_id, DEFAULT_RIGHTS) for video_id in ids]

    async def _load_generation_counts(self, ids: Sequence[str]) -> list[list[GenerationCount]]:
        found = await self.read(self.store.generation_counts_many, list(ids))
        return [found.get(video_id, []) for video_id in ids]

    async def _load_remix_pages(
        self, keys: Sequence[tuple[str, VideoOrder, int]]
    ) -> list[list[VideoRecord]]:
        by_page: dict[tuple[VideoOrder, int], list[str]] = {}
        for parent_id, order, size in keys:
            by_page.setdefault((order, size), []).append(parent_id)
        pages: dict[tuple[str, VideoOrder, int], list[VideoRecord]] = {}
        for (order, size), parent_ids in by_page.items():
            found = await self.read(self.store.children_many, parent_ids, order, size)
            for parent_id, records in found.items():
                pages[(parent_id, order, size)] = records
                self.prime(records)
        return [pages[key] for key in keys]

    def forget(self) -> None:
        """Drop what the loaders hold and who the caller is: a subscription's
        context lives as long as its socket, and each push must see the current
        state, masked for the caller's current role."""
        for loader in (self.videos, self.generation_counts, self.remix_pages, self.rights):
            loader.clear_all()
        self.access.refresh()

    def prime(self, records: Sequence[VideoRecord]) -> None:
        """Put videos already read into the loader, so asking again costs nothing."""
        for record in records:
            self.videos.prime(record.id, record)


async def deepest_generation(context: LineageContext) -> int:
    """The store's deepest generation: the query cost's bound on ancestor lists."""
    return await context.read(context.store.max_generation)


async def make_context(
    request: Request | WebSocket, response: Response | WebSocket, settings: ApiSettings
) -> LineageContext:
    """A fresh context (and loaders) for one HTTP request or WebSocket connection."""
    access = await get_connection_access(request)
    state = request.app.state
    context = LineageContext(state.store, settings, access)
    # What resolvers and permissions reach through the context (as Strawberry's
    # FastAPI integration sets them).
    context.request = request
    context.response = response if isinstance(response, Response) else None
    hub = getattr(state, "live_hub", None)
    if hub is None or hub.store is not state.store:
        hub = state.live_hub = LiveHub(state.store, interval=settings.live_interval_ms / 1000)
    context.live = hub
    context.deadline = request.scope.get(DEADLINE)
    window_ms = settings.group_commit_ms
    if window_ms is None:  # the store's default
        window_ms = float(getattr(state.store, "group_commit_ms", 0.0))
    if window_ms >= 0:
        committer = getattr(state, "group_committer", None)
        if committer is None or committer.store is not state.store:
            committer = state.group_committer = GroupCommitter(
                state.store, run_in_threadpool, window=window_ms / 1000
            )
        context.committer = committer
    request.scope[TREES] = context.trees
    request.scope[VIDEOS] = context.videos_read
    request.scope[HOURS] = context.hours
    # The HTTP layer sets status and media type on this response.
    request.state.graphql_response = response
    return context
