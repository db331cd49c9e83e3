"""A database written by release 0.1.0 opens with today's code, on both stores, and stays exact.

The databases are in ``tests/data/upgrade`` (see its README): a lineage of
nine videos in two trees, engagement, a takedown and a token, written by the
code of commit f10c358. Opening one runs today's schema and migrations on
it; nothing is lost, every aggregate still matches its recomputation, and
the store takes new writes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import neo4j as driver_module
import pytest

from lineage.access.tokens import token_store_for
from lineage.importing.records import SourcedRecord
from lineage.store import LineageStore
from lineage.stores.sqlite import SQLiteStore
from lineage.tree.check import check_store
from tests.conftest import BACKENDS, open_neo4j_store, wipe_neo4j
from tests.neo4j_server import Neo4jServer
from tests.upgrade_fixtures import DATA, load_neo4j, load_sqlite


def _drop_schema(server: Neo4jServer) -> None:
    with driver_module.GraphDatabase.driver(
        server.uri, auth=(server.user, server.password)
    ) as driver:
        names, _, _ = driver.execute_query("SHOW CONSTRAINTS YIELD name", database_=server.database)
        for record in names:
            driver.execute_query(f"DROP CONSTRAINT `{record['name']}`", database_=server.database)
        names, _, _ = driver.execute_query(
            "SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP'", database_=server.database
        )
        for record in names:
            driver.execute_query(f"DROP INDEX `{record['name']}`", database_=server.database)


@pytest.fixture(params=BACKENDS)
def old_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LineageStore]:
    """A store of today's code opened on the 0.1.0 database."""
    if request.param == "sqlite":
        path = tmp_path / "old.db"
        load_sqlite(DATA / "sqlite-0.1.0.sql", path)
        store: LineageStore = SQLiteStore(path)
    else:
        server: Neo4jServer = request.getfixturevalue("neo4j")
        wipe_neo4j(server)
        _drop_schema(server)
        dump = json.loads((DATA / "neo4j-0.1.0.json").read_text(encoding="utf-8"))
        with driver_module.GraphDatabase.driver(
            server.uri, auth=(server.user, server.password)
        ) as driver:
            load_neo4j(driver, server.database, dump)
        store = open_neo4j_store(server)
    yield store
    store.close()


def test_the_old_database_opens_exact_and_whole(old_store: LineageStore) -> None:
    assert old_store.count_videos() == 9
    assert check_store(old_store) == []
    croc = old_store.get_video("croc")
    assert croc is not None
    assert (croc.derivative_count, croc.direct_remix_count, croc.tree_depth) == (5, 3, 3)
    # engagement.jsonl added 4 likes and 50 views to croc-hippo-2, below croc.
    assert (croc.subtree_likes, croc.subtree_views) == (10 + 3 + 1 + 4 + 2, 100 + 40 + 7 + 5 + 50)
    rights = old_store.video_rights(["croc-tank", "croc"])
    assert rights["croc-tank"].status == "REMOVED"
    assert rights["croc-tank"].removed_reason == "copyright claim"
    assert rights["croc"].removed_derivative_count == 1
    assert [token.name for token in token_store_for(old_store).list()] == ["analyst"]


def test_the_old_database_takes_new_writes(old_store: LineageStore) -> None:
    before, _ = old_store.video_versions(["croc", "croc-hippo-3", "croc-tank", "croc-hippo-4"])
    assert before["croc-hippo-4"] is None  # not stored yet; the others have versions
    assert all(isinstance(before[video], int) for video in ("croc", "croc-hippo-3", "croc-tank"))
    report = old_store.import_videos(
        [
            SourcedRecord(
                {
                    "id": "croc-hippo-4",
                    "parent_id": "croc-hippo-3",
                    "prompt": "a grandmother chases a pink hippo out of her garden with a mop",
                    "created_at": "2025-10-05T00:00:00Z",
                },
                "test",
                1,
            )
        ]
    )
    assert report.added == 1
    croc = old_store.get_video("croc")
    assert croc is not None
    assert (croc.derivative_count, croc.tree_depth) == (6, 4)
    assert check_store(old_store) == []
    # The new video's ancestors have new versions; a video beside them does not.
    after, _ = old_store.video_versions(["croc", "croc-hippo-3", "croc-tank", "croc-hippo-4"])
    assert int(after["croc"]) > int(before["croc"])  # type: ignore[call-overload]
    assert int(after["croc-hippo-3"]) > int(before["croc-hippo-3"])  # type: ignore[call-overload]
    assert after["croc-tank"] == before["croc-tank"]
    assert after["croc-hippo-4"] is not None
