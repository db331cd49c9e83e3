"""Large SQLite imports build their secondary indexes once, after the writes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lineage.importing.records import SourcedRecord
from lineage.stores.sqlite import SQLiteStore
from lineage.stores.sqlite import bulk as sqlite_bulk
from lineage.stores.sqlite import descendants as sqlite_descendants
from lineage.tree.check import check_store

from .forests import Record, Reference, Shape, build_forest
from .lineage_snapshot import assert_matches_reference

INDEXES = "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"


def _import(store: SQLiteStore, records: list[Record]) -> None:
    report = store.import_videos(SourcedRecord(r, "test", n) for n, r in enumerate(records, 1))
    assert not report.rejected, report.rejected


def _indexes(path: Path) -> list[tuple[str, str | None]]:
    with sqlite3.connect(path) as connection:
        return connection.execute(INDEXES).fetchall()


def _plan(path: Path, sql: str) -> str:
    with sqlite3.connect(path) as connection:
        return " ".join(row[-1] for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}"))


@pytest.fixture
def small_bulk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a test-sized import take the bulk path."""
    monkeypatch.setattr(sqlite_bulk, "BULK_MIN_NEW_VIDEOS", 10)


def test_a_first_load_rebuilds_every_index_and_the_answers_are_exact(
    tmp_path: Path, small_bulk: None
) -> None:
    path = tmp_path / "bulk.db"
    store = SQLiteStore(path)
    before = _indexes(path)
    statements: list[str] = []
    store._conn().set_trace_callback(statements.append)  # the importing thread's connection

    records = build_forest([Shape("tree", 120), Shape("star", 40), Shape("chain", 30)], seed=5)
    _import(store, records)

    dropped = [sql for sql in statements if sql.startswith("DROP INDEX")]
    # The base indexes, the originals-by-depth one and four of search's: on each
    # first load every one is dropped and built again after the rows.
    assert len(dropped) == 10, dropped
    assert _indexes(path) == before
    assert_matches_reference(store, Reference(records))
    assert "videos_by_parent_derivatives" in _plan(
        path, "SELECT id FROM videos WHERE parent_id = 'c0-0' ORDER BY derivative_count DESC, id"
    )
    store.close()


def test_a_failed_bulk_import_keeps_the_indexes_and_nothing_of_it(
    tmp_path: Path, small_bulk: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "failed.db"
    store = SQLiteStore(path)
    _import(store, build_forest([Shape("star", 5)], seed=1))
    before = _indexes(path)

    def fail_after_the_rows(*args: object) -> None:
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(sqlite_descendants, "write_closure", fail_after_the_rows)
    records = build_forest([Shape("tree", 60), Shape("star", 30)], seed=2)
    for record in records:
        record["id"] = "new-" + record["id"]
        if record["parent_id"]:
            record["parent_id"] = "new-" + record["parent_id"]
    with pytest.raises(RuntimeError, match="the disk went away"):
        _import(store, records)
    assert _indexes(path) == before
    assert store.count_videos() == 5
    assert check_store(store) == []
    store.close()


def test_a_small_import_into_a_large_store_keeps_its_indexes(
    tmp_path: Path, small_bulk: None
) -> None:
    path = tmp_path / "grown.db"
    store = SQLiteStore(path)
    _import(store, build_forest([Shape("tree", 100)], seed=3))
    with sqlite3.connect(path) as connection:
        assert not sqlite_bulk.rebuild_is_cheaper(connection, 50)  # 50 new onto 100 stored
        assert sqlite_bulk.rebuild_is_cheaper(connection, 100)
        assert not sqlite_bulk.rebuild_is_cheaper(connection, 9)  # below the bulk minimum
