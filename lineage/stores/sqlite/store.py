"""The embedded default store: one SQLite file, WAL mode, foreign keys on.

Every import runs in one ``BEGIN IMMEDIATE`` transaction: the planner reads
the store and the plan is written under the same write lock, so concurrent
writers (threads or processes) serialize and every aggregate stays exact.
Readers never block writers (WAL). Each thread gets its own connection.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from lineage.errors import StoreUnavailable
from lineage.importing.planner import ImportPlan, ImportReport, SourcedRecord, plan_import
from lineage.models import (
    DiffOp,
    GenerationCount,
    PromptDiff,
    VideoRecord,
    built,
    epoch_micros,
    from_epoch_micros,
)
from lineage.over_time.engagement import EngagementEvent
from lineage.progress import progress_bar
from lineage.resources import sqlite_schema
from lineage.rights.policy import VideoRights
from lineage.store import ANY_TREE, LineageRow, PathNode, VariantGroupRow, VideoOrder
from lineage.stores.sqlite import descendants as sqlite_descendants
from lineage.stores.sqlite import over_time as sqlite_time
from lineage.stores.sqlite.bulk import indexes_built_after
from lineage.stores.sqlite.checkpoints import BackgroundCheckpointer
from lineage.stores.sqlite.depth import read_max_generation
from lineage.stores.sqlite.rights import (
    SQLiteRights,
    migrate_rights,
    read_video_rights,
    write_rights_plan,
)
from lineage.stores.sqlite.writer_lock import WriterQueue
from lineage.tree.queries import NULL_TIME, measure_of

__all__ = ["SQLiteStore"]

# SQLite's default limit on host parameters is 32766 on current builds, but
# older ones allow only 999: stay below.
_CHUNK = 900

_COLUMNS = (
    "id, parent_id, prompt, title, creator, created_us, likes, views, generation, "
    "original_id, derivative_count, direct_remix_count, tree_depth, diff_summary, "
    "variant_key, similarity, diff_ops"
)
# A record's columns: the row's plus the subtree totals.
_RECORD_COLUMNS = f"{_COLUMNS}, subtree_likes, subtree_views"

_MEASURE = {
    VideoOrder.DERIVATIVES: "derivative_count",
    VideoOrder.DIRECT_REMIXES: "direct_remix_count",
    VideoOrder.LIKES: "likes",
    VideoOrder.VIEWS: "views",
    VideoOrder.SUBTREE_LIKES: "subtree_likes",
    VideoOrder.SUBTREE_VIEWS: "subtree_views",
    VideoOrder.NEWEST: f"coalesce(created_us, {NULL_TIME})",
}

_INSERT_VIDEO = f"INSERT INTO videos ({_RECORD_COLUMNS}) VALUES ({', '.join('?' * 19)})"
_UPSERT_GENERATION = (
    "INSERT INTO generation_counts (video_id, generation, count) VALUES (?, ?, ?) "
    "ON CONFLICT (video_id, generation) DO UPDATE SET count = count + excluded.count"
)
_UPDATE_AGGREGATES = (
    "UPDATE videos SET derivative_count = derivative_count + ?, "
    "direct_remix_count = direct_remix_count + ?, tree_depth = max(tree_depth, ?) "
    "WHERE id = ?"
)
_UPSERT_GROUP = (
    "INSERT INTO variant_groups (parent_id, variant_key, remix_count, reach) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (parent_id, variant_key) DO UPDATE SET "
    "remix_count = remix_count + excluded.remix_count, reach = reach + excluded.reach"
)
# Stored ancestors' groups only grow in reach; an upsert would trip the
# remix_count > 0 check on the row it tries to insert.
_GROW_GROUP_REACH = (
    "UPDATE variant_groups SET reach = reach + ? WHERE parent_id = ? AND variant_key = ?"
)
_UPDATE_METADATA = (
    "UPDATE videos SET title = ?, creator = ?, created_us = ?, likes = ?, views = ? WHERE id = ?"
)
_LINEAGE_PATH = """
WITH RECURSIVE path (id, parent_id, generation, original_id, variant_key, step) AS (
    SELECT id, parent_id, generation, original_id, variant_key, 0 FROM videos WHERE id = ?
    UNION ALL
    SELECT v.id, v.parent_id, v.generation, v.original_id, v.variant_key, path.step + 1
    FROM videos AS v JOIN path ON v.id = path.parent_id
)
SELECT id, generation, original_id, variant_key FROM path ORDER BY step
"""


def _to_micros(moment: datetime | None) -> int | None:
    return None if moment is None else epoch_micros(moment)


def _from_micros(micros: int | None) -> datetime | None:
    return None if micros is None else from_epoch_micros(micros)


_BUMP_NEW = (
    "INSERT INTO tree_versions (original_id, version) VALUES (?, 1) "
    "ON CONFLICT (original_id) DO UPDATE SET version = version + 1"
)
_BUMP_OF_VIDEO = (
    "INSERT INTO tree_versions (original_id, version) "
    "SELECT original_id, 1 FROM videos WHERE id = ? "
    "ON CONFLICT (original_id) DO UPDATE SET version = version + 1"
)


def _bump_tree_versions(connection: sqlite3.Connection, plan: ImportPlan) -> None:
    """Bump the version of every tree the plan writes into (same transaction)."""
    original_ids = plan.original_id
    trees = sorted({original_ids[index] for index in plan.order})
    connection.executemany(_BUMP_NEW, [(tree,) for tree in trees])
    connection.executemany(_BUMP_OF_VIDEO, [(video_id,) for video_id in plan.metadata_updates])


def _record(row: sqlite3.Row | tuple[Any, ...]) -> VideoRecord:
    subtree_likes, subtree_views = row[17:19] if len(row) > 17 else (0, 0)
    (
        video_id,
        parent_id,
        prompt,
        title,
        creator,
        created_us,
        likes,
        views,
        generation,
        original_id,
        derivative_count,
        direct_remix_count,
        tree_depth,
        summary,
        variant_key,
        similarity,
        ops,
    ) = row[:17]
    diff = None
    if parent_id is not None:
        diff = built(
            PromptDiff,
            {
                "summary": summary,
                "variant_key": variant_key,
                "similarity": similarity,
                "ops": tuple(
                    built(DiffOp, {"op": op, "before": before, "after": after})
                    for op, before, after in json.loads(ops)
                ),
            },
        )
    # Field order, as VideoRecord declares them.
    return built(
        VideoRecord,
        {
            "id": video_id,
            "prompt": prompt,
            "parent_id": parent_id,
            "title": title,
            "creator": creator,
            "created_at": _from_micros(created_us),
            "likes": likes,
            "views": views,
            "generation": generation,
            "original_id": original_id,
            "derivative_count": derivative_count,
            "direct_remix_count": direct_remix_count,
            "tree_depth": tree_depth,
            "subtree_likes": subtree_likes,
            "subtree_views": subtree_views,
            "prompt_diff": diff,
        },
    )


class _Reader:
    """Reads shared by the store and the in-transaction view."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def get_videos(self, video_ids: Sequence[str]) -> dict[str, VideoRecord]:
        found: dict[str, VideoRecord] = {}
        unique = list(dict.fromkeys(video_ids))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            rows = self.connection.execute(
                f"SELECT {_RECORD_COLUMNS} FROM videos WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            for row in rows:
                found[row[0]] = _record(row)
        return found

    def lineage_path(self, video_id: str) -> list[PathNode]:
        return [PathNode(*row) for row in self.connection.execute(_LINEAGE_PATH, (video_id,))]

    def lineage_paths(self, video_ids: Sequence[str]) -> dict[str, list[PathNode]]:
        # In process, one indexed walk each costs microseconds; the write
        # transaction already holds SQLite's single writer lock.
        return {video_id: self.lineage_path(video_id) for video_id in video_ids}

    def video_rights(self, video_ids: Sequence[str]) -> dict[str, VideoRights]:
        return read_video_rights(self.connection, video_ids)


class SQLiteStore(SQLiteRights):
    """A :class:`~lineage.store.LineageStore` on one SQLite file.

    Parameters
    ----------
    path : str or Path
        The database file; created with the schema if missing. ``":memory:"``
        is refused because each thread opens its own connection.
    """

    # Reads are in-process and take microseconds: an event loop may call them
    # directly instead of paying for a thread hop.
    in_process = True

    def __init__(self, path: str | Path) -> None:
        if str(path) == ":memory:":
            raise ValueError("SQLiteStore needs a file path (each thread opens its own connection)")
        self.path = Path(path)
        self._local = threading.local()
        self._commits = 0
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._writers = WriterQueue(self.path)
        self._checkpointer = BackgroundCheckpointer(self._conn)
        schema = sqlite_schema()  # MissingResource: never a store without its schema
        try:
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn().executescript(schema)
            migrate_rights(self._conn())
            sqlite_time.upgrade(self._conn())
            sqlite_descendants.upgrade(self._conn())
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
                "cache_size = -131072",  # 128 MiB
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
            plan, report = plan_import(records, _Reader(connection))
            if atomic and report.rejected:
                report.written = False
                return report
            self._write(connection, plan, progress)
        return report

    def _write(self, connection: sqlite3.Connection, plan: ImportPlan, progress: bool) -> None:
        with indexes_built_after(connection, plan.new_video_count, progress=progress):
            self._write_rows(connection, plan, progress)

    def _write_rows(self, connection: sqlite3.Connection, plan: ImportPlan, progress: bool) -> None:
        with progress_bar(plan.new_video_count, "writing", enabled=progress) as bar:
            for batch in plan.video_rows():
                connection.executemany(_INSERT_VIDEO, batch)
                bar.update(len(batch))
        connection.executemany(_UPSERT_GENERATION, plan.generation_count_rows())
        connection.executemany(_UPDATE_AGGREGATES, plan.existing_video_deltas())
        new_remixes, reach_only = [], []
        for parent_id, key, remix_count, reach in plan.variant_group_rows():
            if remix_count:
                new_remixes.append((parent_id, key, remix_count, reach))
            else:
                reach_only.append((reach, parent_id, key))
        connection.executemany(_UPSERT_GROUP, new_remixes)
        connection.executemany(_GROW_GROUP_REACH, reach_only)
        connection.executemany(
            _UPDATE_METADATA,
            (
                (title, creator, _to_micros(created_at), likes, views, video_id)
                for video_id, _, _, title, creator, created_at, likes, views in (
                    plan.metadata_updates.values()
                )
            ),
        )
        sqlite_time.write_time_aggregates(connection, plan)
        write_rights_plan(connection, plan.rights)
        sqlite_descendants.write_closure(connection, plan)
        _bump_tree_versions(connection, plan)

    def tree_versions(self, original_ids: Sequence[str]) -> dict[str, object]:
        versions: dict[str, object] = {}
        ids = [original_id for original_id in original_ids if original_id != ANY_TREE]
        if len(ids) < len(original_ids):
            versions[ANY_TREE] = self.data_version()
        connection = self._conn()
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            found = dict(
                connection.execute(
                    "SELECT original_id, version FROM tree_versions "
                    f"WHERE original_id IN ({marks})",
                    chunk,
                ).fetchall()
            )
            for original_id in chunk:
                versions[original_id] = found.get(original_id, 0)
        return versions

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
            _RECORD_COLUMNS, video_id, original, first, after, generation
        )
        if query is None:
            return []
        return [_record(row) for row in self._conn().execute(*query)]

    def iter_closure_rows(self) -> Iterator[tuple[str, int, str]]:
        return sqlite_descendants.iter_closure_rows(self._conn())

    # -- point reads --------------------------------------------------------------
    def get_video(self, video_id: str) -> VideoRecord | None:
        row = self._conn().execute(
            f"SELECT {_RECORD_COLUMNS} FROM videos WHERE id = ?", (video_id,)
        )
        found = row.fetchone()
        return _record(found) if found else None

    def get_videos(self, video_ids: Sequence[str]) -> dict[str, VideoRecord]:
        return _Reader(self._conn()).get_videos(video_ids)

    def lineage_path(self, video_id: str) -> list[PathNode]:
        return _Reader(self._conn()).lineage_path(video_id)

    def generation_counts(self, video_id: str) -> list[GenerationCount]:
        rows = self._conn().execute(
            "SELECT generation, count FROM generation_counts WHERE video_id = ? "
            "ORDER BY generation",
            (video_id,),
        )
        return [GenerationCount(generation=g, count=c) for g, c in rows]

    def generation_counts_many(self, video_ids: Sequence[str]) -> dict[str, list[GenerationCount]]:
        counts: dict[str, list[GenerationCount]] = {video_id: [] for video_id in video_ids}
        unique = list(counts)
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            rows = self._conn().execute(
                "SELECT video_id, generation, count FROM generation_counts "
                f"WHERE video_id IN ({', '.join('?' * len(chunk))}) ORDER BY video_id, generation",
                chunk,
            )
            for video_id, generation, count in rows:
                counts[video_id].append(GenerationCount(generation=generation, count=count))
        return counts

    def variant_groups(self, video_id: str, limit: int) -> list[VariantGroupRow]:
        rows = self._conn().execute(
            "SELECT variant_key, remix_count, reach FROM variant_groups WHERE parent_id = ? "
            "ORDER BY reach DESC, variant_key LIMIT ?",
            (video_id, limit),
        )
        return [VariantGroupRow(*row) for row in rows]

    def variant_groups_with_tops(
        self, video_id: str, limit: int
    ) -> list[tuple[VariantGroupRow, VideoRecord | None]]:
        rows = self.variant_groups(video_id, limit)
        tops = self.group_tops([(video_id, row.key) for row in rows])
        return [(row, tops.get((video_id, row.key))) for row in rows]

    def group_tops(self, groups: Sequence[tuple[str, str]]) -> dict[tuple[str, str], VideoRecord]:
        unique = list(dict.fromkeys(groups))
        tops: dict[tuple[str, str], VideoRecord] = {}
        # One indexed LIMIT 1 query per group, sent as one statement per chunk.
        per_group = (
            f"SELECT * FROM (SELECT {_RECORD_COLUMNS} FROM videos "
            "WHERE parent_id = ? AND variant_key = ? ORDER BY derivative_count DESC, id LIMIT 1)"
        )
        for start in range(0, len(unique), _CHUNK // 2):
            chunk = unique[start : start + _CHUNK // 2]
            params = [value for group in chunk for value in group]
            for row in self._conn().execute(" UNION ALL ".join([per_group] * len(chunk)), params):
                record = _record(row)
                assert record.parent_id is not None
                assert record.prompt_diff is not None
                tops[(record.parent_id, record.prompt_diff.variant_key)] = record
        return tops

    # -- ranked lists -----------------------------------------------------------------
    def children(
        self,
        parent_id: str | None,
        order: VideoOrder,
        first: int,
        after: tuple[int, str] | None = None,
    ) -> list[VideoRecord]:
        measure = _MEASURE[order]
        where = "parent_id IS NULL" if parent_id is None else "parent_id = ?"
        params: list[object] = [] if parent_id is None else [parent_id]
        if after is not None:
            where += f" AND ({measure} < ? OR ({measure} = ? AND id > ?))"
            params += [after[0], after[0], after[1]]
        rows = self._conn().execute(
            f"SELECT {_RECORD_COLUMNS} FROM videos WHERE {where} "
            f"ORDER BY {measure} DESC, id LIMIT ?",
            [*params, first],
        )
        return [_record(row) for row in rows]

    def children_many(
        self, parent_ids: Sequence[str], order: VideoOrder, first: int
    ) -> dict[str, list[VideoRecord]]:
        measure = _MEASURE[order]
        found: dict[str, list[VideoRecord]] = {parent_id: [] for parent_id in parent_ids}
        unique = list(found)
        # One indexed LIMIT query per parent, sent as one statement per chunk.
        per_parent = (
            f"SELECT * FROM (SELECT {_RECORD_COLUMNS} FROM videos WHERE parent_id = ? "
            f"ORDER BY {measure} DESC, id LIMIT ?)"
        )
        for start in range(0, len(unique), _CHUNK // 2):
            chunk = unique[start : start + _CHUNK // 2]
            params: list[object] = []
            for parent_id in chunk:
                params += [parent_id, first]
            rows = self._conn().execute(" UNION ALL ".join([per_parent] * len(chunk)), params)
            for row in rows:
                found[row[1]].append(_record(row))
        for page in found.values():  # UNION ALL does not promise to keep each part's order
            page.sort(key=lambda video: (-measure_of(video, order), video.id))
        return found

    def count_children(self, parent_id: str | None) -> int:
        if parent_id is None:
            query = "SELECT count(*) FROM videos WHERE parent_id IS NULL"
            return int(self._conn().execute(query).fetchone()[0])
        row = (
            self._conn()
            .execute("SELECT direct_remix_count FROM videos WHERE id = ?", (parent_id,))
            .fetchone()
        )
        return int(row[0]) if row else 0

    def children_ids(self, parent_ids: Sequence[str]) -> list[str]:
        found: list[str] = []
        for start in range(0, len(parent_ids), _CHUNK):
            chunk = list(parent_ids[start : start + _CHUNK])
            rows = self._conn().execute(
                f"SELECT id FROM videos WHERE parent_id IN ({','.join('?' * len(chunk))})", chunk
            )
            found.extend(row[0] for row in rows)
        return found

    # -- whole-store scans --------------------------------------------------------------
    def iter_lineage_rows(self) -> Iterator[LineageRow]:
        rows = self._conn().execute(
            "SELECT id, parent_id, generation, original_id, derivative_count, "
            "direct_remix_count, tree_depth, variant_key FROM videos ORDER BY seq"
        )
        for row in rows:
            yield LineageRow(*row)

    def iter_video_rows(
        self, page_size: int = 2000, columns: str = _COLUMNS
    ) -> Iterator[tuple[Any, ...]]:
        # Keyset pages by write order (parents are written before remixes);
        # each page is its own short read, so writers are never held back.
        # A connection of its own with a small page cache: a scan reads each
        # page once, and a large cache would only grow the process.
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("PRAGMA cache_size = -8192")
            after = -1
            while True:
                rows = connection.execute(
                    f"SELECT seq, {columns} FROM videos WHERE seq > ? ORDER BY seq LIMIT ?",
                    (after, page_size),
                ).fetchall()
                for row in rows:
                    yield row[1:]
                if len(rows) < page_size:
                    return
                after = rows[-1][0]
        finally:
            connection.close()

    def iter_videos(self, page_size: int = 2000) -> Iterator[VideoRecord]:
        for row in self.iter_video_rows(page_size, columns=_RECORD_COLUMNS):
            yield _record(row)

    def iter_generation_counts(self) -> Iterator[tuple[str, int, int]]:
        yield from self._conn().execute("SELECT video_id, generation, count FROM generation_counts")

    def iter_variant_groups(self) -> Iterator[tuple[str, str, int, int]]:
        yield from self._conn().execute(
            "SELECT parent_id, variant_key, remix_count, reach FROM variant_groups"
        )

    def count_videos(self) -> int:
        return int(self._conn().execute("SELECT count(*) FROM videos").fetchone()[0])
