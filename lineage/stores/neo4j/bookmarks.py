"""Causal consistency on a Neo4j cluster: one bookmark relay per store.

On a cluster (or Aura) reads go to followers and read replicas, which apply
the leader's writes a little later. A session given *bookmarks* waits, on
whichever server it lands, until that server has applied the transactions
they name. Every session and ``execute_query`` of a :class:`Neo4jStore` (the
blocking driver, each event loop's async driver, the token store) runs with
a bookmark manager made by the driver (``GraphDatabase.bookmark_manager`` /
``AsyncGraphDatabase.bookmark_manager``) and wired to the store's
:class:`BookmarkRelay`:

* the write manager reports every committed write's bookmarks to the relay
  (:meth:`BookmarkRelay.written`, counted by :attr:`BookmarkRelay.write_seq`);
* every manager is supplied with the latest written bookmarks of this process
  and with those other processes published (:meth:`BookmarkRelay.merge`),
  so a read waits for every write acknowledged before it began.

Between processes the API shares them through Redis (``api/bookmarks.py``);
on a single server (Community, ``bolt://`` or ``neo4j://``) they cost nothing
measurable, and every read already sees every committed write.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import neo4j

__all__ = ["BookmarkRelay"]


class BookmarkRelay:
    """The latest bookmarks of one store: its own writes' and other processes'."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._written: frozenset[str] = frozenset()
        self._remote: frozenset[str] = frozenset()
        # Bumped by each committed write (a publisher compares it with the last it sent).
        self.write_seq = 0
        self.write = neo4j.GraphDatabase.bookmark_manager(
            bookmarks_supplier=self._supply, bookmarks_consumer=self._consume_write
        )
        self.read = neo4j.GraphDatabase.bookmark_manager(bookmarks_supplier=self._supply)

    def async_read(self) -> neo4j.AsyncBookmarkManager:
        """A manager for an async driver's reads (one per event loop)."""
        return neo4j.AsyncGraphDatabase.bookmark_manager(bookmarks_supplier=self._supply)

    def _supply(self) -> neo4j.Bookmarks:
        with self._lock:
            return neo4j.Bookmarks.from_raw_values(self._written | self._remote)

    def _consume_write(self, bookmarks: neo4j.Bookmarks) -> None:
        with self._lock:
            self._written = frozenset(bookmarks.raw_values)
            self.write_seq += 1

    def written(self) -> list[str]:
        """The bookmarks of this process's latest committed writes."""
        with self._lock:
            return sorted(self._written)

    def current(self) -> list[str]:
        """Every bookmark a read made now waits for."""
        with self._lock:
            return sorted(self._written | self._remote)

    def merge(self, bookmarks: Iterable[str]) -> None:
        """Make reads wait for ``bookmarks`` too (the latest of the other processes;
        they replace those merged before, so the set stays one per process)."""
        with self._lock:
            self._remote = frozenset(bookmark for bookmark in bookmarks if bookmark)


class RoutedSessions:
    """Sessions of the store's blocking driver, routed and bookmarked by what they do.

    ``_write_session()``: a WRITE session (to the leader) whose work runs through
    ``execute_write``; ``_read_session()``: a READ session (to a follower or read
    replica) for ``execute_read`` and read-only transactions. Both wait for the
    relay's bookmarks.
    """

    _driver: neo4j.Driver
    database: str
    bookmarks: BookmarkRelay

    def _write_session(self) -> neo4j.Session:
        return self._driver.session(
            database=self.database,
            default_access_mode=neo4j.WRITE_ACCESS,
            bookmark_manager=self.bookmarks.write,
        )

    def _read_session(self, fetch_size: int = 1000) -> neo4j.Session:
        return self._driver.session(
            database=self.database,
            default_access_mode=neo4j.READ_ACCESS,
            bookmark_manager=self.bookmarks.read,
            fetch_size=fetch_size,
        )
