"""The embedded default store: one SQLite file, WAL mode, foreign keys on.

Every import runs in one ``BEGIN IMMEDIATE`` transaction: the planner reads
the store and the plan is written under the same write lock, so concurrent
writers (threads or processes) serialize and every aggregate stays exact.
Readers never block writers (WAL). Each thread gets its own connection.

:class:`SQLiteStore` holds the connections and the transactions; the SQL is
in the modules it delegates to: :mod:`~lineage.stores.sqlite.reads`,
:mod:`~lineage.stores.sqlite.writes`, :mod:`~lineage.stores.sqlite.versions`,
:mod:`~lineage.stores.sqlite.schema` and the feature modules beside them.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lineage.errors import StoreUnavailable
from lineage.importing.records import ImportReport, SourcedRecord
from lineage.models import GenerationCount, VideoRecord
from lineage.over_time.engagement import EngagementEvent
from lineage.resources import sqlite_schema
from lineage.search.plan import Plan, SearchEstimates, SearchQuery
from lineage.store import ANY_TREE, LineageRow, PathNode, VariantGroupRow, VideoOrder, VideoRow
from lineage.stores.sqlite import descendants as sqlite_descendants
from lineage.stores.sqlite import over_time as sqlite_time
from lineage.stores.sqlite import reads, writes
from lineage.stores.sqlite import search as sqlite_search
from lineage.stores.sqlite.checkpoints import BackgroundCheckpointer
from lineage.stores.sqlite.depth import read_max_generation
from lineage.stores.sqlite.rights import SQLiteRights
from lineage.stores.sqlite.schema import apply_schema
from lineage.stores.sqlite.versions import read_tree_versions, read_versions
from lineage.stores.sqlite.writer_lock import WriterQueue

__all__ = ["DEFAULT_CACHE_BYTES", "SQLiteStore"]

# SQLite keeps a page cache per connection, and the store opens one per
# thread (the API's thread pool has dozens): they share one budget, each
# connection ``cache_bytes / connections`` (at least MIN_CACHE_KIB), so a
# lone importer gets all of it and a busy API a slice each. A connection
# whose share shrank gives the rest back at its next use.
DEFAULT_CACHE_BYTES = 128 * 1024 * 1024
MIN_CACHE_KIB = 256


class SQLiteStore(SQLiteRights):
    """A :class:`~lineage.store.LineageStore` on one SQLite file.

    Parameters
    ----------
    path : str or Path
        The database file; created with the schema if missing. ``":memory:"``
        is refused because each thread opens its own connection.
    cache_bytes : int
        The page cache all its connections share (``LINEAGE_SQLITE_CACHE_MIB``).
    """

    # Reads are in-process and take microseconds: an event loop may call them
    # directly instead of paying for a thread hop.
    in_process = True
    # The API's group commit window by default (LINEAGE_API_GROUP_COMMIT_MS
    # unset), chosen from benchmarks/bench_viral.py (docs/performance.md).
    group_commit_ms = 0.0
    search_rankings = sqlite_search.RANKINGS

    def __init__(self, path: str | Path, *, cache_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        if str(path) == ":memory:":
            raise ValueError("SQLiteStore needs a file path (each thread opens its own connection)")
        self.path = Path(path)
        self._local = threading.local()
        self._commits = 0
        self._connections: list[sqlite3.Connection] = []
        self.cache_bytes = cache_bytes
        self._cache_share_kib = cache_bytes // 1024
        self._lock = threading.Lock()
        self._writers = WriterQueue(self.path)
        self._checkpointer = BackgroundCheckpointer(self._conn)
        schema = sqlite_schema()  # MissingResource: never a store without its schema
        try:
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            apply_schema(self._conn(), schema)
        except (sqlite3.Error, OSError) as error:
            raise StoreUnavailable(
                f"cannot open SQLite store {str(self.path)!r}: {error}"
            ) from error

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    # -- connections ------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
            for pragma in (
                "journal_mode = WAL",
                "synchronous = NORMAL",  # WAL: durable at checkpoints, never corrupt
                "foreign_keys = ON",
                "busy_timeout = 30000",
                "temp_store = MEMORY",
                # Checkpoints run in the background (checkpoints). A
                # writer checkpoints too once the WAL holds 16,384 pages
                # (64 MiB): by then little is left to copy, and the next
                # writer can start the file over.
                "wal_autocheckpoint = 16384",
                "journal_size_limit = 67108864",  # the WAL file shrinks back to 64 MiB
            ):
                connection.execute(f"PRAGMA {pragma}")
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
                self._cache_share_kib = max(
                    MIN_CACHE_KIB, self.cache_bytes // 1024 // len(self._connections)
                )
        if getattr(self._local, "cache_kib", None) != self._cache_share_kib:
            # Each connection takes its share of the page cache (and gives back
            # what is over it) in its own thread, the next time it is used.
            self._local.cache_kib = self._cache_share_kib
            connection.execute(f"PRAGMA cache_size = -{self._cache_share_kib}")
        return connection

    @contextmanager
    def _write_transaction(self) -> Iterator[sqlite3.Connection]:
        connection = self._conn()
        with self._writers.turn():  # see writer_lock: no busy-handler sleeps
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            # Counted under the write lock; a failed COMMIT only costs a cache miss.
            self._commits += 1
            connection.execute("COMMIT")
        self._checkpointer.committed()

    def data_version(self) -> object:
        # PRAGMA data_version changes when another connection (thread or
        # process) commits; this store's own commits are counted here.
        (version,) = self._conn().execute("PRAGMA data_version").fetchone()
        return (version, self._commits)

    def close(self) -> None:
        self._checkpointer.close()  # before its connection closes
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()
        self._writers.close()

    def ping(self) -> bool:
        try:
            self._conn().execute("SELECT 1 FROM store_meta LIMIT 1").fetchall()
        except sqlite3.Error:
            return False
        return True

    # -- writes -----------------------------------------------------------------
    def import_videos(
        self, records: Iterable[SourcedRecord], *, atomic: bool = False, progress: bool = False
    ) -> ImportReport:
        with self._write_transaction() as connection:
            return writes.import_videos(connection, records, atomic=atomic, progress=progress)

    def tree_versions(self, original_ids: Sequence[str]) -> dict[str, object]:
        versions: dict[str, object] = {}
        ids = [original_id for original_id in original_ids if original_id != ANY_TREE]
        if len(ids) < len(original_ids):
            versions[ANY_TREE] = self.data_version()
        versions.update(read_tree_versions(self._conn(), ids))
        return versions

    def video_versions(
        self, video_ids: Sequence[str], original_ids: Sequence[str] = ()
    ) -> tuple[dict[str, object], dict[str, object]]:
        ids = [original_id for original_id in original_ids if original_id != ANY_TREE]
        whole = len(ids) < len(original_ids)
        before = self.data_version() if whole else None
        videos, trees = read_versions(self._conn(), video_ids, ids)
        found: dict[str, object] = dict(trees)
        if whole:
            found[ANY_TREE] = before
        return dict(videos), found

    def max_generation(self) -> int:
        return read_max_generation(self._conn())

    # -- over time ----------------------------------------------------------------
    def record_engagement(self, events: Sequence[EngagementEvent]) -> int:
        with self._write_transaction() as connection:
            return sqlite_time.record_engagement(connection, events)

    def remixes_in(self, video_id: str, first_hour: int, last_hour: int) -> int:
        return sqlite_time.remixes_in(self._conn(), video_id, first_hour, last_hour)

    def remixes_in_many(
        self, video_ids: Sequence[str], first_hour: int, last_hour: int
    ) -> dict[str, int]:
        return {
            video_id: sqlite_time.remixes_in(self._conn(), video_id, first_hour, last_hour)
            for video_id in dict.fromkeys(video_ids)
        }

    def trending(
        self, parent_id: str | None, first_hour: int, last_hour: int, limit: int
    ) -> list[tuple[str, int]]:
        return sqlite_time.trending(self._conn(), parent_id, first_hour, last_hour, limit)

    def remix_hours(self, video_id: str) -> list[tuple[int, int]]:
        return sqlite_time.remix_hours(self._conn(), video_id)

    def iter_engagement_rows(
        self,
    ) -> Iterator[tuple[str, str | None, int, int, int | None, int, int]]:
        return sqlite_time.iter_engagement_rows(self._conn())

    def iter_remix_hours(self) -> Iterator[tuple[str, int, str, int]]:
        return sqlite_time.iter_remix_hours(self._conn())

    # -- descendants (lineage.tree.descendants) -----------------------------------------
    def descendant_page(
        self,
        video_id: str,
        original: bool,
        first: int,
        after: tuple[int, str] | None = None,
        generation: int | None = None,
    ) -> list[VideoRecord]:
        query = sqlite_descendants.descendant_page_query(
            reads.RECORD_COLUMNS, video_id, original, first, after, generation
        )
        if query is None:
            return []
        return [reads.record(row) for row in self._conn().execute(*query)]

    def descendant_rows(
        self,
        video_id: str,
        original: bool,
        first: int,
        after: tuple[int, str] | None = None,
    ) -> list[VideoRow]:
        # RECORD_COLUMNS are EXPORT_ROW_COLUMNS, in that order.
        query = sqlite_descendants.descendant_page_query(
            reads.RECORD_COLUMNS, video_id, original, first, after, None
        )
        return [] if query is None else self._conn().execute(*query).fetchall()

    def iter_closure_rows(self) -> Iterator[tuple[str, int, str]]:
        return sqlite_descendants.iter_closure_rows(self._conn())

    # -- point reads --------------------------------------------------------------
    def get_video(self, video_id: str) -> VideoRecord | None:
        return reads.get_video(self._conn(), video_id)

    def get_videos(self, video_ids: Sequence[str]) -> dict[str, VideoRecord]:
        return reads.get_videos(self._conn(), video_ids)

    def lineage_path(self, video_id: str) -> list[PathNode]:
        return reads.lineage_path(self._conn(), video_id)

    def generation_counts(self, video_id: str) -> list[GenerationCount]:
        return reads.generation_counts(self._conn(), video_id)

    def generation_counts_many(self, video_ids: Sequence[str]) -> dict[str, list[GenerationCount]]:
        return reads.generation_counts_many(self._conn(), video_ids)

    def variant_groups(self, video_id: str, limit: int) -> list[VariantGroupRow]:
        return reads.variant_groups(self._conn(), video_id, limit)

    def variant_groups_with_tops(
        self, video_id: str, limit: int
    ) -> list[tuple[VariantGroupRow, VideoRecord | None]]:
        rows = self.variant_groups(video_id, limit)
        tops = self.group_tops([(video_id, row.key) for row in rows])
        return [(row, tops.get((video_id, row.key))) for row in rows]

    def group_tops(self, groups: Sequence[tuple[str, str]]) -> dict[tuple[str, str], VideoRecord]:
        return reads.group_tops(self._conn(), groups)

    # -- ranked lists -----------------------------------------------------------------
    def children(
        self,
        parent_id: str | None,
        order: VideoOrder,
        first: int,
        after: tuple[int, str] | None = None,
    ) -> list[VideoRecord]:
        return reads.children(self._conn(), parent_id, order, first, after)

    def children_many(
        self, parent_ids: Sequence[str], order: VideoOrder, first: int
    ) -> dict[str, list[VideoRecord]]:
        return reads.children_many(self._conn(), parent_ids, order, first)

    def count_children(self, parent_id: str | None) -> int:
        return reads.count_children(self._conn(), parent_id)

    def children_ids(self, parent_ids: Sequence[str]) -> list[str]:
        return reads.children_ids(self._conn(), parent_ids)

    # -- whole-store scans --------------------------------------------------------------
    def iter_lineage_rows(self) -> Iterator[LineageRow]:
        yield from reads.iter_lineage_rows(self._conn())

    def iter_video_rows(
        self, page_size: int = 2000, columns: str = reads.COLUMNS
    ) -> Iterator[tuple[Any, ...]]:
        # A connection of its own with a small page cache: a scan reads each
        # page once, and a large cache would only grow the process.
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("PRAGMA cache_size = -8192")
            yield from reads.iter_video_rows(connection, page_size, columns)
        finally:
            connection.close()

    def iter_videos(self, page_size: int = 2000) -> Iterator[VideoRecord]:
        for row in self.iter_video_rows(page_size, columns=reads.RECORD_COLUMNS):
            yield reads.record(row)

    def iter_generation_counts(self) -> Iterator[tuple[str, int, int]]:
        yield from reads.iter_generation_counts(self._conn())

    def iter_variant_groups(self) -> Iterator[tuple[str, str, int, int]]:
        yield from reads.iter_variant_groups(self._conn())

    def count_videos(self) -> int:
        return reads.count_videos(self._conn())

    # -- search (lineage.search) -----------------------------------------------------------
    def search_estimates(self, terms: Sequence[str], cap: int) -> SearchEstimates:
        return sqlite_search.estimates(self._conn(), terms, cap)

    def search_page(self, query: SearchQuery, plan: Plan) -> list[VideoRecord] | None:
        return sqlite_search.search_page(self._conn(), query, plan)

    def search_count(self, query: SearchQuery, plan: Plan) -> int:
        return sqlite_search.search_count(self._conn(), query, plan)

    def iter_search_texts(self) -> Iterator[tuple[str, str]]:
        yield from sqlite_search.iter_search_texts(self._conn())

    def search_index_mismatches(self) -> Iterator[tuple[str, str, object, object]]:
        yield from sqlite_search.index_mismatches(self._conn())
