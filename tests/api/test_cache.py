"""The response cache: repeated queries are served from memory, never stale."""

from __future__ import annotations

import httpx
import pytest

from api.core.config import ApiSettings
from lineage.store import LineageStore
from lineage.stores.sqlite import SQLiteStore
from tests.api.conftest import PROMPT, load

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("small_tree")]


@pytest.fixture
def backend() -> str:
    # Cached on the first run: SQLite brackets it with its whole-store version
    # (tests/api/test_tree_cache.py covers both stores).
    return "sqlite"


QUERY = {"query": '{ video(id: "grandma") { derivativeCount directRemixCount } }'}


async def ask(http: httpx.AsyncClient, body: dict[str, object], **headers: str) -> httpx.Response:
    return await http.post("/graphql", json=body, headers=headers)


async def test_a_repeated_query_is_a_hit(http: httpx.AsyncClient) -> None:
    first = await ask(http, QUERY)
    second = await ask(http, QUERY)
    assert first.headers["x-lineage-cache"] == "miss"
    assert second.headers["x-lineage-cache"] == "hit"
    assert (
        second.json()
        == first.json()
        == {"data": {"video": {"derivativeCount": 4, "directRemixCount": 3}}}
    )
    assert second.headers["content-type"] == first.headers["content-type"]


async def test_a_mutation_invalidates(http: httpx.AsyncClient) -> None:
    await ask(http, QUERY)
    remix = {
        "query": 'mutation { remixVideo(parentId: "grandma", input: {id: "zebra", '
        'prompt: "A grandmother chases a zebra out of the yard"}) { child { id } } }'
    }
    assert "errors" not in (await ask(http, remix)).json()
    after = await ask(http, QUERY)
    assert after.headers["x-lineage-cache"] == "miss"
    assert after.json()["data"]["video"] == {"derivativeCount": 5, "directRemixCount": 4}
    # Mutations themselves are never answered from the cache.
    again = await ask(http, remix)
    assert again.headers["x-lineage-cache"] == "miss"


async def test_a_write_by_another_connection_invalidates(
    http: httpx.AsyncClient, store: LineageStore
) -> None:
    await ask(http, QUERY)
    assert (await ask(http, QUERY)).headers["x-lineage-cache"] == "hit"
    assert isinstance(store, SQLiteStore)
    # Another process would open its own connection to the same file.
    other = SQLiteStore(store.path)
    try:
        load(other, [{"id": "okapi", "parent_id": "hippo", "prompt": PROMPT + " okapi"}])
    finally:
        other.close()
    after = await ask(http, QUERY)
    assert after.headers["x-lineage-cache"] == "miss"
    assert after.json()["data"]["video"]["derivativeCount"] == 5


async def test_errors_and_no_cache_requests_are_not_served_from_cache(
    http: httpx.AsyncClient,
) -> None:
    refused = {"query": '{ video(id: "grandma") { remixes(first: 500) { totalCount } } }'}
    await ask(http, refused)
    assert (await ask(http, refused)).headers["x-lineage-cache"] == "miss"
    await ask(http, QUERY)
    bypass = await ask(http, QUERY, **{"cache-control": "no-cache"})
    assert "x-lineage-cache" not in bypass.headers


async def test_media_types_are_cached_apart(http: httpx.AsyncClient) -> None:
    await ask(http, QUERY)
    other = await ask(http, QUERY, accept="application/graphql-response+json")
    assert other.headers["x-lineage-cache"] == "miss"
    assert other.headers["content-type"].startswith("application/graphql-response+json")


class TestDisabled:
    @pytest.fixture
    def api_settings(self) -> ApiSettings:
        return ApiSettings(response_cache_entries=0)

    async def test_no_cache_at_all(self, http: httpx.AsyncClient) -> None:
        await ask(http, QUERY)
        assert "x-lineage-cache" not in (await ask(http, QUERY)).headers


async def test_a_store_that_cannot_tell_its_versions_is_served_uncached(
    http: httpx.AsyncClient, store: LineageStore
) -> None:
    await ask(http, QUERY)

    def broken(video_ids: object, original_ids: object = ()) -> tuple[dict[str, object], ...]:
        raise RuntimeError("no versions")

    store.video_versions = broken  # type: ignore[method-assign]
    first = await ask(http, QUERY)
    second = await ask(http, QUERY)
    assert first.headers["x-lineage-cache"] == second.headers["x-lineage-cache"] == "miss"
    assert second.json()["data"]["video"]["derivativeCount"] == 4
