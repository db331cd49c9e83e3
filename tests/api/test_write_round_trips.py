"""Bolt queries of a remix batch on Neo4j: two statements, the read-back included.

A small write goes out as two Cypher statements in one transaction
(lineage/stores/neo4j/batch_write.py): everything the planner reads, taking
no lock, then the trees' locks, a check of those reads and every write with
the videos read back. These tests count the statements (the store's
``write_queries_sent``) through the store and through the API's remixVideo,
check that what was written is exact (the same aggregates as SQLite's for
the same input, ``lineage check`` clean), that a change between the reads
and the locks (a takedown, another writer's video) is seen, and that
authenticating costs one query.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import lineage.stores.neo4j.store as neo4j_store_module
from api.core.config import ApiSettings
from api.main import create_app
from lineage.access.tokens import Role
from lineage.importing.records import SourcedRecord
from lineage.rights.policy import REMOVED
from lineage.store import LineageStore
from lineage.stores.neo4j import Neo4jStore
from lineage.stores.neo4j.tokens import Neo4jTokenStore
from lineage.stores.sqlite import SQLiteStore
from lineage.tree.check import check_store
from tests.api.conftest import PROMPT, SMALL_TREE, client_of, load
from tests.conftest import open_neo4j_store, wipe_neo4j
from tests.lineage_snapshot import snapshot
from tests.neo4j_server import Neo4jServer

# The most Bolt queries a batch of remixes into one tree may send.
BATCH_QUERIES = 2

REMIX = (
    "mutation($parent: ID!, $input: VideoInput!) { remixVideo(parentId: $parent, input: $input) "
    "{ child { id generation derivativeCount } parent { id derivativeCount } "
    "promptDiff { variantKey } } }"
)


def _batch(prefix: str) -> list[SourcedRecord]:
    """Six remixes into one tree: of the original, of a remix, and one of a new remix."""
    parents = ["grandma", "hippo", "grandma", "baby-hippo", "giraffe", f"{prefix}-0"]
    return [
        SourcedRecord(
            {
                "id": f"{prefix}-{number}",
                "parent_id": parent,
                "prompt": PROMPT.replace("crocodile", f"owl {number}"),
                "likes": number,
                "views": 10 * number,
            },
            "batch",
            number + 1,
        )
        for number, parent in enumerate(parents)
    ]


@pytest.fixture
def neo4j_store(neo4j: Neo4jServer) -> Iterator[Neo4jStore]:
    wipe_neo4j(neo4j)
    store = open_neo4j_store(neo4j)
    assert isinstance(store, Neo4jStore)
    load(store, SMALL_TREE)
    yield store
    store.close()


def _sqlite_twin(tmp_path: Path, batches: list[list[SourcedRecord]]) -> LineageStore:
    store = SQLiteStore(tmp_path / "twin.db")
    load(store, SMALL_TREE)
    for batch in batches:
        store.import_videos(batch)
    return store


@pytest.mark.neo4j
def test_a_remix_batch_is_two_statements_with_its_read_back(
    neo4j_store: Neo4jStore, tmp_path: Path
) -> None:
    before = neo4j_store.write_queries_sent
    report, stored = neo4j_store.import_and_read(_batch("owl"))
    assert neo4j_store.write_queries_sent - before <= BATCH_QUERIES
    assert neo4j_store.stale_replans == 0
    assert report.added == 6
    assert not report.rejected
    # The read-back is the videos and their parents as committed.
    named = [f"owl-{n}" for n in range(6)] + ["grandma", "hippo", "baby-hippo", "giraffe"]
    assert stored == neo4j_store.get_videos(named)
    assert stored["owl-5"].generation == 2
    assert stored["owl-0"].derivative_count == 1
    # A second batch onto the first: the same two statements.
    before = neo4j_store.write_queries_sent
    neo4j_store.import_and_read(_batch("emu"))
    assert neo4j_store.write_queries_sent - before <= BATCH_QUERIES
    twin = _sqlite_twin(tmp_path, [_batch("owl"), _batch("emu")])
    try:
        assert snapshot(neo4j_store) == snapshot(twin)
    finally:
        twin.close()
    assert check_store(neo4j_store) == []


@pytest.mark.neo4j
def test_a_refused_remix_is_refused_alone_in_the_same_two_statements(
    neo4j_store: Neo4jStore, tmp_path: Path
) -> None:
    batch = _batch("owl")
    bad = SourcedRecord({"id": "lost", "parent_id": "nowhere", "prompt": PROMPT}, "batch", 7)
    before = neo4j_store.write_queries_sent
    report, stored = neo4j_store.import_and_read([*batch, bad])
    assert neo4j_store.write_queries_sent - before <= BATCH_QUERIES
    assert report.added == 6
    assert [(r.line, r.code) for r in report.rejected] == [(7, "NOT_FOUND")]
    assert "lost" not in stored
    assert neo4j_store.get_video("lost") is None
    twin = _sqlite_twin(tmp_path, [batch])
    try:
        assert snapshot(neo4j_store) == snapshot(twin)
    finally:
        twin.close()
    assert check_store(neo4j_store) == []


@pytest.mark.neo4j
def test_every_changed_video_gets_a_new_version(neo4j_store: Neo4jStore) -> None:
    def versions() -> dict[str, Any]:
        with neo4j_store.driver.session() as session:
            return {
                row["id"]: row["version"]
                for row in session.run("MATCH (v:Video) RETURN v.id AS id, v.version AS version")
            }

    before = versions()
    neo4j_store.import_and_read(
        [SourcedRecord({"id": "owl", "parent_id": "baby-hippo", "prompt": PROMPT}, "b", 1)]
    )
    after = versions()
    assert after["owl"] >= 1
    # Every ancestor's aggregates changed (each statement that changes a row
    # bumps it, so a version may move by more than one); the other videos did not.
    for video_id in ("baby-hippo", "hippo", "grandma"):
        assert after[video_id] > (before[video_id] or 0)
    for video_id in ("giraffe", "tank"):
        assert after[video_id] == before[video_id]


@pytest.mark.neo4j
@pytest.mark.anyio
async def test_remix_through_the_api_costs_two_write_queries_and_one_token_read(
    neo4j_store: Neo4jStore,
) -> None:
    tokens = Neo4jTokenStore(
        neo4j_store.driver,
        neo4j_store.database,
        neo4j_store.bookmarks,
        async_read=neo4j_store.async_reads.read_rows,  # as the API's own token store
    )
    token = tokens.create("writer", Role.WRITER)
    app = create_app(ApiSettings(), store=neo4j_store)
    async with app.router.lifespan_context(app), client_of(app, token) as http:
        app.state.tokens = tokens

        async def remix(number: int) -> tuple[dict[str, Any], int, int, int]:
            reads, writes, lookups = (
                neo4j_store.async_reads.queries_sent,
                neo4j_store.write_queries_sent,
                tokens.reads_sent,
            )
            response = await http.post(
                "/graphql",
                json={
                    "query": REMIX,
                    "variables": {
                        "parent": "hippo",
                        "input": {"id": f"api-{number}", "prompt": PROMPT + f" {number}"},
                    },
                },
            )
            body = response.json()
            assert response.status_code == 200, body
            assert "errors" not in body, body
            return (
                body["data"]["remixVideo"],
                neo4j_store.async_reads.queries_sent - reads,
                neo4j_store.write_queries_sent - writes,
                tokens.reads_sent - lookups,
            )

        await remix(0)  # the first remix of a parent reads it, to find its tree
        data, reads, writes, lookups = await remix(1)
    assert writes <= BATCH_QUERIES
    assert reads == 0  # the answer is the write's own read-back
    assert lookups == 1
    assert data["child"] == {"id": "api-1", "generation": 2, "derivativeCount": 0}
    assert data["parent"]["id"] == "hippo"
    assert data["parent"]["derivativeCount"] == neo4j_store.get_video("hippo").derivative_count  # type: ignore[union-attr]


def _between_reads_and_locks(monkeypatch: pytest.MonkeyPatch, change: Any) -> list[bool]:
    """Run ``change()`` (in its own transaction) once, right after a write's unlocked
    reads; the list records each read, True for the one ``change`` followed."""
    reads: list[bool] = []
    read_named = neo4j_store_module.read_named

    def read_then_change(tx: Any, records: Any) -> Any:
        prefetched = read_named(tx, records)
        reads.append(not reads)
        if len(reads) == 1:
            change()
        return prefetched

    monkeypatch.setattr(neo4j_store_module, "read_named", read_then_change)
    return reads


@pytest.mark.neo4j
def test_a_takedown_between_the_reads_and_the_locks_refuses_the_remix(
    neo4j_store: Neo4jStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    reads = _between_reads_and_locks(
        monkeypatch, lambda: neo4j_store.set_status("hippo", REMOVED, "dmca", "admin", at)
    )
    remix = SourcedRecord({"id": "late", "parent_id": "hippo", "prompt": PROMPT}, "b", 1)
    other = SourcedRecord({"id": "fine", "parent_id": "giraffe", "prompt": PROMPT}, "b", 2)
    report, stored = neo4j_store.import_and_read([remix, other])
    # The write saw its reads go stale and planned again under the locks.
    assert reads == [True]
    assert neo4j_store.stale_replans == 1
    assert [(r.line, r.code) for r in report.rejected] == [(1, "FORBIDDEN")]
    assert neo4j_store.get_video("late") is None
    assert stored["fine"].parent_id == "giraffe"
    assert check_store(neo4j_store) == []


@pytest.mark.neo4j
def test_a_video_written_between_the_reads_and_the_locks_is_stored_once(
    neo4j_store: Neo4jStore, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    twin_record = SourcedRecord({"id": "twin", "parent_id": "hippo", "prompt": PROMPT}, "o", 1)
    _between_reads_and_locks(monkeypatch, lambda: neo4j_store.import_videos([twin_record]))
    report, stored = neo4j_store.import_and_read(
        [
            SourcedRecord({"id": "twin", "parent_id": "hippo", "prompt": PROMPT}, "b", 1),
            SourcedRecord({"id": "owl", "parent_id": "twin", "prompt": PROMPT + " owl"}, "b", 2),
        ]
    )
    assert not report.rejected
    assert report.added == 1  # the twin was stored by the other writer
    assert neo4j_store.stale_replans == 1
    assert stored["owl"].parent_id == "twin"
    twin = _sqlite_twin(tmp_path, [[twin_record]])
    try:
        twin.import_videos(
            [SourcedRecord({"id": "owl", "parent_id": "twin", "prompt": PROMPT + " owl"}, "b", 1)]
        )
        assert snapshot(neo4j_store) == snapshot(twin)
    finally:
        twin.close()
    assert check_store(neo4j_store) == []
