"""Bolt round trips of the headline lineage query on Neo4j, and the waves that batch them.

The reads one wave of resolvers asks for go out as one Cypher query
(lineage/stores/neo4j/waves.py); these tests count the queries the headline
query sends, check that batched reads answer exactly what each read
answers alone, and that a wave holds one request's reads only, in an order
that does not depend on which resolver asked first. The Neo4j tests share one small tree (module scope).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from api.core.config import ApiSettings
from api.main import create_app
from lineage.store import LineageStore, VideoOrder
from lineage.stores.neo4j import reads
from lineage.stores.neo4j.reads import _Read
from lineage.stores.neo4j.rights import read_video_rights
from lineage.stores.neo4j.versions import read_tree_versions
from lineage.stores.neo4j.waves import WaveBatcher, columns_of, combine
from lineage.stores.read_scope import read_scope
from lineage.stores.sqlite import SQLiteStore
from tests.api.conftest import PROMPT, client_of, load
from tests.conftest import open_neo4j_store, wipe_neo4j
from tests.neo4j_server import Neo4jServer

# The headline query of benchmarks/bench_scale.py.
HEADLINE = (
    '{ video(id: "grandma") { derivativeCount treeDepth generationCounts { generation count } '
    "topVariants(limit: 10) { child { id derivativeCount } promptDiff { summary variantKey } } "
    "variantGroups(limit: 5) { key remixCount reach top { child { id } } } } }"
)
# The Bolt queries it costs: the video; then its generation counts, first page
# of remixes and variant groups with their tops, together; then the rights of
# the remixes whose diffs' words it shows (which need the page first).
HEADLINE_QUERIES = 3


def _tree() -> list[dict[str, Any]]:
    """grandma with 12 remixes in 5 variant groups, 3 generations below."""
    records: list[dict[str, Any]] = [{"id": "grandma", "prompt": PROMPT}]
    animals = ["hippo", "hippo", "hippo", "giraffe", "giraffe", "tank", "cat", "dog"]
    animals += ["cat", "hippo", "owl", "owl"]
    for number, animal in enumerate(animals):
        child = f"r{number}"
        records.append(
            {"id": child, "parent_id": "grandma", "prompt": PROMPT.replace("crocodile", animal)}
        )
        for below in range(number % 3):
            records.append(
                {
                    "id": f"{child}-{below}",
                    "parent_id": child,
                    "prompt": PROMPT.replace("crocodile", f"{animal} {below}"),
                }
            )
    records.append({"id": "deep", "parent_id": "r2-1", "prompt": PROMPT + " at night"})
    records.append({"id": "nainai", "prompt": "奶奶拿着扫帚把鳄鱼赶出院子"})
    return records


@pytest.fixture(scope="module")
def neo4j_tree(neo4j: Neo4jServer) -> Iterator[LineageStore]:
    wipe_neo4j(neo4j)
    store = open_neo4j_store(neo4j)
    load(store, _tree())
    yield store
    store.close()


async def _answer(store: LineageStore, query: str) -> tuple[Any, int]:
    """The data of ``query`` through the app (response cache bypassed), and the
    read queries the store's async reads sent for it."""
    app: FastAPI = create_app(ApiSettings(), store=store)
    async with app.router.lifespan_context(app), client_of(app) as http:
        reads_of = getattr(store, "async_reads", None)
        before = reads_of.queries_sent if reads_of is not None else 0
        response = await http.post(
            "/graphql", json={"query": query}, headers={"cache-control": "no-cache"}
        )
        sent = (reads_of.queries_sent if reads_of is not None else 0) - before
        body = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body
        return body["data"], sent


@pytest.mark.neo4j
@pytest.mark.anyio
async def test_headline_query_costs_a_constant_number_of_bolt_queries(
    neo4j_tree: LineageStore, tmp_path: Path
) -> None:
    data, sent = await _answer(neo4j_tree, HEADLINE)
    assert sent == HEADLINE_QUERIES
    video = data["video"]
    assert video["derivativeCount"] == len(_tree()) - 2
    assert len(video["topVariants"]) == 10
    assert all(group["top"]["child"]["id"] for group in video["variantGroups"])
    # The same answer as SQLite's for the same tree.
    sqlite = SQLiteStore(tmp_path / "same.db")
    try:
        load(sqlite, _tree())
        expected, _ = await _answer(sqlite, HEADLINE)
    finally:
        sqlite.close()
    assert data == expected
    # The number does not grow with what the lists hold: all 12 remixes, same waves.
    wide = HEADLINE.replace("limit: 10", "limit: 12").replace("limit: 5", "limit: 8")
    _, sent_wide = await _answer(neo4j_tree, wide)
    assert sent_wide == HEADLINE_QUERIES


