"""Ranked reads on Neo4j cost one page, whatever the fan-out (issue 10, item 1).

Every ranked read query runs under ``PROFILE`` against the demo tree, on
``grandma`` (18,000 direct remixes) and on a remix with about 20, and its
total database hits must stay under the same bound, proportional to the
page size. Expanding and sorting all of grandma's remixes costs tens of
thousands of hits, so a query that falls back to it fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import neo4j as driver_module
import pytest

from lineage.demo.tree import DEMO_DIRECT_REMIXES, DEMO_ORIGINAL_ID, demo_records
from lineage.importing.records import SourcedRecord
from lineage.store import VideoOrder
from lineage.stores.neo4j import Neo4jStore
from lineage.stores.neo4j.depth import read_max_generation
from lineage.stores.neo4j.descendants import read_descendant_page
from lineage.stores.neo4j.reads import (
    _Read,
    _read_children,
    _read_children_many,
    _read_group_tops,
    _read_variant_groups,
    _read_variant_groups_with_tops,
)
from lineage.tree.queries import measure_of
from tests.conftest import open_neo4j_store, wipe_neo4j
from tests.neo4j_server import Neo4jServer

pytestmark = pytest.mark.neo4j

PAGE = 20
# Database hits per row of a page (index entry, properties of the video and
# of its edge) and per query; the same for every parent.
HITS_PER_ROW = 40
HITS_PER_QUERY = 100


def bound(rows: int) -> int:
    return HITS_PER_ROW * rows + HITS_PER_QUERY


@pytest.fixture(scope="module")
def demo(neo4j: Neo4jServer) -> Iterator[Neo4jStore]:
    wipe_neo4j(neo4j)
    store = open_neo4j_store(neo4j)
    assert isinstance(store, Neo4jStore)
    report = store.import_videos(
        SourcedRecord(record, "demo", line) for line, record in enumerate(demo_records(), 1)
    )
    assert not report.rejected
    # Plans cached while the database was empty (earlier tests) would scan:
    # Neo4j replans them once its statistics diverge, after a while; a
    # production database does the same as it grows.
    # db.prepareForReplanning resamples the index statistics, waits for the
    # sampling to finish, then clears the query caches: with statistics still
    # those of the empty index, a plan once sought only the parent and
    # filtered the rank (18,001 db hits for NEWEST after a cursor).
    store._driver.execute_query("CALL db.prepareForReplanning(120000)", database_=store.database)
    try:
        yield store
    finally:
        store.close()


def _db_hits(plan: Any) -> int:
    return int(plan.get("dbHits", 0)) + sum(_db_hits(child) for child in plan.get("children", []))


def _plan(plan: Any, depth: int = 0) -> str:
    details = plan.get("args", {}).get("Details", "")
    line = f"{'  ' * depth}{plan['operatorType']} hits={plan.get('dbHits', 0)} {details}"
    return "\n".join([line, *(_plan(child, depth + 1) for child in plan.get("children", []))])


def _profile(store: Neo4jStore, read: _Read[Any]) -> tuple[int, Any, str]:
    with store._driver.session(database=store.database) as session:
        result = session.run("PROFILE " + read.cypher, read.parameters)
        records = list(result)
        summary = result.consume()
    assert summary.profile is not None
    return _db_hits(summary.profile), read.answer(records), _plan(summary.profile)


def _small_parent(store: Neo4jStore) -> str:
    records, _, _ = store._driver.execute_query(
        "MATCH (v:Video) WHERE 18 <= v.direct_remix_count <= 22 RETURN v.id AS id "
        "ORDER BY v.id LIMIT 1",
        database_=store.database,
    )
    return str(records[0]["id"])


def _reads(store: Neo4jStore, parent: str) -> Iterator[tuple[str, int, _Read[Any]]]:
    """(name, rows at most, read) of every ranked read about ``parent``."""
    for order in VideoOrder:
        yield f"remixes {order.name}", PAGE, _read_children(parent, order, PAGE, None)
        first_page = store.children(parent, order, PAGE)
        last = first_page[len(first_page) // 2]
        after = (measure_of(last, order), last.id)
        # Two seeks of a page each, after a cursor.
        yield f"remixes {order.name} after", 2 * PAGE, _read_children(parent, order, PAGE, after)
        yield f"originals {order.name}", PAGE, _read_children(None, order, PAGE, None)
        yield f"children_many {order.name}", PAGE, _read_children_many([parent], order, PAGE)
    groups = store.variant_groups(parent, 5)
    yield "variant groups", 5, _read_variant_groups(parent, 5)
    yield "group tops", len(groups), _read_group_tops([(parent, group.key) for group in groups])
    yield "variant groups with tops", 5, _read_variant_groups_with_tops(parent, 5)


@pytest.mark.parametrize("which", ["grandma", "small"])
def test_every_ranked_read_costs_one_page(demo: Neo4jStore, which: str) -> None:
    parent = DEMO_ORIGINAL_ID if which == "grandma" else _small_parent(demo)
    fan_out = demo.count_children(parent)
    assert fan_out == DEMO_DIRECT_REMIXES if which == "grandma" else 18 <= fan_out <= 22
    costs = {}
    for name, rows, read in _reads(demo, parent):
        hits, answer, plan = _profile(demo, read)
        costs[name] = hits
        assert hits <= bound(rows), f"{name} on {parent}: {hits} db hits > {bound(rows)}\n{plan}"
        if name.startswith("remixes") and not name.endswith("after"):
            order = VideoOrder[name.split()[1]]
            ranked = sorted(answer, key=lambda video: (-measure_of(video, order), video.id))
            assert answer == ranked
            assert len(answer) == min(PAGE, fan_out)
    assert costs


def _descendant_keys(
    store: Neo4jStore, video_id: str, original: bool, skip: int, generation: int | None = None
) -> list[tuple[int, str]]:
    """(generation, id) of a page of a video's derivatives from ``skip``, as the index holds
    them, one generation or all (unprofiled)."""
    label, key, ident = (
        ("Video", "original_id", "id") if original else ("Descent", "ancestor_id", "descendant_id")
    )
    level = "n.generation >= 1" if generation is None else "n.generation = $generation"
    records, _, _ = store._driver.execute_query(
        f"MATCH (n:{label}) WHERE n.{key} = $id AND {level} "
        f"RETURN n.generation AS g, n.{ident} AS id ORDER BY g, id SKIP $skip LIMIT $limit",
        id=video_id,
        skip=skip,
        limit=PAGE + 1,
        generation=generation,
        database_=store.database,
    )
    return [(row["g"], row["id"]) for row in records]


@pytest.mark.parametrize("which", ["grandma", "remix"])
def test_a_descendants_page_costs_the_same_at_the_end_as_at_the_start(
    demo: Neo4jStore, which: str
) -> None:
    # The demo original's 41,640 derivatives, and those of its largest remix
    # (read through the closure): the first page, a page a few items in, and
    # a page just before the end, whole and one generation only; the last
    # generation. Each costs about one page of database hits.
    if which == "grandma":
        video = demo.get_video(DEMO_ORIGINAL_ID)
    else:
        video = demo.children(DEMO_ORIGINAL_ID, VideoOrder.DERIVATIVES, 1)[0]
    assert video is not None
    original = video.parent_id is None
    total = video.derivative_count
    assert total > (40_000 if original else 1_000)
    last_generation = video.generation + video.tree_depth
    # (name, cursor position, generation filter)
    cases: list[tuple[str, int | None, int | None]] = [("start", None, None)]
    for name, at in (("near the start", 3), ("near the end", total - PAGE // 2)):
        cases += [(name, at, None), (f"{name}, its generation", at, -1)]
    cases.append(("last generation", None, last_generation))
    costs = {}
    for name, at, generation in cases:
        following = _descendant_keys(demo, video.id, original, 0 if at is None else at)
        after = None if at is None else following.pop(0)
        if generation == -1:
            assert after is not None
            generation = after[0]
        if generation is not None and after is None:
            following = _descendant_keys(demo, video.id, original, 0, generation)
        expected = [key for key in following if generation is None or key[0] == generation]
        read = read_descendant_page(video.id, original, PAGE, after, generation)
        hits, answer, plan = _profile(demo, read)
        costs[name] = hits
        assert hits <= bound(2 * PAGE), f"{name} of {video.id}: {hits} db hits\n{plan}"
        assert [(v.generation, v.id) for v in answer] == expected[:PAGE], name
    assert costs["near the end"] <= 2 * costs["near the start"] + HITS_PER_QUERY, costs


def test_a_keyset_page_continues_the_ranking_exactly(demo: Neo4jStore) -> None:
    # Walking a few pages of many ties (most remixes have 0 derivatives) by
    # cursor gives the ranking of one long page.
    whole = demo.children(DEMO_ORIGINAL_ID, VideoOrder.DERIVATIVES, 5 * PAGE)
    walked = demo.children(DEMO_ORIGINAL_ID, VideoOrder.DERIVATIVES, PAGE)
    while len(walked) < len(whole):
        last = walked[-1]
        walked += demo.children(
            DEMO_ORIGINAL_ID, VideoOrder.DERIVATIVES, PAGE, (last.derivative_count, last.id)
        )
    assert [video.id for video in walked] == [video.id for video in whole]
    ranked = sorted(whole, key=lambda video: (-video.derivative_count, video.id))
    assert [video.id for video in whole] == [video.id for video in ranked]


def test_the_demo_is_clean_under_lineage_check(demo: Neo4jStore) -> None:
    from lineage.tree.check import check_store

    assert check_store(demo) == []


def test_check_finds_a_rank_key_that_drifted(demo: Neo4jStore, neo4j: Neo4jServer) -> None:
    with driver_module.GraphDatabase.driver(neo4j.uri, auth=(neo4j.user, neo4j.password)) as driver:
        driver.execute_query(
            "MATCH (v:Video {id: $id}) SET v.rank_likes = v.rank_likes + 1",
            id=DEMO_ORIGINAL_ID,
            database_=neo4j.database,
        )
        try:
            from lineage.tree.check import check_store

            names = {(m.video_id, m.aggregate) for m in check_store(demo)}
            assert names == {(DEMO_ORIGINAL_ID, "rank_likes")}
        finally:
            driver.execute_query(
                "MATCH (v:Video {id: $id}) SET v.rank_likes = -v.likes",
                id=DEMO_ORIGINAL_ID,
                database_=neo4j.database,
            )


def test_the_deepest_generation_costs_one_index_entry(demo: Neo4jStore) -> None:
    # The query cost limit reads it for every query that selects ancestors.
    hits, answer, plan = _profile(demo, read_max_generation())
    deepest, _, _ = demo._driver.execute_query(
        "MATCH (v:Video) RETURN max(v.generation) AS g", database_=demo.database
    )
    assert answer == deepest[0]["g"] > 0
    assert hits <= 10, f"{hits} db hits\n{plan}"
