"""The write path of the SQLite store: an import planned and written in one transaction.

:func:`import_videos` runs inside the store's ``BEGIN IMMEDIATE``
transaction: the planner (:mod:`lineage.importing.planner`) reads the store
through that transaction's connection, and the plan is written on the same
connection, so every aggregate is incremented from what the previous writer
committed. :func:`write_plan` writes the new videos, the aggregates of their
stored ancestors (derivative counts, generation counts, variant groups),
metadata updates, the over-time aggregates, the rights plan, the descendant
closure, the search index (:mod:`~lineage.stores.sqlite.search`) and the tree
versions; a large first load rebuilds the secondary indexes afterwards
(:mod:`lineage.stores.sqlite.bulk`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime

from lineage.importing.plan import ImportPlan
from lineage.importing.planner import plan_import
from lineage.importing.records import ImportReport, SourcedRecord
from lineage.models import VideoRecord, epoch_micros
from lineage.progress import progress_bar
from lineage.rights.policy import VideoRights
from lineage.store import PathNode
from lineage.stores.sqlite import descendants as sqlite_descendants
from lineage.stores.sqlite import over_time as sqlite_time
from lineage.stores.sqlite import reads
from lineage.stores.sqlite.bulk import indexes_built_after
from lineage.stores.sqlite.rights import read_video_rights, write_rights_plan
from lineage.stores.sqlite.search import TextWriter, with_text_ids, write_search
from lineage.stores.sqlite.versions import bump_tree_versions

__all__ = ["import_videos", "write_plan"]

# A new video's row, then the ids of its texts (lineage.stores.sqlite.search).
_INSERT_VIDEO = (
    f"INSERT INTO videos ({reads.RECORD_COLUMNS}, prompt_text, title_text, creator_text) "
    f"VALUES ({', '.join('?' * 22)})"
)
_UPSERT_GENERATION = (
    "INSERT INTO generation_counts (video_id, generation, count) VALUES (?, ?, ?) "
    "ON CONFLICT (video_id, generation) DO UPDATE SET count = count + excluded.count"
)
_UPDATE_AGGREGATES = (
    "UPDATE videos SET derivative_count = derivative_count + ?, "
    "direct_remix_count = direct_remix_count + ?, tree_depth = max(tree_depth, ?), "
    "version = version + 1 "
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
    "UPDATE videos SET title = ?, creator = ?, created_us = ?, likes = ?, views = ?, "
    "version = version + 1 WHERE id = ?"
)


def _to_micros(moment: datetime | None) -> int | None:
    return None if moment is None else epoch_micros(moment)


class _TransactionView:
    """The planner's view of the store: reads through the write transaction's connection."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def get_videos(self, video_ids: Sequence[str]) -> dict[str, VideoRecord]:
        return reads.get_videos(self.connection, video_ids)

    def lineage_path(self, video_id: str) -> list[PathNode]:
        return reads.lineage_path(self.connection, video_id)

    def lineage_paths(self, video_ids: Sequence[str]) -> dict[str, list[PathNode]]:
        # In process, one indexed walk each costs microseconds; the write
        # transaction already holds SQLite's single writer lock.
        return {video_id: self.lineage_path(video_id) for video_id in video_ids}

    def video_rights(self, video_ids: Sequence[str]) -> dict[str, VideoRights]:
        return read_video_rights(self.connection, video_ids)


def import_videos(
    connection: sqlite3.Connection,
    records: Iterable[SourcedRecord],
    *,
    atomic: bool = False,
    progress: bool = False,
) -> ImportReport:
    """Plan the import against the store and write the plan, on one transaction's connection.

    With ``atomic``, a batch with a rejected record writes nothing
    (``report.written`` is False).
    """
    plan, report = plan_import(records, _TransactionView(connection))
    if atomic and report.rejected:
        report.written = False
        return report
    write_plan(connection, plan, progress)
    return report


def write_plan(connection: sqlite3.Connection, plan: ImportPlan, progress: bool) -> None:
    """Write a planned import (indexes rebuilt afterwards when that is cheaper)."""
    with indexes_built_after(connection, plan.new_video_count, progress=progress):
        _write_rows(connection, plan, progress)


def _write_rows(connection: sqlite3.Connection, plan: ImportPlan, progress: bool) -> None:
    texts = TextWriter(connection)
    with progress_bar(plan.new_video_count, "writing", enabled=progress) as bar:
        for batch in plan.video_rows():
            connection.executemany(_INSERT_VIDEO, with_text_ids(texts, batch))
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
    write_search(texts, plan)
    bump_tree_versions(connection, plan)
