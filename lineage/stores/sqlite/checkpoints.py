"""WAL checkpoints in a background thread, off the writers' path.

In WAL mode SQLite copies committed pages back into the database file at
checkpoints. With automatic checkpoints that work falls on whichever commit
finds the WAL over the threshold: on this project's write batches (an
engagement batch dirties about 1,000 pages) one commit in ten took 150 to
250 ms instead of 40, mostly waiting for the disk.

:class:`BackgroundCheckpointer` runs ``PRAGMA wal_checkpoint(PASSIVE)`` on a
thread of its own, soon after commits and at most once per ``interval``.
A passive checkpoint never blocks readers or writers (SQLite's sqlite3
module releases the GIL while it runs), so writers commit at the speed of
the WAL append alone. The thread's connection never waits for a lock
(``busy_timeout`` 0): a checkpoint that finds one is left to the next.

The WAL file itself starts over only when a writer finds every frame in it
copied back, which steady writes never leave time for: the next commit
always lands before the passive checkpoint of the last one ends. So the
writers' own automatic checkpoint stays on (``wal_autocheckpoint``, set by
the store) and bounds the file: once it holds that many pages, the writer
that commits checkpoints too, which costs it only the frames this thread
has not copied yet and the sync, and the next writer starts the file over.
Durability is unchanged: ``synchronous = NORMAL`` syncs the WAL at every
checkpoint, whoever runs it.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable

__all__ = ["BackgroundCheckpointer"]


class BackgroundCheckpointer:
    """Checkpoints one database's WAL soon after commits, on its own thread.

    Parameters
    ----------
    connect : callable
        Returns the connection this thread checkpoints with (called on the
        thread, once; the thread sets its busy timeout to 0).
    interval : float
        Least time between two checkpoints, in seconds; commits in between
        are covered by the next one.

    Notes
    -----
    The thread starts with the first commit and stops in :meth:`close`,
    which waits for a checkpoint under way. A checkpoint that fails (the
    database busy, a disk error) is left to the next one or to SQLite's
    automatic checkpoint.
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection], interval: float = 0.05) -> None:
        self._connect = connect
        self.interval = interval
        self._committed = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        # Checkpoints run, for tests and diagnostics.
        self.checkpoints = 0

    def committed(self) -> None:
        """Note a commit: a checkpoint follows within ``interval``."""
        if self._thread is None:
            with self._lock:
                if self._thread is None and not self._stopping.is_set():
                    self._thread = threading.Thread(
                        target=self._run, name="sqlite-checkpoint", daemon=True
                    )
                    self._thread.start()
        self._committed.set()

    def close(self) -> None:
        """Stop the thread (after the checkpoint under way, if any).

        A commit after this starts a new one: the store reopens its
        connections as needed, and so does this.
        """
        with self._lock:
            self._stopping.set()
            self._committed.set()
            thread, self._thread = self._thread, None
            if thread is not None:
                thread.join()
            self._stopping.clear()

    def _run(self) -> None:
        connection = self._connect()
        connection.execute("PRAGMA busy_timeout = 0")  # never wait for readers
        while True:
            self._committed.wait()
            if self._stopping.is_set():
                return
            self._committed.clear()
            # A failure is left to the next commit (or SQLite's own checkpoint).
            with contextlib.suppress(sqlite3.Error):
                self._checkpoint(connection)
            # At most one checkpoint per interval: commits meanwhile wait for the next.
            if self._stopping.wait(self.interval):
                return

    def _checkpoint(self, connection: sqlite3.Connection) -> None:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self.checkpoints += 1
