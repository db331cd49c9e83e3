"""SQLite's WAL is copied back to the database file by a background thread, not by commits."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from lineage.importing.records import SourcedRecord
from lineage.over_time.engagement import EngagementEvent
from lineage.stores.sqlite import SQLiteStore
from lineage.tree.check import check_store

from .forests import Shape, build_forest


def _store_with_forest(path: Path) -> tuple[SQLiteStore, list[str]]:
    store = SQLiteStore(path)
    records = build_forest([Shape("tree", 200), Shape("star", 60)], seed=3)
    report = store.import_videos(SourcedRecord(r, "test", n) for n, r in enumerate(records, 1))
    assert not report.rejected, report.rejected
    return store, [str(r["id"]) for r in records]


def _engagement(store: SQLiteStore, ids: list[str], batches: int) -> None:
    for number in range(batches):
        events = [EngagementEvent(ids[(number * 7 + k) % len(ids)], 1, 3) for k in range(50)]
        store.record_engagement(events)


def _wal_state(path: Path) -> tuple[int, int]:
    """(frames in the WAL, frames copied back), read by a passive checkpoint of our own."""
    with sqlite3.connect(path) as connection:
        _, frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return frames, copied


def _wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_commits_leave_the_checkpoints_to_the_background_thread(tmp_path: Path) -> None:
    store, ids = _store_with_forest(tmp_path / "c.db")
    statements: list[str] = []
    store._conn().set_trace_callback(statements.append)  # the writing thread's connection
    _engagement(store, ids, 20)

    checkpointer = store._checkpointer
    assert _wait_for(lambda: checkpointer.checkpoints > 0)
    assert not [s for s in statements if "wal_checkpoint" in s]  # none on the writer's connection
    assert store._conn().execute("PRAGMA wal_autocheckpoint").fetchone()[0] > 10_000
    store.close()


def test_sustained_writes_keep_the_wal_bounded_and_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    store, ids = _store_with_forest(path)
    store._conn().execute("PRAGMA wal_autocheckpoint = 64")  # a test-sized bound
    totals_before = store.get_video(ids[0])
    assert totals_before is not None
    _engagement(store, ids, 60)

    assert _wait_for(lambda: store._checkpointer.checkpoints > 0)
    frames, _ = _wal_state(path)
    # Started over: far fewer frames than 60 batches wrote.
    assert frames < 1_000, frames
    store.close()

    reopened = SQLiteStore(path)
    assert check_store(reopened) == []
    first = reopened.get_video(ids[0])
    assert first is not None
    # ids[0] got 1 like and 3 views in every batch that named it.
    named = sum(1 for n in range(60) for k in range(50) if (n * 7 + k) % len(ids) == 0)
    assert first.likes == totals_before.likes + named
    assert first.views == totals_before.views + 3 * named
    reopened.close()


def test_a_reader_on_the_wal_never_holds_up_writers_or_close(tmp_path: Path) -> None:
    path = tmp_path / "read.db"
    store, ids = _store_with_forest(path)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM videos").fetchone()  # holds its WAL snapshot

    def in_time(work: Callable[[], object]) -> None:
        worker = threading.Thread(target=work)
        worker.start()
        worker.join(timeout=20)
        assert not worker.is_alive()

    in_time(lambda: _engagement(store, ids, 20))
    assert _wait_for(lambda: store._checkpointer.checkpoints > 0)
    in_time(store.close)
    reader.execute("COMMIT")
    reader.close()

    reopened = SQLiteStore(path)
    assert check_store(reopened) == []
    reopened.close()


def test_close_stops_the_thread_and_a_reused_store_starts_one(tmp_path: Path) -> None:
    store, ids = _store_with_forest(tmp_path / "stop.db")
    _engagement(store, ids, 3)
    assert _wait_for(lambda: store._checkpointer.checkpoints > 0)
    thread = store._checkpointer._thread
    assert thread is not None
    assert thread.is_alive()
    store.close()
    assert not thread.is_alive()

    # A store used again after close checkpoints again, on a new thread.
    before = store._checkpointer.checkpoints
    _engagement(store, ids, 2)
    assert _wait_for(lambda: store._checkpointer.checkpoints > before)
    store.close()
