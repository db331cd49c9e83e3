"""Cache validity per video, and ETags every worker agrees on, on both stores.

An answer stays cached while the videos it read (and the owners of the
lists it read) are unchanged: a remix into the tree empties the answers
about the remix's ancestors only, not those about its siblings. A ``GET``
answer's ``ETag`` is a digest of the answer, so a second app instance (a
second worker, with its own cache) that has never seen the query answers
``304`` to the tag the first gave, before and after a write.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from api.core.config import ApiSettings
from api.graphql.live import LiveHub
from api.main import create_app
from lineage.over_time.engagement import EngagementEvent
from lineage.store import LineageStore
from lineage.stores.sqlite import SQLiteStore
from tests.api.conftest import PROMPT, client_of, load
from tests.conftest import open_neo4j_store

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("small_tree")]


def counts(video_id: str) -> dict[str, str]:
    return {"query": '{ video(id: "%s") { derivativeCount likes subtreeLikes status } }' % video_id}


async def warm(http: httpx.AsyncClient, body: dict[str, str]) -> None:
    """Ask until the answer is cached (a remote store learns what a query reads first)."""
    for _ in range(3):
        if (await http.post("/graphql", json=body)).headers["x-lineage-cache"] == "hit":
            return
    raise AssertionError("never cached")


async def state(http: httpx.AsyncClient, body: dict[str, str]) -> str:
    return (await http.post("/graphql", json=body)).headers["x-lineage-cache"]


async def test_a_remix_empties_its_ancestors_answers_and_no_others(
    http: httpx.AsyncClient, store: LineageStore
) -> None:
    names = ["grandma", "hippo", "giraffe", "baby-hippo", "nainai"]
    for name in names:
        await warm(http, counts(name))
    load(store, [{"id": "okapi", "parent_id": "hippo", "prompt": PROMPT + " okapi"}])
    assert [await state(http, counts(name)) for name in names] == [
        "miss",  # an ancestor
        "miss",  # the parent
        "hit",  # a sibling of the parent, same tree
        "hit",  # a sibling of the remix
        "hit",  # another tree
    ]


async def test_engagement_and_takedowns_empty_the_video_and_its_ancestors(
    http: httpx.AsyncClient, store: LineageStore
) -> None:
    names = ["grandma", "hippo", "giraffe", "baby-hippo"]
    for name in names:
        await warm(http, counts(name))
    store.record_engagement([EngagementEvent("baby-hippo", likes=2, views=3)])
    assert [await state(http, counts(name)) for name in names] == ["miss", "miss", "hit", "miss"]
    for name in names:
        await warm(http, counts(name))
    store.set_status("giraffe", "REMOVED", "test", "admin", datetime.now(UTC))
    assert [await state(http, counts(name)) for name in names] == ["miss", "hit", "miss", "hit"]
    reply = await http.post("/graphql", json=counts("giraffe"))
    assert reply.json()["data"]["video"]["status"] == "REMOVED"


@pytest.fixture
async def second_app(
    store: LineageStore, backend: str, request: pytest.FixtureRequest
) -> AsyncIterator[FastAPI]:
    """Another worker: an app instance with its own cache and its own store
    connection to the same data."""
    if backend == "sqlite":
        assert isinstance(store, SQLiteStore)
        other: LineageStore = SQLiteStore(store.path)
    else:
        other = open_neo4j_store(request.getfixturevalue("neo4j"))
    application = create_app(ApiSettings(), store=other)
    try:
        async with application.router.lifespan_context(application):
            yield application
    finally:
        other.close()


async def test_any_worker_answers_304_to_the_tag_of_the_answer(
    app: FastAPI, second_app: FastAPI, store: LineageStore
) -> None:
    url = "/graphql?" + urllib.parse.urlencode(counts("grandma"))
    async with client_of(app) as one, client_of(second_app) as two:
        first = await one.get(url)
        assert first.status_code == 200
        tag = first.headers["etag"]  # on the first GET, on both stores
        assert first.headers["cache-control"] == "max-age=0, must-revalidate"
        revalidated = await two.get(url, headers={"if-none-match": tag})
        assert revalidated.status_code == 304
        assert revalidated.headers["etag"] == tag
        assert revalidated.content == b""

        load(store, [{"id": "okapi", "parent_id": "hippo", "prompt": PROMPT + " okapi"}])
        # The second worker holds the answer from before the write.
        stale = await two.get(url, headers={"if-none-match": tag})
        assert stale.status_code == 200
        assert stale.json()["data"]["video"]["derivativeCount"] == 5
        new_tag = stale.headers["etag"]
        assert new_tag != tag
        # The first worker has not run the query since the write.
        fresh = await one.get(url, headers={"if-none-match": new_tag})
        assert fresh.status_code == 304
        assert fresh.headers["etag"] == new_tag
        again = await one.get(url, headers={"if-none-match": f'"other", {new_tag}'})
        assert again.status_code == 304
        assert (await one.get(url)).headers["etag"] == new_tag


async def test_a_watched_video_is_read_again_only_when_its_own_version_moves(
    store: LineageStore,
) -> None:
    hub = LiveHub(store, interval=0.01)
    reads: list[str] = []
    target = getattr(store, "async_reads", None) or store
    get_video = target.get_video

    def counting(video_id: str) -> object:
        reads.append(video_id)
        return get_video(video_id)

    async def async_counting(video_id: str) -> object:
        reads.append(video_id)
        return await get_video(video_id)

    target.get_video = async_counting if target is not store else counting
    try:
        async with hub.watch("giraffe") as updates:
            first = await updates.next(timeout=5)
            assert first is not None
            watch = hub.watches["giraffe"]

            async def looked(more: int) -> None:
                target = watch.looks + more
                for _ in range(500):
                    if watch.looks >= target:
                        return
                    await asyncio.sleep(0.01)
                raise AssertionError("the feed never looked")

            await looked(2)  # the task's first look reads the video once
            before = len(reads)
            load(store, [{"id": "okapi", "parent_id": "hippo", "prompt": PROMPT + " okapi"}])
            # The tree moved (the feed saw it) but giraffe did not: no read of it.
            await looked(3)
            assert len(reads) == before
            load(store, [{"id": "zebra", "parent_id": "giraffe", "prompt": PROMPT + " zebra"}])
            pushed = await updates.next(timeout=5)
            assert pushed is not None
            assert pushed.record.derivative_count == 1
            assert len(reads) == before + 1
    finally:
        del target.get_video
        await hub.feed.aclose()


async def test_a_request_arriving_while_the_same_is_answered_waits_for_that_answer(
    store: LineageStore,
) -> None:
    from starlette.types import Receive, Scope, Send

    from api.cache import CACHEABLE, TREES, VIDEOS, ResponseCache

    calls = 0
    release = asyncio.Event()
    release.set()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal calls
        calls += 1
        await release.wait()
        scope[CACHEABLE], scope[VIDEOS], scope[TREES] = True, {"grandma"}, set()
        answer = f'{{"data":{{"run":{calls}}}}}'.encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": answer})

    cache = ResponseCache(app, lambda: store)
    transport = httpx.ASGITransport(app=cache)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:

        async def ask() -> httpx.Response:
            return await http.post("/graphql", json={"query": "{ run }"})

        async def running() -> None:
            while not cache.running:
                await asyncio.sleep(0.001)

        await ask()  # a remote store learns what the request reads first
        store.record_engagement([EngagementEvent("grandma", likes=1)])
        release.clear()
        first = asyncio.create_task(ask())
        await running()
        second = asyncio.create_task(ask())
        await asyncio.sleep(0.05)
        assert calls == 2  # the second waits for the first
        release.set()
        answers = [await first, await second]
        assert [reply.headers["x-lineage-cache"] for reply in answers] == ["miss", "hit"]
        assert answers[0].json() == answers[1].json() == {"data": {"run": 2}}
        # A write while it waits: the answer it waited for read the row before
        # the write, so it runs the request itself.
        store.record_engagement([EngagementEvent("grandma", likes=1)])
        release.clear()
        third = asyncio.create_task(ask())
        await running()
        fourth = asyncio.create_task(ask())
        await asyncio.sleep(0.05)
        store.record_engagement([EngagementEvent("grandma", likes=1)])
        release.set()
        assert (await third).json() == {"data": {"run": 3}}
        assert (await fourth).json() == {"data": {"run": 4}}
        assert not cache.running
