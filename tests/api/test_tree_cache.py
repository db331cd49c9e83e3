"""Per-tree cache validity and HTTP caching, on both stores (issue 10, items 4 and 5).

Answers about one tree stay cached while another tree is written; an answer
is never older than a write acknowledged before the request began; ``GET``
answers carry an ``ETag`` and ``If-None-Match`` gets ``304`` without running
the query.
"""

from __future__ import annotations

import asyncio
import threading
import urllib.parse

import httpx
import pytest

from api.core.config import ApiSettings
from lineage.store import LineageStore
from tests.api.conftest import PROMPT, load

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("small_tree")]

GRANDMA = {"query": '{ video(id: "grandma") { derivativeCount directRemixCount } }'}
NAINAI = {"query": '{ video(id: "nainai") { derivativeCount remixes(first: 5) { totalCount } } }'}


async def ask(http: httpx.AsyncClient, body: dict[str, object], **headers: str) -> httpx.Response:
    return await http.post("/graphql", json=body, headers=headers)


async def warm(http: httpx.AsyncClient, body: dict[str, object]) -> httpx.Response:
    """Ask until the answer is cached (a remote store learns a query's trees first)."""
    for _ in range(3):
        reply = await ask(http, body)
        if reply.headers["x-lineage-cache"] == "hit":
            return reply
    raise AssertionError("never cached")


def remix(parent_id: str, video_id: str) -> dict[str, str]:
    return {
        "query": (
            f'mutation {{ remixVideo(parentId: "{parent_id}", input: {{id: "{video_id}", '
            f'prompt: "{PROMPT} with a {video_id}"}}) {{ child {{ id }} }} }}'
        )
    }


async def test_answers_about_another_tree_survive_writes(http: httpx.AsyncClient) -> None:
    before = (await warm(http, NAINAI)).json()
    await warm(http, GRANDMA)
    for number in range(3):
        assert "errors" not in (await ask(http, remix("hippo", f"zebra{number}"))).json()
        kept = await ask(http, NAINAI)
        assert kept.headers["x-lineage-cache"] == "hit"
        assert kept.json() == before
        fresh = await ask(http, GRANDMA)
        assert fresh.headers["x-lineage-cache"] == "miss"
        assert fresh.json()["data"]["video"]["derivativeCount"] == 5 + number


async def test_a_write_by_another_client_of_the_store_invalidates(
    http: httpx.AsyncClient, store: LineageStore
) -> None:
    await warm(http, GRANDMA)
    load(store, [{"id": "okapi", "parent_id": "baby-hippo", "prompt": PROMPT + " okapi"}])
    after = await ask(http, GRANDMA)
    assert after.headers["x-lineage-cache"] == "miss"
    assert after.json()["data"]["video"]["derivativeCount"] == 5


async def test_a_missing_video_and_the_originals_change_with_any_write(
    http: httpx.AsyncClient, store: LineageStore
) -> None:
    missing = {"query": '{ video(id: "later") { id } }'}
    originals = {"query": "{ originals(first: 5) { totalCount } }"}
    assert (await warm(http, missing)).json()["data"]["video"] is None
    assert (await warm(http, originals)).json()["data"]["originals"]["totalCount"] == 2
    load(store, [{"id": "later", "prompt": "a new original"}])
    assert (await ask(http, missing)).json()["data"]["video"] == {"id": "later"}
    assert (await ask(http, originals)).json()["data"]["originals"]["totalCount"] == 3


async def test_no_answer_is_older_than_an_acknowledged_write(
    http: httpx.AsyncClient, store: LineageStore
) -> None:
    # A writer adds remixes to grandma while readers ask; every answer counts
    # at least the writes acknowledged before its request began.
    acknowledged = 0
    done = threading.Event()

    def writer() -> None:
        nonlocal acknowledged
        try:
            for number in range(25):
                load(
                    store,
                    [{"id": f"w{number}", "parent_id": "grandma", "prompt": f"{PROMPT} {number}"}],
                )
                acknowledged += 1
        finally:
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    answers = 0
    try:
        while not done.is_set() or answers < 5:
            floor = acknowledged
            reply = await ask(http, GRANDMA)
            assert reply.json()["data"]["video"]["derivativeCount"] >= 4 + floor
            answers += 1
            await asyncio.sleep(0)
    finally:
        thread.join()
    final = await ask(http, GRANDMA)
    assert final.json()["data"]["video"]["derivativeCount"] == 4 + 25


async def test_get_answers_carry_an_etag_and_revalidate_with_304(
    http: httpx.AsyncClient, store: LineageStore
) -> None:
    url = "/graphql?" + urllib.parse.urlencode(GRANDMA)
    first = await http.get(url)
    second = await http.get(url)
    tagged = first if "etag" in first.headers else second  # a remote store learns first
    etag = tagged.headers["etag"]
    # The client sends a token: private (tests/api/test_cache_privacy.py).
    assert tagged.headers["cache-control"] == "private, max-age=0, must-revalidate"
    assert second.headers["etag"] == etag

    calls = 0
    get_videos = store.get_videos

    def counting(*args: object) -> object:
        nonlocal calls
        calls += 1
        return get_videos(*args)  # type: ignore[arg-type]

    store.get_videos = counting  # type: ignore[assignment,method-assign]
    async_reads = getattr(store, "async_reads", None)
    if async_reads is not None:
        async_get = async_reads.get_videos

        async def async_counting(*args: object) -> object:
            nonlocal calls
            calls += 1
            return await async_get(*args)

        async_reads.get_videos = async_counting
    try:
        cached = await http.get(url, headers={"if-none-match": etag})
        assert cached.status_code == 304
        assert cached.content == b""
        assert cached.headers["etag"] == etag
        assert calls == 0  # not executed
        load(store, [{"id": "okapi", "parent_id": "hippo", "prompt": PROMPT + " okapi"}])
        changed = await http.get(url, headers={"if-none-match": etag})
        assert changed.status_code == 200
        assert changed.json()["data"]["video"]["derivativeCount"] == 5
        assert changed.headers["etag"] != etag
    finally:
        if async_reads is not None:
            del async_reads.get_videos


class TestMaxAge:
    @pytest.fixture
    def api_settings(self) -> ApiSettings:
        return ApiSettings(http_max_age=60, response_cache_entries=0)

    async def test_max_age_from_settings_and_etags_without_a_response_cache(
        self, http: httpx.AsyncClient
    ) -> None:
        url = "/graphql?" + urllib.parse.urlencode(NAINAI)
        replies = [await http.get(url) for _ in range(2)]
        assert "x-lineage-cache" not in replies[1].headers
        assert replies[1].headers["cache-control"] == "private, max-age=60, must-revalidate"
        again = await http.get(url, headers={"if-none-match": replies[1].headers["etag"]})
        assert again.status_code == 304
