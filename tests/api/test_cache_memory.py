"""Caches hold bytes within their budgets, never the request texts they are keyed by.

Distinct large queries (a few tokens padded with comments, within every
limit, sent anonymously) must not stay in memory after they are answered:
not as response-cache keys, parser-cache keys, validation-cache documents
or guard verdict keys. Answers are bounded by ``LINEAGE_API_RESPONSE_CACHE_BYTES``.
Measured deterministically: what the process still references, and each
cache's own accounting; no timing, no RSS.
"""

from __future__ import annotations

import gc
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from api.cache import ResponseCache
from api.core.config import ApiSettings
from api.graphql.context import LineageContext
from api.graphql.schema import build_schema
from lineage.store import LineageStore
from tests.api.conftest import PROMPT, client_of, load

pytestmark = pytest.mark.anyio

BUDGET = 64 * 1024
MARKER = "cache-memory-padding-"
# About 2.4 KB: one answer (and its entry) is within a sixteenth of BUDGET.
LONG_PROMPT = " ".join([PROMPT] * 50)


@pytest.fixture
def backend() -> str:
    # Memory does not depend on the store; SQLite caches the first answer.
    return "sqlite"


@pytest.fixture
def api_settings() -> ApiSettings:
    return ApiSettings(response_cache_bytes=BUDGET)


@pytest.fixture
def long_video(store: LineageStore) -> None:
    load(store, [{"id": "long", "prompt": LONG_PROMPT}])


def middleware(app: FastAPI, kind: type[Any]) -> Any:
    """The instance of a middleware class in the app's built stack."""
    layer: Any = app.middleware_stack
    while layer is not None:
        if isinstance(layer, kind):
            return layer
        layer = getattr(layer, "app", None)
    raise AssertionError(f"no {kind.__name__} in the stack")


def deep_size(root: object) -> int:
    """Bytes of every object reachable from ``root`` (types, modules and functions aside)."""
    seen: set[int] = set()
    pending = [root]
    total = 0
    while pending:
        item = pending.pop()
        if id(item) in seen or isinstance(
            item, type | types.ModuleType | types.FunctionType | types.MethodType
        ):
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        pending.extend(gc.get_referents(item))
    return total


def held_paddings(minimum: int) -> set[str]:
    """The paddings of the test's queries still referenced anywhere in the process,
    in texts or bytes of at least ``minimum`` characters."""
    gc.collect()
    found: set[str] = set()
    seen: set[int] = set()

    def look(item: object) -> Iterator[object]:
        for referent in gc.get_referents(item):
            if isinstance(referent, str | bytes):
                if len(referent) >= minimum:
                    text = referent if isinstance(referent, str) else referent.decode("latin-1")
                    start = text.find(MARKER)
                    if start >= 0:
                        found.add(text[start : start + len(MARKER) + 4])
            elif not gc.is_tracked(referent) and id(referent) not in seen:
                # Tuples of atoms leave the collector's view: look inside them too.
                seen.add(id(referent))
                yield referent

    pending: list[object] = list(gc.get_objects())
    while pending:
        pending.extend(look(pending.pop()))
    return found


def padded(number: int, size: int) -> str:
    padding = f"# {MARKER}{number:04d} " + "x" * size
    return f'{padding}\n{{ video(id: "grandma") {{ id }} }}'


@pytest.mark.usefixtures("small_tree")
async def test_distinct_large_queries_leave_no_text_behind(app: FastAPI) -> None:
    count, size = 40, 100_000
    async with client_of(app) as http:
        for number in range(count):
            reply = await http.post("/graphql", json={"query": padded(number, size)})
            assert reply.json() == {"data": {"video": {"id": "grandma"}}}
        del reply
        held = held_paddings(size)
    # The last request's text may still sit in a frame or a free list; not many.
    assert len(held) <= 2, f"{len(held)} of {count} distinct {size:,}-character queries kept"


@pytest.mark.usefixtures("long_video")
async def test_the_response_cache_stays_within_its_byte_budget(app: FastAPI) -> None:
    async with client_of(app) as http:
        for number in range(100):  # 100 distinct answers of about 2.5 KB
            query = f'{{ v{number}: video(id: "long") {{ prompt }} }}'
            reply = await http.post("/graphql", json={"query": query})
            assert reply.json()["data"][f"v{number}"]["prompt"] == LONG_PROMPT
        cache = middleware(app, ResponseCache)
        held = deep_size(cache.entries)
        assert held <= 2 * BUDGET, f"the cache holds {held:,} bytes for a budget of {BUDGET:,}"
        assert cache.entries.bytes <= BUDGET
        assert 1 < len(cache.entries) < 100
        assert held <= cache.entries.bytes  # its accounting does not undercount
        last = await http.post("/graphql", json={"query": query})
        assert last.headers["x-lineage-cache"] == "hit"  # the most recent are kept


@pytest.mark.usefixtures("long_video")
async def test_an_answer_over_its_share_of_the_budget_is_not_kept(app: FastAPI) -> None:
    # Two copies of the prompt: about 6 KB, over BUDGET / 16.
    query = '{ a: video(id: "long") { prompt } b: video(id: "long") { prompt } }'
    async with client_of(app) as http:
        first = await http.post("/graphql", json={"query": query})
        assert len(first.content) > BUDGET // 16
        again = await http.post("/graphql", json={"query": query})
        assert again.headers["x-lineage-cache"] == "miss", "a large answer was kept"
        assert again.json() == first.json()
        cache = middleware(app, ResponseCache)
        assert cache.entries.bytes <= BUDGET // 16


async def test_the_document_cache_keeps_small_documents_within_its_budget(
    small_tree: LineageStore, api_settings: ApiSettings
) -> None:
    schema = build_schema(api_settings)
    documents = schema.documents

    async def run(query: str) -> None:
        result = await schema.execute(query, context_value=LineageContext(small_tree, api_settings))
        assert result.errors is None, result.errors

    for number in range(300):  # small distinct documents: cached, the oldest dropped
        await run(f'{{ v{number}: video(id: "grandma") {{ id }} }}')
    assert documents.documents.bytes <= documents.max_bytes
    assert len(documents.documents) == documents.max_entries
    assert len(documents.validated) == documents.max_entries
    kept = list(documents.documents)
    await run(padded(0, 100_000))
    assert list(documents.documents) == kept  # parsed, not kept
    assert deep_size(documents.documents) <= documents.documents.bytes
