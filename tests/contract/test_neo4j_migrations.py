"""A database written before the rank keys existed is migrated when the store opens."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import neo4j as driver_module
import pytest

from lineage.importing.records import SourcedRecord
from lineage.over_time import trending
from lineage.search import search
from lineage.store import LineageStore, VideoOrder
from lineage.tree.check import check_store
from tests.api.conftest import SMALL_TREE, load
from tests.conftest import open_neo4j_store, wipe_neo4j
from tests.neo4j_server import Neo4jServer

pytestmark = pytest.mark.neo4j

_AS_BEFORE = (
    "MATCH (v:Video) REMOVE v.rank_derivatives, v.rank_direct, v.rank_likes, v.rank_views, "
    "v.rank_newest, v.rank_subtree_likes, v.rank_subtree_views, v.variant_key, v.search_text "
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
    unsearchable = _run(neo4j, "MATCH (v:Video) WHERE v.search_text IS NULL RETURN count(v) AS n")
    assert unsearchable[0]["n"] == len(SMALL_TREE)

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
        # Every video has its search text again (check_store verified each one).
        assert [video.id for video in search(migrated, "河马").videos] == ["nainai-1"]
    finally:
        migrated.close()
    again = open_neo4j_store(neo4j)  # idempotent: recorded once, nothing to redo
    again.close()
    names = _run(neo4j, "MATCH (m:Migration) RETURN collect(m.name) AS names")[0]["names"]
    assert sorted(names) == [
        "descendant_closure",
        "rank_keys",
        "search_text",
        "subtree_rank_keys",
        "subtree_totals_and_hours",
        "video_versions",
    ]


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


# A small tree with likes, views and creation times over three hours, one
# remix in 1969 (a negative epoch time) and one without a time.
_TIMED = [
    {"id": "o", "prompt": "a cat", "likes": 1, "views": 10, "created_at": "2025-10-02T09:00:00Z"},
    {"id": "a", "parent_id": "o", "prompt": "a cat at night", "likes": 2, "views": 20,
     "created_at": "2025-10-02T10:15:00Z"},
    {"id": "b", "parent_id": "o", "prompt": "a cat in rain", "likes": 3, "views": 30,
     "created_at": "2025-10-02T10:45:00Z"},
    {"id": "a1", "parent_id": "a", "prompt": "a cat at night, slow", "likes": 4, "views": 40,
     "created_at": "2025-10-02T11:05:00Z"},
    {"id": "a2", "parent_id": "a", "prompt": "a cat at night, fast", "likes": 5, "views": 50,
     "created_at": "1969-12-31T23:30:00Z"},
    {"id": "a11", "parent_id": "a1", "prompt": "a cat at night, slow, red", "likes": 6,
     "views": 60},
    {"id": "p", "prompt": "a dog", "likes": 7, "views": 70},
]  # fmt: skip

# What a database written before the over-time work lacks.
_BEFORE_OVER_TIME = (
    "MATCH (v:Video) REMOVE v.subtree_likes, v.subtree_views, v.rank_subtree_likes, "
    "v.rank_subtree_views WITH count(*) AS videos "
    "MATCH (h:RemixHour) DELETE h WITH count(*) AS hours "
    "MATCH (m:Migration) WHERE m.name IN ['subtree_rank_keys', 'subtree_totals_and_hours'] "
    "DELETE m"
)


def test_opening_the_store_backfills_subtree_totals_and_remix_hours(neo4j: Neo4jServer) -> None:
    wipe_neo4j(neo4j)
    store = open_neo4j_store(neo4j)
    store.import_videos(SourcedRecord(record) for record in _TIMED)
    expected = {
        video.id: (video.subtree_likes, video.subtree_views)
        for video in store.get_videos([r["id"] for r in _TIMED]).values()
    }
    hours = {video_id: store.remix_hours(video_id) for video_id in ("o", "a", "a1")}
    store.close()
    assert expected["o"] == (21, 210)
    assert hours["o"] == [(-1, 1), (488722, 2), (488723, 1)]
    assert hours["a"] == [(-1, 1), (488723, 1)]
    _run(neo4j, _BEFORE_OVER_TIME)
    # Written to by the over-time code before this migration existed: totals
    # that are increments on nothing, and a bucket of an hour without remixes.
    _run(neo4j, "MATCH (v:Video {id: 'a'}) SET v.subtree_likes = 1, v.rank_subtree_likes = -1")
    _run(neo4j, "CREATE (:RemixHour {video_id: 'o', hour: 488730, parent_key: '/', count: 4})")

    migrated = open_neo4j_store(neo4j)
    try:
        assert check_store(migrated) == []
        found = migrated.get_videos(list(expected))
        assert {v.id: (v.subtree_likes, v.subtree_views) for v in found.values()} == expected
        assert {video_id: migrated.remix_hours(video_id) for video_id in hours} == hours
        assert migrated.remix_hours("b") == []
        assert trending.trending_originals(
            migrated, trending.Window.DAY, trending.end_of_day(date(2025, 10, 2))
        ) == [("o", 3)]
        assert migrated.trending("o", 488722, 488723, 5) == [("a", 1)]
        ranked = migrated.children("o", VideoOrder.SUBTREE_VIEWS, 2)
        assert [video.id for video in ranked] == ["a", "b"]
    finally:
        migrated.close()
    names = _run(neo4j, "MATCH (m:Migration) RETURN collect(m.name) AS names")[0]["names"]
    assert "subtree_totals_and_hours" in names


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


def test_migrations_take_each_trees_lock_and_bump_its_version(neo4j: Neo4jServer) -> None:
    """A migration writes a tree's aggregates only while it holds the tree's lock, so it
    cannot interleave with a writer into the tree, and bumps the tree's version (cached
    answers about the tree are invalidated)."""
    wipe_neo4j(neo4j)
    store = open_neo4j_store(neo4j)
    store.import_videos(SourcedRecord(record) for record in _TIMED)
    before = store.tree_versions(["o", "p"])
    videos_before, _ = store.video_versions(["o", "p"])
    store.close()
    _run(neo4j, _BEFORE_OVER_TIME)

    with (
        driver_module.GraphDatabase.driver(neo4j.uri, auth=(neo4j.user, neo4j.password)) as driver,
        driver.session(database=neo4j.database) as session,
    ):
        # A writer holds tree o's lock (as a remix into it does) while the store opens.
        holder = session.begin_transaction()
        holder.run("MATCH (l:TreeLock {original_id: 'o'}) SET l.write_seq = l.write_seq").consume()
        opened: list[object] = []
        opener = threading.Thread(target=lambda: opened.append(open_neo4j_store(neo4j)))
        opener.start()
        opener.join(timeout=5)
        # Tree o's totals wait for its lock: the store has not finished opening.
        assert opener.is_alive()
        assert opened == []
        missing = _run(neo4j, "MATCH (v:Video {id: 'o'}) RETURN v.subtree_likes AS likes")
        assert missing[0]["likes"] is None
        holder.commit()
    opener.join(timeout=120)
    assert not opener.is_alive()
    (migrated,) = opened
    assert isinstance(migrated, LineageStore)
    try:
        assert check_store(migrated) == []
        after = migrated.tree_versions(["o", "p"])
        assert all(int(after[tree]) > int(before[tree]) for tree in ("o", "p"))  # type: ignore[call-overload]
        # The videos' versions too: answers cached per video are invalidated.
        videos_after, _ = migrated.video_versions(["o", "p"])
        assert all(
            int(videos_after[video]) > int(videos_before[video])  # type: ignore[call-overload]
            for video in ("o", "p")
        )
    finally:
        migrated.close()


def test_serve_migrates_once_before_its_workers_start(
    neo4j: Neo4jServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``lineage serve`` on Neo4j opens the store (schema and migrations) before uvicorn
    starts any worker, so workers never migrate while others serve."""
    import uvicorn

    from lineage.cli.main import main

    wipe_neo4j(neo4j)
    store = open_neo4j_store(neo4j)
    store.import_videos(SourcedRecord(record) for record in _TIMED)
    store.close()
    _run(neo4j, _BEFORE_OVER_TIME)
    seen: list[list[str]] = []

    def run(*args: object, **kwargs: object) -> None:
        names = _run(neo4j, "MATCH (m:Migration) RETURN collect(m.name) AS names")[0]["names"]
        seen.append(sorted(names))

    monkeypatch.setattr(uvicorn, "run", run)
    # serve sets these for its workers: monkeypatch puts them back afterwards.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    monkeypatch.setenv("LINEAGE_ACCESS_LOG", "false")
    monkeypatch.setenv("LINEAGE_DB", str(tmp_path / "unused.db"))
    for name, value in {
        "LINEAGE_STORE": "neo4j",
        "NEO4J_URI": neo4j.uri,
        "NEO4J_USER": neo4j.user,
        "NEO4J_PASSWORD": neo4j.password,
        "NEO4J_DATABASE": neo4j.database,
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "--port", "9", "--workers", "2"]) == 0
    assert len(seen) == 1
    assert "subtree_totals_and_hours" in seen[0]
