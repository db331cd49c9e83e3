"""No N+1: a page of remixes with parents, originals and diffs costs a few store calls."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from api.core.config import ApiSettings
from api.main import create_app
from lineage.store import LineageStore
from tests.api.conftest import PROMPT, GraphQLClient, load

pytestmark = pytest.mark.anyio


class CountingStore:
    """Wraps a store and counts every call made through it."""

    def __init__(self, store: LineageStore) -> None:
        self._store = store
        self.calls: Counter[str] = Counter()
        self.in_process = getattr(store, "in_process", False)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if not callable(attribute):
            return attribute

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return attribute(*args, **kwargs)

        return counted


@pytest.fixture
async def counting(store: LineageStore) -> AsyncIterator[tuple[GraphQLClient, CountingStore]]:
    # grandma <- 120 remixes, each with one remix of its own.
    records: list[dict[str, Any]] = [{"id": "grandma", "prompt": PROMPT}]
    for n in range(120):
        animal = f"animal{n}"
        records.append(
            {"id": f"r{n}", "parent_id": "grandma", "prompt": PROMPT.replace("crocodile", animal)}
        )
        records.append(
            {
                "id": f"r{n}-1",
                "parent_id": f"r{n}",
                "prompt": PROMPT.replace("crocodile", f"big {animal}"),
            }
        )
    load(store, records)
    counting = CountingStore(store)
    # The response cache off: these tests count what the loaders ask.
    app = create_app(ApiSettings(response_cache_entries=0), store=counting)  # type: ignore[arg-type]
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        yield GraphQLClient(http), counting


async def test_a_page_of_100_remixes_costs_a_constant_number_of_store_calls(
    counting: tuple[GraphQLClient, CountingStore],
) -> None:
    client, store = counting
    data = await client.data(
        """{ video(id: "grandma") { remixes(first: 100) { edges { node {
             parent { id derivativeCount }
             child { id original { id } parent { id }
                     remixes(first: 1) { edges { node { child { id original { id } } } } } }
             promptDiff { summary variantKey ops { op before after } } } } } } }"""
    )
    edges = data["video"]["remixes"]["edges"]
    assert len(edges) == 100
    assert all(edge["node"]["child"]["original"]["id"] == "grandma" for edge in edges)
    assert all(edge["node"]["parent"]["id"] == "grandma" for edge in edges)
    assert all(edge["node"]["promptDiff"]["variantKey"].startswith("crocodile→") for edge in edges)
    # One page query for the root's remixes, one batch for the 100 nested
    # pages, one batch of video lookups per level: not 100+ calls.
    assert store.calls["children_many"] == 2, store.calls
    assert store.calls["get_videos"] <= 3, store.calls
    assert sum(store.calls.values()) <= 5, store.calls


async def test_parents_originals_and_diffs_alone_cost_three_calls(
    counting: tuple[GraphQLClient, CountingStore],
) -> None:
    client, store = counting
    data = await client.data(
        """{ video(id: "grandma") { remixes(first: 100) { edges { node {
             parent { id } child { id original { id } parent { id } }
             promptDiff { summary } } } } } }"""
    )
    assert len(data["video"]["remixes"]["edges"]) == 100
    # The diffs' words depend on each remix's rights (a removed remix's are blank
    # below admin): one batched rights read for the whole page.
    assert store.calls == Counter({"get_videos": 1, "children_many": 1, "video_rights": 1}), (
        store.calls
    )
