"""Per-field dependencies of cached answers, on both stores.

A video reached through an edge that never changes (its original, its
parent, its ancestors) is noted for the response cache only when the query
asks it for a field that can change (:mod:`api.graphql.dependencies`). So an
answer asking such videos only their ids and generations stays cached
through remixes, engagement and takedowns in the tree, and an answer asking
any one changing field of them misses after the write that changes it: each
case below asks one field of one related video, writes what changes it, and
compares the cached answer with a fresh one. A field wrongly declared fixed
fails its case.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from lineage.over_time.engagement import EngagementEvent
from lineage.rights import policy as rights
from lineage.store import LineageStore
from tests.api.conftest import PROMPT, load

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("small_tree")]

Write = Callable[[LineageStore, str], None]
_made = iter(range(1_000_000))


def _remix(store: LineageStore, parent: str) -> None:
    number = next(_made)
    load(store, [{"id": f"r{number}", "parent_id": parent, "prompt": f"{PROMPT} r{number}"}])


def _engage(store: LineageStore, video: str) -> None:
    store.record_engagement([EngagementEvent(video, likes=1, views=2)])


def _takedown(store: LineageStore, video: str) -> None:
    rights.takedown(store, video, "test", "admin")


def _retitle(store: LineageStore, video: str) -> None:
    number = next(_made)
    row = store.get_video(video)
    assert row is not None
    record = {"id": video, "parent_id": row.parent_id, "prompt": row.prompt,
              "title": f"title {number}", "created_at": f"2024-01-{number % 28 + 1:02d}T00:00:00Z"}  # fmt: skip
    load(store, [record])


# (field of the related video, the write that changes it)
CASES: list[tuple[str, Write]] = [
    ("likes", _engage),
    ("views", _engage),
    ("subtreeLikes", _engage),
    ("subtreeViews", _engage),
    ("derivativeCount", _remix),
    ("directRemixCount", _remix),
    ("generationCounts { generation count }", _remix),
    ("remixes(first: 2) { totalCount }", _remix),
    ("status", _takedown),
    ("prompt", _takedown),
    ("removedReason", _takedown),
    ("title", _retitle),
    ("createdAt", _retitle),
]
# (edge from baby-hippo, the video it leads to that the write hits)
EDGES = [("original", "grandma"), ("parent", "hippo"), ("ancestors", "grandma")]


async def _post(http: httpx.AsyncClient, query: str, **headers: str) -> httpx.Response:
    reply = await http.post("/graphql", json={"query": query}, headers=headers)
    assert reply.status_code == 200, reply.text
    assert "errors" not in reply.json(), reply.text
    return reply


async def _warm(http: httpx.AsyncClient, query: str) -> dict[str, object]:
    """Ask until the answer is cached (a remote store learns what a query reads first)."""
    for _ in range(3):
        reply = await _post(http, query)
        if reply.headers["x-lineage-cache"] == "hit":
            answer: dict[str, object] = reply.json()
            return answer
    raise AssertionError(f"never cached: {query}")


@pytest.mark.parametrize(("edge", "target"), EDGES, ids=[edge for edge, _ in EDGES])
@pytest.mark.parametrize(("field", "write"), CASES, ids=[field.split()[0] for field, _ in CASES])
async def test_a_changing_field_of_a_related_video_keeps_the_answer_exact(
    http: httpx.AsyncClient, store: LineageStore, edge: str, target: str, field: str, write: Write
) -> None:
    query = '{ video(id: "baby-hippo") { id generation %s { id generation %s } } }' % (edge, field)
    before = await _warm(http, query)
    write(store, target)
    cached = (await _post(http, query)).json()
    fresh = (await _post(http, query, **{"cache-control": "no-cache"})).json()
    assert fresh != before, "the write did not change the field"
    assert cached == fresh


async def test_fragments_ask_for_what_they_spread(
    http: httpx.AsyncClient, store: LineageStore
) -> None:
    spread = (
        'query { video(id: "baby-hippo") { ...Edge } } fragment Edge on Video { id parent '
        "{ ...Counted } } fragment Counted on Video { id likes }"
    )
    inline = '{ video(id: "baby-hippo") { ancestors { id ... on Video { views } } } }'
    answers = [await _warm(http, spread), await _warm(http, inline)]
    _engage(store, "hippo")
    for query, before in zip((spread, inline), answers, strict=True):
        fresh = (await _post(http, query, **{"cache-control": "no-cache"})).json()
        assert fresh != before
        assert (await _post(http, query)).json() == fresh


async def test_answers_of_fixed_fields_stay_cached_through_writes_in_the_tree(
    http: httpx.AsyncClient, store: LineageStore
) -> None:
    fixed = [
        '{ video(id: "baby-hippo") { id generation isOriginal original { id } '
        "parent { id generation } ancestors { id generation } } }",
        '{ video(id: "baby-hippo") { ancestors { id generation } } }',
        # The video's own counts, and its original by id: only the video's version.
        '{ video(id: "baby-hippo") { derivativeCount original { id } } }',
    ]
    answers = [await _warm(http, query) for query in fixed]
    _remix(store, "grandma")
    _remix(store, "hippo")
    _engage(store, "hippo")
    _takedown(store, "grandma")
    rights.restore(store, "grandma", "admin", now=datetime.now(UTC))
    for query, before in zip(fixed, answers, strict=True):
        reply = await _post(http, query)
        assert reply.headers["x-lineage-cache"] == "hit", query
        assert reply.json() == before
    _remix(store, "baby-hippo")  # its own count: the third answer misses
    reply = await _post(http, fixed[2])
    assert reply.headers["x-lineage-cache"] == "miss"
    assert reply.json()["data"]["video"]["derivativeCount"] == 1


async def test_a_video_stored_later_empties_a_fixed_answer_about_it(
    http: httpx.AsyncClient, store: LineageStore
) -> None:
    query = '{ video(id: "later") { id generation } }'
    assert (await _warm(http, query))["data"] == {"video": None}
    load(store, [{"id": "later", "parent_id": "hippo", "prompt": PROMPT + " later"}])
    reply = await _post(http, query)
    assert reply.json()["data"] == {"video": {"id": "later", "generation": 2}}
