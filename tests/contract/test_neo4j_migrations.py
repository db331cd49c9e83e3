"""A database written before the rank keys existed is migrated when the store opens."""

from __future__ import annotations

import neo4j as driver_module
import pytest

from lineage.check import check_store
from lineage.store import VideoOrder
from tests.api.conftest import SMALL_TREE, load
from tests.conftest import open_neo4j_store, wipe_neo4j
from tests.neo4j_server import Neo4jServer

pytestmark = pytest.mark.neo4j

_AS_BEFORE = (
    "MATCH (v:Video) REMOVE v.rank_derivatives, v.rank_direct, v.rank_likes, v.rank_views, "
    "v.rank_newest, v.rank_subtree_likes, v.rank_subtree_views, v.variant_key "
    "WITH count(*) AS videos MATCH (g:VariantGroup) REMOVE g.rank_reach "
    "WITH count(*) AS groups MATCH (d:Descent) DELETE d "
    "WITH count(*) AS descents MATCH (m:Migration) DELETE m"
)


def _run(server: Neo4jServer, cypher: str) -> list[driver_module.Record]:
    with driver_module.GraphDatabase.driver(
        server.uri, auth=(server.user, server.password)
    ) as driver:
        records, _, _ = driver.execute_query(cypher, database_=server.database)
    return records


def test_opening_the_store_gives_old_videos_their_rank_keys(neo4j: Neo4jServer) -> None:
    wipe_neo4j(neo4j)
    store = open_neo4j_store(neo4j)
    load(store, SMALL_TREE)
    store.close()
    _run(neo4j, _AS_BEFORE)
    stripped = _run(neo4j, "MATCH (v:Video) WHERE v.rank_derivatives IS NULL RETURN count(v) AS n")
    assert stripped[0]["n"] == len(SMALL_TREE)
    assert _run(neo4j, "MATCH (d:Descent) RETURN count(d) AS n")[0]["n"] == 0

    migrated = open_neo4j_store(neo4j)
    try:
        assert check_store(migrated) == []
        top = migrated.children("grandma", VideoOrder.DERIVATIVES, 2)
        assert [video.id for video in top] == ["hippo", "giraffe"]
        tops = migrated.group_tops([("grandma", "crocodile→hippo")])
        assert tops[("grandma", "crocodile→hippo")].id == "hippo"
        # The descendant closure is back (check_store above verifies every row).
        below_hippo = migrated.descendant_page("hippo", False, 5)
        assert [video.id for video in below_hippo] == ["baby-hippo"]
    finally:
        migrated.close()
    again = open_neo4j_store(neo4j)  # idempotent: recorded once, nothing to redo
    again.close()
    names = _run(neo4j, "MATCH (m:Migration) RETURN collect(m.name) AS names")[0]["names"]
    assert sorted(names) == ["descendant_closure", "rank_keys", "subtree_rank_keys"]


def test_opening_the_store_gives_old_videos_their_subtree_rank_keys(neo4j: Neo4jServer) -> None:
    wipe_neo4j(neo4j)
    store = open_neo4j_store(neo4j)
    load(store, SMALL_TREE)
    expected = [v.id for v in store.children("grandma", VideoOrder.SUBTREE_VIEWS, 3)]
    store.close()
    # A database migrated for rank keys before the subtree orders had theirs.
    _run(
        neo4j,
        "MATCH (v:Video) REMOVE v.rank_subtree_likes, v.rank_subtree_views "
        "WITH count(*) AS videos MATCH (m:Migration {name: 'subtree_rank_keys'}) DELETE m",
    )
    migrated = open_neo4j_store(neo4j)
    try:
        assert check_store(migrated) == []
        top = migrated.children("grandma", VideoOrder.SUBTREE_VIEWS, 3)
        assert [video.id for video in top] == expected
        assert len(expected) >= 2
    finally:
        migrated.close()


def test_check_reports_missing_rank_keys(neo4j: Neo4jServer) -> None:
    wipe_neo4j(neo4j)
    store = open_neo4j_store(neo4j)
    try:
        load(store, SMALL_TREE)
        _run(neo4j, "MATCH (v:Video {id: 'hippo'}) REMOVE v.rank_views, v.variant_key")
        found = {(m.video_id, m.aggregate) for m in check_store(store)}
        assert found == {("hippo", "rank_views"), ("hippo", "variant_key")}
    finally:
        store.close()
