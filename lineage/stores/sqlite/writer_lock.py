"""Writers to one SQLite file queue on a lock file, and each starts as the last one ends.

SQLite lets one writer at a time into a database; the others find it busy
and poll: its busy handler sleeps 1, 2, 5, 10, 15... ms between tries, so a
writer that arrives while another commits loses several milliseconds after
the lock was freed. Several API workers writing into one viral tree take
turns all the time, and those sleeps were most of each turn.

:class:`WriterQueue` puts the writers of all threads and processes on one
host in a queue instead: an exclusive ``flock`` on a file beside the
database (``<db>-writer``), which the kernel hands to the next waiter the
moment it is released. ``BEGIN IMMEDIATE`` and the busy timeout stay as
they were: they still order writers that do not take this lock (another
program, another host over a network file system).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["WriterQueue"]


class WriterQueue:
    """One writer at a time per database file, across threads and processes.

    Parameters
    ----------
    database : Path
        The SQLite file; the lock file is ``<database>-writer`` beside it.
    """

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + "-writer")
        # Threads of this process queue here first: a flock is held per open
        # file, and the process shares one.
        self._threads = threading.Lock()
        self._fd: int | None = None

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this writer's turn (blocking); the next one's starts on exit."""
        with self._threads:
            fd = self._open()
            if fd is None:  # no lock file possible (read-only directory): SQLite alone orders
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _open(self) -> int | None:
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError:
                return None
        return self._fd

    def close(self) -> None:
        """Close the lock file (waits for a writer in its turn)."""
        with self._threads:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