def _every_read() -> list[_Read[Any]]:
    order = VideoOrder.DERIVATIVES
    return [
        reads._read_videos(["grandma", "r1", "missing"]),
        reads._read_lineage_path("deep"),
        reads._read_generation_counts_many(["grandma", "r0"]),
        reads._read_variant_groups("grandma", 5),
        reads._read_variant_groups_with_tops("grandma", 5),
        reads._read_group_tops([("grandma", "crocodile→hippo"), ("grandma", "crocodile→owl")]),
        reads._read_children("grandma", order, 4, None),
        reads._read_children("grandma", order, 4, (1, "r1")),
        reads._read_children(None, order, 5, None),
        reads._read_children_many(["grandma", "r2", "nainai"], VideoOrder.DIRECT_REMIXES, 3),
        reads._read_count_children(None),
        reads._read_count_children("grandma"),
        read_tree_versions(["grandma", "nainai", "*"]),
        read_video_rights(["grandma", "r1", "missing"]),
    ]


def test_every_read_has_plain_columns() -> None:
    for read in _every_read():
        assert columns_of(read.cypher) is not None, read.cypher
    assert columns_of("MATCH (v) RETURN v.id, v.prompt") is None  # unnamed: sent alone
    assert columns_of("RETURN [x IN $a | x] AS a, {b: 1} AS b ORDER BY a LIMIT 2") == ("a", "b")
    cypher, parameters = combine(
        [_Read("RETURN $id AS id", {"id": 1}, list), _Read("RETURN $id AS n", {"id": 2}, list)]
    )
    assert parameters == {"q0_id": 1, "q1_id": 2}
    assert "$q0_id AS id" in cypher
    assert "$q1_id AS n" in cypher


@pytest.mark.neo4j
@pytest.mark.anyio
async def test_reads_of_one_wave_answer_as_each_alone(neo4j_tree: LineageStore) -> None:
    async_reads: Any = getattr(neo4j_tree, "async_reads")  # noqa: B009
    every = _every_read()
    alone = [neo4j_tree._read(read) for read in every]  # type: ignore[attr-defined]
    before = async_reads.queries_sent
    together = await asyncio.gather(*(async_reads._read(read) for read in every))
    assert async_reads.queries_sent - before == 1
    assert together == alone
    # A read that fails fails alone; the others of its wave still answer.
    broken = _Read("MATCH (v:Video) RETURN v.id AS id ORDER BY nonsense(", {}, list)
    before = async_reads.queries_sent
    results = await asyncio.gather(
        async_reads._read(every[0]), async_reads._read(broken), return_exceptions=True
    )
    assert results[0] == alone[0]
    assert isinstance(results[1], Exception)
    assert async_reads.queries_sent - before == 3  # the wave, then each read alone


@pytest.mark.neo4j
@pytest.mark.anyio
async def test_waves_keep_each_scope_apart(neo4j_tree: LineageStore) -> None:
    async_reads: Any = getattr(neo4j_tree, "async_reads")  # noqa: B009
    every = _every_read()
    alone = [neo4j_tree._read(read) for read in every]  # type: ignore[attr-defined]

    async def in_scope(asked: list[_Read[Any]]) -> list[Any]:
        with read_scope():
            return list(await asyncio.gather(*(async_reads._read(read) for read in asked)))

    before = async_reads.queries_sent
    first, second = await asyncio.gather(in_scope(every[:6]), in_scope(every[6:]))
    # One query per scope, though both asked in the same turns of the loop.
    assert async_reads.queries_sent - before == 2
    assert first + second == alone


@pytest.mark.neo4j
@pytest.mark.anyio
async def test_a_wave_has_one_text_whatever_the_order_asked(neo4j_tree: LineageStore) -> None:
    async_reads: Any = getattr(neo4j_tree, "async_reads")  # noqa: B009
    texts: list[str] = []

    async def send(cypher: str, parameters: dict[str, Any]) -> Any:
        texts.append(cypher)
        return await async_reads._send(cypher, parameters)

    batcher = WaveBatcher(send)
    every = _every_read()
    alone = [neo4j_tree._read(read) for read in every]  # type: ignore[attr-defined]
    forward = await asyncio.gather(*(batcher.read(read) for read in every))
    backward = await asyncio.gather(*(batcher.read(read) for read in reversed(every)))
    assert len(texts) == 2
    assert texts[0] == texts[1]
    assert list(forward) == alone
    assert list(backward) == alone[::-1]


@pytest.mark.neo4j
@pytest.mark.anyio
async def test_concurrent_requests_send_their_own_waves(neo4j_tree: LineageStore) -> None:
    # Each request's waves as if it were alone: the texts (and so the plans)
    # of one request do not depend on what the others ask at the same time.
    app: FastAPI = create_app(ApiSettings(), store=neo4j_tree)
    reads_of: Any = getattr(neo4j_tree, "async_reads")  # noqa: B009
    async with app.router.lifespan_context(app), client_of(app) as http:
        before = reads_of.queries_sent
        answers = await asyncio.gather(
            *(
                http.post(
                    "/graphql", json={"query": HEADLINE}, headers={"cache-control": "no-cache"}
                )
                for _ in range(4)
            )
        )
        sent = reads_of.queries_sent - before
    assert all(reply.status_code == 200 and "errors" not in reply.json() for reply in answers)
    assert len({reply.text for reply in answers}) == 1
    assert sent == 4 * HEADLINE_QUERIES
