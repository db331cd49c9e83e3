"""The store's reads as coroutines, for the API's event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import neo4j

from lineage.models import (
    GenerationCount,
    VideoRecord,
)
from lineage.rights.policy import VideoRights
from lineage.store import PathNode, VariantGroupRow, VideoOrder
from lineage.stores.neo4j.bookmarks import BookmarkRelay
from lineage.stores.neo4j.depth import read_max_generation
from lineage.stores.neo4j.descendants import read_descendant_page
from lineage.stores.neo4j.reads import (
    T,
    _Read,
    _read_children,
    _read_children_many,
    _read_count_children,
    _read_generation_counts_many,
    _read_lineage_path,
    _read_variant_groups,
    _read_variant_groups_with_tops,
    _read_videos,
)
from lineage.stores.neo4j.rights import read_video_rights
from lineage.stores.neo4j.versions import read_tree_versions, read_versions
from lineage.stores.neo4j.waves import WaveBatcher

# Tries of a read that fails with a retryable error (leader change, deadlock...).
_ATTEMPTS = 4


class AsyncNeo4jReads:
    """The store's reads as coroutines, on the driver's asyncio API.

    The API's resolvers await these instead of sending blocking reads to a
    thread pool. A driver belongs to one event loop; one is made per loop.
    The reads one request asks in one wave of resolvers go out as one query
    (:mod:`lineage.stores.neo4j.waves`): a lineage query costs one Bolt
    round trip per level of nesting that reads, not one per field.
    """

    def __init__(
        self,
        uri: str,
        auth: tuple[str, str],
        database: str,
        *,
        bookmarks: BookmarkRelay | None = None,
    ) -> None:
        self._uri, self._auth, self._database = uri, auth, database
        # Reads wait for the store's latest writes (a cluster's followers lag).
        self._bookmarks = bookmarks or BookmarkRelay()
        self._managers: dict[asyncio.AbstractEventLoop, neo4j.AsyncBookmarkManager] = {}
        self._drivers: dict[asyncio.AbstractEventLoop, neo4j.AsyncDriver] = {}
        self._batchers: dict[asyncio.AbstractEventLoop, WaveBatcher] = {}
        # Read queries sent so far (Bolt round trips), for tests and benchmarks.
        self.queries_sent = 0

    def _driver(self) -> neo4j.AsyncDriver:
        loop = asyncio.get_running_loop()
        driver = self._drivers.get(loop)
        if driver is None:
            # Forget drivers of loops that have ended (tests, reloads).
            for old in [old for old in self._drivers if old.is_closed()]:
                del self._drivers[old]
                self._batchers.pop(old, None)
                self._managers.pop(old, None)
            driver = self._drivers[loop] = neo4j.AsyncGraphDatabase.driver(
                self._uri, auth=self._auth, notifications_min_severity="OFF"
            )
            self._managers[loop] = self._bookmarks.async_read()
        return driver

    async def read_rows(self, cypher: str, parameters: dict[str, Any]) -> list[Mapping[str, Any]]:
        """One auto-commit read of ``cypher`` on this loop's driver, with the store's
        bookmarks (the token store's lookup; not counted in :attr:`queries_sent`)."""
        return await self._send(cypher, parameters, counted=False)

    async def _send(
        self, cypher: str, parameters: dict[str, Any], *, counted: bool = True
    ) -> list[Mapping[str, Any]]:
        # An auto-commit read: one round trip (a managed transaction adds its
        # commit's). Retried here as the managed one would be.
        for attempt in range(_ATTEMPTS):
            self.queries_sent += counted
            try:
                driver = self._driver()
                async with driver.session(
                    database=self._database,
                    default_access_mode=neo4j.READ_ACCESS,
                    bookmark_manager=self._managers[asyncio.get_running_loop()],
                ) as session:
                    result = await session.run(cypher, parameters)
                    return [record async for record in result]
            except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError) as error:
                if attempt + 1 == _ATTEMPTS or not error.is_retryable():
                    raise
                await asyncio.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    async def _read(self, read: _Read[T]) -> T:
        loop = asyncio.get_running_loop()
        batcher = self._batchers.get(loop)
        if batcher is None:
            batcher = self._batchers[loop] = WaveBatcher(self._send)
        answer: T = await batcher.read(read)
        return answer

    async def aclose(self) -> None:
        """Close the driver of the running loop."""
        driver = self._drivers.pop(asyncio.get_running_loop(), None)
        self._batchers.pop(asyncio.get_running_loop(), None)
        self._managers.pop(asyncio.get_running_loop(), None)
        if driver is not None:
            await driver.close()

    def close(self) -> None:
        # Drivers of other loops hold only idle sockets; the process ends them.
        self._drivers.clear()

    async def get_video(self, video_id: str) -> VideoRecord | None:
        return (await self._read(_read_videos([video_id]))).get(video_id)

    async def get_videos(self, video_ids: Sequence[str]) -> dict[str, VideoRecord]:
        return await self._read(_read_videos(video_ids))

    async def lineage_path(self, video_id: str) -> list[PathNode]:
        return await self._read(_read_lineage_path(video_id))

    async def generation_counts_many(
        self, video_ids: Sequence[str]
    ) -> dict[str, list[GenerationCount]]:
        return await self._read(_read_generation_counts_many(video_ids))

    async def children_many(
        self, parent_ids: Sequence[str], order: VideoOrder, first: int
    ) -> dict[str, list[VideoRecord]]:
        return await self._read(_read_children_many(parent_ids, order, first))

    async def children(
        self,
        parent_id: str | None,
        order: VideoOrder,
        first: int,
        after: tuple[int, str] | None = None,
    ) -> list[VideoRecord]:
        return await self._read(_read_children(parent_id, order, first, after))

    async def variant_groups(self, video_id: str, limit: int) -> list[VariantGroupRow]:
        return await self._read(_read_variant_groups(video_id, limit))

    async def variant_groups_with_tops(
        self, video_id: str, limit: int
    ) -> list[tuple[VariantGroupRow, VideoRecord | None]]:
        return await self._read(_read_variant_groups_with_tops(video_id, limit))

    async def video_rights(self, video_ids: Sequence[str]) -> dict[str, VideoRights]:
        return await self._read(read_video_rights(video_ids))

    async def tree_versions(self, original_ids: Sequence[str]) -> dict[str, object]:
        return await self._read(read_tree_versions(original_ids))

    async def video_versions(
        self, video_ids: Sequence[str], original_ids: Sequence[str] = ()
    ) -> tuple[dict[str, object], dict[str, object]]:
        return await self._read(read_versions(video_ids, original_ids))

    async def max_generation(self) -> int:
        return await self._read(read_max_generation())

    async def count_children(self, parent_id: str | None) -> int:
        return await self._read(_read_count_children(parent_id))

    async def descendant_page(
        self,
        video_id: str,
        original: bool,
        first: int,
        after: tuple[int, str] | None = None,
        generation: int | None = None,
    ) -> list[VideoRecord]:
        return await self._read(read_descendant_page(video_id, original, first, after, generation))
