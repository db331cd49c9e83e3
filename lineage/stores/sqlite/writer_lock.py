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

A writer waits at most ``timeout`` seconds (the busy timeout's 30 s) for
its turn, as it would for SQLite's own lock: behind a stuck writer the
others fail with :class:`~lineage.errors.StoreUnavailable` instead of
hanging for ever. An uncontended turn is one non-blocking ``flock``; a
contended one waits in a helper thread, so the kernel still hands the lock
straight to it, and a turn given up on is released as soon as it comes.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lineage.errors import StoreUnavailable

__all__ = ["DEFAULT_TIMEOUT_S", "WriterQueue"]

# As long as SQLite's busy timeout (PRAGMA busy_timeout = 30000).
DEFAULT_TIMEOUT_S = 30.0


class WriterQueue:
    """One writer at a time per database file, across threads and processes.

    Parameters
    ----------
    database : Path
        The SQLite file; the lock file is ``<database>-writer`` beside it.
    timeout : float
        Seconds a writer waits for its turn before it gives up.
    """

    def __init__(self, database: Path, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.path = database.with_name(database.name + "-writer")
        self.timeout = timeout
        # Threads of this process queue here first: a flock is held per open
        # file, and the process shares one.
        self._threads = threading.Lock()
        self._fd: int | None = None

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this writer's turn; the next one's starts on exit.

        Raises
        ------
        StoreUnavailable
            When the turn has not come within ``timeout`` seconds.
        """
        if not self._threads.acquire(timeout=self.timeout):
            raise self._timed_out()
        try:
            fd = self._open()
            if fd is None:  # no lock file possible (read-only directory): SQLite alone orders
                yield
                return
            self._lock_file(fd)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _lock_file(self, fd: int) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        # Another process writes: wait for the kernel to hand the lock over, in
        # a thread, so that this writer can stop waiting.
        state = {"given_up": False, "held": False}
        guard = threading.Lock()

        def wait() -> None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with guard:
                if state["given_up"]:
                    # Nobody waits any more: pass the turn on, and drop the
                    # file description that later turns no longer use.
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    os.close(fd)
                else:
                    state["held"] = True

        waiter = threading.Thread(target=wait, name="sqlite-writer-turn", daemon=True)
        waiter.start()
        waiter.join(self.timeout)
        with guard:
            if state["held"]:
                return
            state["given_up"] = True
        # The waiter still blocks on this file description: later turns open
        # their own (a lock held through it would be shared with the waiter).
        self._fd = None
        raise self._timed_out()

    def _timed_out(self) -> StoreUnavailable:
        return StoreUnavailable(
            f"another writer has held the write lock of {str(self.path)[: -len('-writer')]!r} "
            f"for over {self.timeout:g} s; try again later"
        )

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
