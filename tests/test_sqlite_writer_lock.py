"""The SQLite writers' queue: a writer behind a stuck one gives up after the timeout."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

import pytest

from lineage.errors import StoreUnavailable
from lineage.importing.records import SourcedRecord
from lineage.stores.sqlite import SQLiteStore
from lineage.stores.sqlite.writer_lock import WriterQueue


def _hold(path: Path) -> int:
    """Take the writers' lock as another process's stuck writer would (its own file)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_a_turn_behind_a_stuck_writer_times_out_with_a_clear_error(tmp_path: Path) -> None:
    queue = WriterQueue(tmp_path / "lineage.db", timeout=0.5)
    held = _hold(queue.path)
    started = time.monotonic()
    with (
        pytest.raises(StoreUnavailable, match=r"held the write lock .* for over 0.5 s"),
        queue.turn(),
    ):
        pass
    assert 0.4 < time.monotonic() - started < 10
    # Once the stuck writer is gone, the next turn comes at once.
    fcntl.flock(held, fcntl.LOCK_UN)
    os.close(held)
    with queue.turn():
        pass
    queue.close()


def test_a_turn_given_up_on_is_passed_on(tmp_path: Path) -> None:
    queue = WriterQueue(tmp_path / "lineage.db", timeout=0.3)
    held = _hold(queue.path)
    with pytest.raises(StoreUnavailable), queue.turn():
        pass
    fcntl.flock(held, fcntl.LOCK_UN)
    os.close(held)
    # The abandoned waiter takes the lock and passes it on: a third party gets it.
    other = os.open(queue.path, os.O_RDWR)
    deadline = time.monotonic() + 10
    while True:
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            assert time.monotonic() < deadline, "the abandoned turn was never passed on"
            time.sleep(0.01)
    fcntl.flock(other, fcntl.LOCK_UN)
    os.close(other)
    with queue.turn():
        pass
    queue.close()


def test_a_store_write_behind_a_stuck_writer_fails_and_loses_nothing(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "lineage.db")
    store._writers.timeout = 0.5
    store.import_videos([SourcedRecord({"id": "o", "prompt": "a cat"})])
    held = _hold(store._writers.path)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            store.import_videos([SourcedRecord({"id": "r", "parent_id": "o", "prompt": "a dog"})])
        except BaseException as error:
            errors.append(error)

    writer = threading.Thread(target=write)
    writer.start()
    writer.join(timeout=20)
    assert not writer.is_alive(), "the writer hung behind the stuck one"
    assert [type(error) for error in errors] == [StoreUnavailable]
    assert store.get_video("r") is None
    fcntl.flock(held, fcntl.LOCK_UN)
    os.close(held)
    store.import_videos([SourcedRecord({"id": "r", "parent_id": "o", "prompt": "a dog"})])
    original = store.get_video("o")
    assert original is not None
    assert original.derivative_count == 1
    store.close()
