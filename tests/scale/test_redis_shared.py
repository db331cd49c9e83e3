"""LINEAGE_REDIS_URL: write limits shared by every process, live counts by pub/sub,
and what a real Redis outage (its server stopped, then started again) does."""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from api.live_feed import PollingFeed, RedisFeed
from api.ratelimit import RateLimited, WriteRateLimiter
from api.redis_link import RETRY_S, RedisLink
from lineage.importing.records import SourcedRecord
from lineage.store import VideoOrder
from lineage.stores.sqlite import SQLiteStore
from tests.scale.conftest import RedisServer

pytestmark = pytest.mark.scale


def _sample(name: str, feature: str) -> float:
    return REGISTRY.get_sample_value(name, {"feature": feature}) or 0.0


async def _allowed(limiter: WriteRateLimiter, key: str) -> bool:
    try:
        await limiter.check(key)
    except RateLimited:
        return False
    return True


def test_write_limits_are_shared_by_every_process(redis_server: RedisServer) -> None:
    """Two limiters (two processes) on one Redis: a token's 5/minute holds across both."""
    key = f"token-{uuid.uuid4().hex}"

    async def scenario() -> list[bool]:
        first = WriteRateLimiter("5/minute", redis_url=redis_server.url)
        second = WriteRateLimiter("5/minute", redis_url=redis_server.url)
        return [await _allowed(limiter, key) for limiter in (first, second) * 4]

    outcomes = asyncio.run(scenario())
    assert outcomes == [True] * 5 + [False] * 3


def test_a_redis_outage_falls_back_to_per_process_limits(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    key = f"token-{uuid.uuid4().hex}"
    outages = _sample("lineage_redis_outages_total", "rate_limits")
    fallbacks = _sample("lineage_redis_fallbacks_total", "rate_limits")

    async def scenario() -> None:
        limiter = WriteRateLimiter("3/minute", redis_url=redis_server.url)
        assert await _allowed(limiter, key)  # counted in Redis
        redis_server.stop()
        with caplog.at_level(logging.WARNING, logger="api.redis_link"):
            # Never a failed request: counted in this process's memory instead.
            assert [await _allowed(limiter, key) for _ in range(4)] == [True] * 3 + [False]
        assert limiter.outage.down
        redis_server.start()
        await asyncio.sleep(RETRY_S + 0.1)
        # Back on Redis, which still holds only the write made before the outage.
        assert await _allowed(limiter, key)
        assert not limiter.outage.down

    asyncio.run(scenario())
    unreachable = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
    assert len(unreachable) == 1, "an outage is logged once"
    assert _sample("lineage_redis_outages_total", "rate_limits") == outages + 1
    assert _sample("lineage_redis_fallbacks_total", "rate_limits") >= fallbacks + 4


def _store(path: Path) -> SQLiteStore:
    store = SQLiteStore(path / "lineage.db")
    store.import_videos(
        [
            SourcedRecord({"id": "a", "prompt": "a cat"}, "t", 1),
            SourcedRecord({"id": "b", "prompt": "a dog"}, "t", 2),
        ]
    )
    return store


def _remix(store: SQLiteStore, parent: str) -> None:
    video = f"{parent}-{uuid.uuid4().hex[:8]}"
    store.import_videos([SourcedRecord({"id": video, "parent_id": parent, "prompt": "x"}, "t", 1)])


class _CountingStore:
    """Counts tree_versions calls and the trees each asks for (the store is real)."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        self.in_process = True
        self.calls: list[list[str]] = []

    def tree_versions(self, trees: list[str]) -> dict[str, object]:
        self.calls.append(list(trees))
        return self.store.tree_versions(trees)

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)


def test_polling_reads_once_per_watched_tree_not_per_video(tmp_path: Path) -> None:
    """Six subscribers of three videos in two trees: one version read per interval,
    naming each tree once."""
    from api.graphql.live import LiveHub

    store = _store(tmp_path)
    _remix(store, "a")
    counting = _CountingStore(store)

    async def scenario() -> None:
        hub = LiveHub(counting, interval=0.05)  # type: ignore[arg-type]
        remix = store.children("a", VideoOrder.NEWEST, 1)[0]
        ids = ["a", "b", remix.id]
        async with (
            hub.watch(ids[0]),
            hub.watch(ids[0]),
            hub.watch(ids[1]),
            hub.watch(ids[1]),
            hub.watch(ids[2]) as updates,
            hub.watch(ids[2]),
        ):
            current = await asyncio.wait_for(updates.next(), 2)  # the state on subscribing
            assert current is not None
            assert current.record.derivative_count == 0
            await asyncio.sleep(0.5)
            _remix(store, remix.id)
            changed = await asyncio.wait_for(updates.next(), 2)
            assert changed is not None
            assert changed.record.derivative_count == 1
        await hub.feed.aclose()

    asyncio.run(scenario())
    assert 5 <= len(counting.calls) <= 20  # ~0.6 s at 50 ms, whatever the watchers
    assert all(sorted(call) == ["a", "b"] for call in counting.calls[1:])


def test_live_counts_travel_by_pubsub_and_poll_during_an_outage(
    tmp_path: Path, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    store = _store(tmp_path)
    counting = _CountingStore(store)
    outages = _sample("lineage_redis_outages_total", "live_counts")

    async def scenario() -> None:
        link = RedisLink(redis_server.url)
        publisher = RedisFeed(counting, RedisLink(redis_server.url), interval=0.05)  # type: ignore[arg-type]
        feed = RedisFeed(counting, link, interval=0.05)  # type: ignore[arg-type]
        async with feed.follow("a") as tree:
            first = await asyncio.wait_for(tree.changed(object()), 5)
            await asyncio.sleep(0.3)
            reads = len(counting.calls)
            await asyncio.sleep(0.5)
            assert len(counting.calls) == reads, "subscribed: no polling"
            _remix(store, "a")
            await publisher.publish(store.tree_versions(["a"]))
            second = await asyncio.wait_for(tree.changed(first), 2)
            assert second != first
            # The outage: writes are not published; the feed polls the store.
            redis_server.stop()
            await asyncio.sleep(0.3)
            _remix(store, "a")
            third = await asyncio.wait_for(tree.changed(second), 3)
            assert third != second
            assert feed.outage.down
            redis_server.start()
            await asyncio.sleep(RETRY_S + 0.5)
            assert not feed.outage.down, "subscribed again once Redis is back"
            _remix(store, "a")
            await publisher.publish(store.tree_versions(["a"]))
            assert await asyncio.wait_for(tree.changed(third), 2) != third
        await feed.aclose()
        await publisher.aclose()
        await link.aclose()

    with caplog.at_level(logging.WARNING, logger="api.redis_link"):
        asyncio.run(scenario())
    assert _sample("lineage_redis_outages_total", "live_counts") == outages + 1
    assert any("polled from the store" in r.getMessage() for r in caplog.records)


def test_polling_feed_publishes_nothing(tmp_path: Path) -> None:
    feed = PollingFeed(_store(tmp_path))
    assert not feed.publishes
    asyncio.run(feed.publish({"a": 1}))
