"""Subscription.videoUpdated through Strawberry's schema.subscribe, on SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import pytest

from api.core.config import ApiSettings
from api.graphql.context import LineageContext
from api.graphql.live import LiveHub
from api.graphql.schema import build_schema
from lineage.importing.records import SourcedRecord
from lineage.models import VideoRecord
from lineage.stores.sqlite import SQLiteStore
from tests.api.conftest import SMALL_TREE, load
from tests.api.live import eventually

pytestmark = pytest.mark.anyio

WATCH = """subscription($id: ID!) {
  videoUpdated(id: $id) { id derivativeCount directRemixCount treeDepth
                          generationCounts { generation count } }
}"""


class CountingStore(SQLiteStore):
    """SQLite that counts its get_video calls."""

    video_reads = 0

    def get_video(self, video_id: str) -> VideoRecord | None:
        self.video_reads += 1
        return super().get_video(video_id)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    opened = CountingStore(tmp_path / "live.db")
    load(opened, SMALL_TREE)
    yield opened
    opened.close()


def remix(store: SQLiteStore, video_id: str, parent_id: str) -> None:
    record = {"id": video_id, "parent_id": parent_id, "prompt": f"A robot {video_id} dances"}
    report = store.import_videos([SourcedRecord(record, "test", 1)], atomic=True)
    assert not report.rejected


async def subscribe(
    schema: Any, store: SQLiteStore, hub: LiveHub, video_id: str
) -> AsyncGenerator[Any, None]:
    context = LineageContext(store, ApiSettings())
    context.live = hub
    stream = await schema.subscribe(WATCH, variable_values={"id": video_id}, context_value=context)
    assert not isinstance(stream, type(None))
    return stream  # type: ignore[no-any-return]


async def pushed(stream: Any) -> Any:
    """The next push of ``stream`` (at most 5 s away), which must carry no error."""
    result = await asyncio.wait_for(anext(stream), timeout=5)
    assert result.errors is None, result.errors
    return result.data["videoUpdated"]


async def looked(hub: LiveHub, video_id: str, times: int) -> None:
    """Wait until the watch of ``video_id`` has looked at its tree ``times`` more times."""
    watch = hub.watches[video_id]
    target = watch.looks + times
    await eventually(lambda: watch.looks >= target, what=f"{times} looks at {video_id}")


async def test_a_write_reaches_two_subscribers_with_one_store_read(store: CountingStore) -> None:
    schema = build_schema(ApiSettings())
    hub = LiveHub(store, interval=0.05)
    first = await subscribe(schema, store, hub, "hippo")
    second = await subscribe(schema, store, hub, "hippo")
    # Each gets the video as it is now, once it has joined the one watch of it.
    for stream in (first, second):
        video = await pushed(stream)
        assert (video["id"], video["derivativeCount"], video["directRemixCount"]) == ("hippo", 1, 1)
    assert list(hub.watches) == ["hippo"]
    assert len(hub.watches["hippo"].subscribers) == 2
    first_next = asyncio.ensure_future(anext(first))
    second_next = asyncio.ensure_future(anext(second))
    await looked(hub, "hippo", 2)  # nothing changed: nothing pushed
    assert not first_next.done()
    reads_before = store.video_reads

    remix(store, "hippo-live", "hippo")
    pushes = await asyncio.wait_for(asyncio.gather(first_next, second_next), timeout=5)
    for result in pushes:
        assert result.errors is None, result.errors
        video = result.data["videoUpdated"]
        assert video["id"] == "hippo"
        assert video["derivativeCount"] == 2  # baby-hippo and hippo-live
        assert video["directRemixCount"] == 2
        assert video["treeDepth"] == 1
        assert video["generationCounts"] == [{"generation": 2, "count": 2}]
    # One read of the video for the change, shared by both subscribers.
    assert store.video_reads - reads_before == 1

    # A second write: the next push carries the new count, not a cached one.
    remix(store, "hippo-live-2", "hippo-live")
    video = await pushed(first)
    assert video["derivativeCount"] == 3
    assert video["treeDepth"] == 2
    assert video["generationCounts"] == [
        {"generation": 2, "count": 2},
        {"generation": 3, "count": 1},
    ]

    await first.aclose()
    assert list(hub.watches) == ["hippo"]  # the second subscriber still watches
    await second.aclose()
    assert hub.watches == {}


async def test_a_write_into_another_tree_pushes_nothing(store: CountingStore) -> None:
    schema = build_schema(ApiSettings())
    hub = LiveHub(store, interval=0.05)
    stream = await subscribe(schema, store, hub, "hippo")
    assert (await pushed(stream))["derivativeCount"] == 1
    waiting = asyncio.ensure_future(anext(stream))
    await looked(hub, "hippo", 2)
    reads_before = store.video_reads
    remix(store, "nainai-2", "nainai")
    await looked(hub, "hippo", 3)
    assert not waiting.done()
    assert store.video_reads == reads_before  # the tree's version did not move
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    await stream.aclose()
    assert hub.watches == {}


async def test_an_unknown_id_is_not_found(store: CountingStore) -> None:
    schema = build_schema(ApiSettings())
    hub = LiveHub(store, interval=0.05)
    stream = await subscribe(schema, store, hub, "no-such-video")
    result = await anext(stream)
    assert result.data is None
    assert [error.extensions["code"] for error in result.errors] == ["NOT_FOUND"]
    assert hub.watches == {}
