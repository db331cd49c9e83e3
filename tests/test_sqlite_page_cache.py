"""A SQLite store's connections, one per thread, share one page-cache budget."""

from __future__ import annotations

import threading
from pathlib import Path

from lineage.importing.records import SourcedRecord
from lineage.stores.sqlite import SQLiteStore
from lineage.stores.sqlite.store import MIN_CACHE_KIB


def test_threads_share_the_page_cache_budget(tmp_path: Path) -> None:
    budget_kib = 8 * 1024
    store = SQLiteStore(tmp_path / "lineage.db", cache_bytes=budget_kib * 1024)
    store.import_videos([SourcedRecord({"id": "o", "prompt": "a cat"})])
    threads = 8
    met = threading.Barrier(threads)
    sizes: dict[int, int] = {}

    def reader(number: int) -> None:
        assert store.get_video("o") is not None  # opens this thread's connection
        met.wait(timeout=30)  # every connection is open
        assert store.get_video("o") is not None  # takes the share of all of them
        (size,) = store._conn().execute("PRAGMA cache_size").fetchone()
        sizes[number] = -size  # negative: KiB

    workers = [threading.Thread(target=reader, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert len(sizes) == threads
    # The main thread's connection (the import) shares the budget too.
    assert sum(sizes.values()) <= budget_kib
    assert all(size >= MIN_CACHE_KIB for size in sizes.values())
    store.close()


def test_a_lone_connection_gets_the_whole_budget(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "lineage.db", cache_bytes=64 * 1024 * 1024)
    (size,) = store._conn().execute("PRAGMA cache_size").fetchone()
    assert -size == 64 * 1024
    store.close()
