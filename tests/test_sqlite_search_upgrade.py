"""A SQLite file made with the first version of search's tables opens at the current one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from lineage.importing.records import SourcedRecord
from lineage.search import search
from lineage.search.check import check_search
from lineage.stores.sqlite import SQLiteStore
from lineage.tree.check import check_store

INDEXES = "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%derivatives'"


def _as_first_version(path: Path) -> None:
    """Give a store file the ranking index and search version of the first version."""
    with sqlite3.connect(path) as connection:
        connection.execute("DROP INDEX videos_ranked_by_derivatives")
        connection.execute(
            "CREATE INDEX videos_by_derivatives ON videos (derivative_count DESC, id)"
        )
        connection.execute("UPDATE store_meta SET value = '1' WHERE key = 'search_version'")


def test_a_first_version_file_gets_the_partial_ranking(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    store = SQLiteStore(path)
    records = [{"id": "root", "prompt": "a garden"}] + [
        {"id": f"r{n}", "parent_id": "root" if n < 3 else f"r{n % 3}", "prompt": "garden"}
        for n in range(12)
    ]
    report = store.import_videos(SourcedRecord(r, "test", n) for n, r in enumerate(records, 1))
    assert not report.rejected
    expected = [video.id for video in search(store, "garden", first=50).videos]
    store.close()
    _as_first_version(path)

    store = SQLiteStore(path)
    with sqlite3.connect(path) as connection:
        names = {name for (name,) in connection.execute(INDEXES)}
        (version,) = connection.execute(
            "SELECT value FROM store_meta WHERE key = 'search_version'"
        ).fetchone()
    assert "videos_by_derivatives" not in names
    assert "videos_ranked_by_derivatives" in names
    assert version == "2"
    assert [video.id for video in search(store, "garden", first=50).videos] == expected
    assert len(expected) == 13
    assert check_search(store) == []
    assert check_store(store) == []
    store.close()
