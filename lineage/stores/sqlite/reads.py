"""Reads of the SQLite store: one SQL query each, on the connection given.

Every function takes a :class:`sqlite3.Connection` (the calling thread's,
or the import's write transaction) and answers one question of
:class:`~lineage.store.LineageStore` from the maintained aggregates:
point reads, lineage paths, generation counts, variant groups and their
tops, ranked pages of children and whole-store scans. :func:`record` turns
a ``videos`` row into a :class:`~lineage.models.VideoRecord`.

Batched reads send at most :data:`CHUNK` host parameters a statement.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from lineage.models import (
    DiffOp,
    GenerationCount,
    PromptDiff,
    VideoRecord,
    built,
    from_epoch_micros,
)
from lineage.store import LineageRow, PathNode, VariantGroupRow, VideoOrder
from lineage.tree.queries import NULL_TIME, measure_of

__all__ = [
    "CHUNK",
    "COLUMNS",
    "RECORD_COLUMNS",
    "children",
    "children_ids",
    "children_many",
    "count_children",
    "count_videos",
    "generation_counts",
    "generation_counts_many",
    "get_video",
    "get_videos",
    "group_tops",
    "iter_generation_counts",
    "iter_lineage_rows",
    "iter_variant_groups",
    "iter_video_rows",
    "lineage_path",
    "record",
    "variant_groups",
]

# SQLite's default limit on host parameters is 32766 on current builds, but
# older ones allow only 999: stay below.
CHUNK = 900

COLUMNS = (
    "id, parent_id, prompt, title, creator, created_us, likes, views, generation, "
    "original_id, derivative_count, direct_remix_count, tree_depth, diff_summary, "
    "variant_key, similarity, diff_ops"
)
# A record's columns: the row's plus the subtree totals.
RECORD_COLUMNS = f"{COLUMNS}, subtree_likes, subtree_views"

_MEASURE = {
    VideoOrder.DERIVATIVES: "derivative_count",
    VideoOrder.DIRECT_REMIXES: "direct_remix_count",
    VideoOrder.LIKES: "likes",
    VideoOrder.VIEWS: "views",
    VideoOrder.SUBTREE_LIKES: "subtree_likes",
    VideoOrder.SUBTREE_VIEWS: "subtree_views",
    VideoOrder.NEWEST: f"coalesce(created_us, {NULL_TIME})",
}

_LINEAGE_PATH = """
WITH RECURSIVE path (id, parent_id, generation, original_id, variant_key, step) AS (
    SELECT id, parent_id, generation, original_id, variant_key, 0 FROM videos WHERE id = ?
    UNION ALL
    SELECT v.id, v.parent_id, v.generation, v.original_id, v.variant_key, path.step + 1
    FROM videos AS v JOIN path ON v.id = path.parent_id
)
SELECT id, generation, original_id, variant_key FROM path ORDER BY step
"""


# -- records -------------------------------------------------------------------------
def _from_micros(micros: int | None) -> datetime | None:
    return None if micros is None else from_epoch_micros(micros)


def record(row: sqlite3.Row | tuple[Any, ...]) -> VideoRecord:
    """The video of a ``videos`` row read as :data:`RECORD_COLUMNS` (or :data:`COLUMNS`)."""
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


# -- point reads ----------------------------------------------------------------------
def get_video(connection: sqlite3.Connection, video_id: str) -> VideoRecord | None:
    row = connection.execute(f"SELECT {RECORD_COLUMNS} FROM videos WHERE id = ?", (video_id,))
    found = row.fetchone()
    return record(found) if found else None


def get_videos(connection: sqlite3.Connection, video_ids: Sequence[str]) -> dict[str, VideoRecord]:
    found: dict[str, VideoRecord] = {}
    unique = list(dict.fromkeys(video_ids))
    for start in range(0, len(unique), CHUNK):
        chunk = unique[start : start + CHUNK]
        rows = connection.execute(
            f"SELECT {RECORD_COLUMNS} FROM videos WHERE id IN ({','.join('?' * len(chunk))})",
            chunk,
        )
        for row in rows:
            found[row[0]] = record(row)
    return found


def lineage_path(connection: sqlite3.Connection, video_id: str) -> list[PathNode]:
    return [PathNode(*row) for row in connection.execute(_LINEAGE_PATH, (video_id,))]


def generation_counts(connection: sqlite3.Connection, video_id: str) -> list[GenerationCount]:
    rows = connection.execute(
        "SELECT generation, count FROM generation_counts WHERE video_id = ? ORDER BY generation",
        (video_id,),
    )
    return [GenerationCount(generation=g, count=c) for g, c in rows]


def generation_counts_many(
    connection: sqlite3.Connection, video_ids: Sequence[str]
) -> dict[str, list[GenerationCount]]:
    counts: dict[str, list[GenerationCount]] = {video_id: [] for video_id in video_ids}
    unique = list(counts)
    for start in range(0, len(unique), CHUNK):
        chunk = unique[start : start + CHUNK]
        rows = connection.execute(
            "SELECT video_id, generation, count FROM generation_counts "
            f"WHERE video_id IN ({', '.join('?' * len(chunk))}) ORDER BY video_id, generation",
            chunk,
        )
        for video_id, generation, count in rows:
            counts[video_id].append(GenerationCount(generation=generation, count=count))
    return counts


def variant_groups(
    connection: sqlite3.Connection, video_id: str, limit: int
) -> list[VariantGroupRow]:
    rows = connection.execute(
        "SELECT variant_key, remix_count, reach FROM variant_groups WHERE parent_id = ? "
        "ORDER BY reach DESC, variant_key LIMIT ?",
        (video_id, limit),
    )
    return [VariantGroupRow(*row) for row in rows]


def group_tops(
    connection: sqlite3.Connection, groups: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], VideoRecord]:
    unique = list(dict.fromkeys(groups))
    tops: dict[tuple[str, str], VideoRecord] = {}
    # One indexed LIMIT 1 query per group, sent as one statement per chunk.
    per_group = (
        f"SELECT * FROM (SELECT {RECORD_COLUMNS} FROM videos "
        "WHERE parent_id = ? AND variant_key = ? ORDER BY derivative_count DESC, id LIMIT 1)"
    )
    for start in range(0, len(unique), CHUNK // 2):
        chunk = unique[start : start + CHUNK // 2]
        params = [value for group in chunk for value in group]
        for row in connection.execute(" UNION ALL ".join([per_group] * len(chunk)), params):
            top = record(row)
            assert top.parent_id is not None
            assert top.prompt_diff is not None
            tops[(top.parent_id, top.prompt_diff.variant_key)] = top
    return tops


# -- ranked lists -----------------------------------------------------------------------
def children(
    connection: sqlite3.Connection,
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
    rows = connection.execute(
        f"SELECT {RECORD_COLUMNS} FROM videos WHERE {where} ORDER BY {measure} DESC, id LIMIT ?",
        [*params, first],
    )
    return [record(row) for row in rows]


def children_many(
    connection: sqlite3.Connection, parent_ids: Sequence[str], order: VideoOrder, first: int
) -> dict[str, list[VideoRecord]]:
    measure = _MEASURE[order]
    found: dict[str, list[VideoRecord]] = {parent_id: [] for parent_id in parent_ids}
    unique = list(found)
    # One indexed LIMIT query per parent, sent as one statement per chunk.
    per_parent = (
        f"SELECT * FROM (SELECT {RECORD_COLUMNS} FROM videos WHERE parent_id = ? "
        f"ORDER BY {measure} DESC, id LIMIT ?)"
    )
    for start in range(0, len(unique), CHUNK // 2):
        chunk = unique[start : start + CHUNK // 2]
        params: list[object] = []
        for parent_id in chunk:
            params += [parent_id, first]
        rows = connection.execute(" UNION ALL ".join([per_parent] * len(chunk)), params)
        for row in rows:
            found[row[1]].append(record(row))
    for page in found.values():  # UNION ALL does not promise to keep each part's order
        page.sort(key=lambda video: (-measure_of(video, order), video.id))
    return found


def count_children(connection: sqlite3.Connection, parent_id: str | None) -> int:
    if parent_id is None:
        query = "SELECT count(*) FROM videos WHERE parent_id IS NULL"
        return int(connection.execute(query).fetchone()[0])
    row = connection.execute(
        "SELECT direct_remix_count FROM videos WHERE id = ?", (parent_id,)
    ).fetchone()
    return int(row[0]) if row else 0


def children_ids(connection: sqlite3.Connection, parent_ids: Sequence[str]) -> list[str]:
    found: list[str] = []
    for start in range(0, len(parent_ids), CHUNK):
        chunk = list(parent_ids[start : start + CHUNK])
        rows = connection.execute(
            f"SELECT id FROM videos WHERE parent_id IN ({','.join('?' * len(chunk))})", chunk
        )
        found.extend(row[0] for row in rows)
    return found


# -- whole-store scans ------------------------------------------------------------------
def iter_lineage_rows(connection: sqlite3.Connection) -> Iterator[LineageRow]:
    rows = connection.execute(
        "SELECT id, parent_id, generation, original_id, derivative_count, "
        "direct_remix_count, tree_depth, variant_key FROM videos ORDER BY seq"
    )
    for row in rows:
        yield LineageRow(*row)


def iter_video_rows(
    connection: sqlite3.Connection, page_size: int, columns: str
) -> Iterator[tuple[Any, ...]]:
    """``columns`` of every video, by write order (parents before their remixes).

    Keyset pages: each page is its own short read, so writers are never held back.
    """
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


def iter_generation_counts(connection: sqlite3.Connection) -> Iterator[tuple[str, int, int]]:
    return connection.execute("SELECT video_id, generation, count FROM generation_counts")


def iter_variant_groups(connection: sqlite3.Connection) -> Iterator[tuple[str, str, int, int]]:
    return connection.execute(
        "SELECT parent_id, variant_key, remix_count, reach FROM variant_groups"
    )


def count_videos(connection: sqlite3.Connection) -> int:
    return int(connection.execute("SELECT count(*) FROM videos").fetchone()[0])
