"""Cache versions of the SQLite store: each video's ``version``, each tree's row in
``tree_versions``.

A video's ``version`` goes up in the same transaction as any change to its
row or to anything under it: a remix's new aggregates of every ancestor
(:mod:`~lineage.stores.sqlite.writes`), engagement deltas of a video and its
ancestors (:mod:`~lineage.stores.sqlite.over_time`), a takedown or restore of
a video and its ancestors' removed counts (:mod:`~lineage.stores.sqlite.rights`),
and a metadata update of a video, which also bumps its ancestors (their lists
of remixes may be ordered by what changed). Every import bumps the version of
each tree it writes into (:func:`bump_tree_versions`); rights changes and
engagement bump theirs too. :func:`read_versions` answers the caches
(``api/cache.py``) in one statement; the whole-store version is the store's
``data_version``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from lineage.importing.plan import ImportPlan
from lineage.stores.sqlite.reads import CHUNK

__all__ = [
    "BUMP_WITH_ANCESTORS",
    "bump_tree_versions",
    "read_tree_versions",
    "read_versions",
]

_BUMP_NEW = (
    "INSERT INTO tree_versions (original_id, version) VALUES (?, 1) "
    "ON CONFLICT (original_id) DO UPDATE SET version = version + 1"
)
_BUMP_OF_VIDEO = (
    "INSERT INTO tree_versions (original_id, version) "
    "SELECT original_id, 1 FROM videos WHERE id = ? "
    "ON CONFLICT (original_id) DO UPDATE SET version = version + 1"
)
# A video's version and those of all its ancestors, by one id.
BUMP_WITH_ANCESTORS = """
UPDATE videos SET version = version + 1 WHERE id IN (
    WITH RECURSIVE up (id, parent_id) AS (
        SELECT id, parent_id FROM videos WHERE id = ?
        UNION ALL
        SELECT v.id, v.parent_id FROM videos AS v JOIN up ON v.id = up.parent_id
    )
    SELECT id FROM up
)
"""


def bump_tree_versions(connection: sqlite3.Connection, plan: ImportPlan) -> None:
    """Bump the version of every tree the plan writes into, and of every video whose
    metadata it updates with its ancestors (same transaction; the ancestors of new
    videos are bumped with their aggregates)."""
    original_ids = plan.original_id
    trees = sorted({original_ids[index] for index in plan.order})
    connection.executemany(_BUMP_NEW, [(tree,) for tree in trees])
    updated = [(video_id,) for video_id in plan.metadata_updates]
    connection.executemany(_BUMP_OF_VIDEO, updated)
    connection.executemany(BUMP_WITH_ANCESTORS, updated)


def read_tree_versions(
    connection: sqlite3.Connection, original_ids: Sequence[str]
) -> dict[str, int]:
    """The version of each tree asked for (0 for a tree never written)."""
    versions: dict[str, int] = {}
    for start in range(0, len(original_ids), CHUNK):
        chunk = original_ids[start : start + CHUNK]
        marks = ",".join("?" * len(chunk))
        found = dict(
            connection.execute(
                f"SELECT original_id, version FROM tree_versions WHERE original_id IN ({marks})",
                chunk,
            ).fetchall()
        )
        for original_id in chunk:
            versions[original_id] = found.get(original_id, 0)
    return versions


def read_versions(
    connection: sqlite3.Connection, video_ids: Sequence[str], original_ids: Sequence[str]
) -> tuple[dict[str, int | None], dict[str, int]]:
    """The version of each video (None for one not stored) and of each tree asked
    for, in one statement (one snapshot) when they fit in one."""
    videos: dict[str, int | None] = dict.fromkeys(video_ids)
    trees: dict[str, int] = dict.fromkeys(original_ids, 0)
    video_list, tree_list = list(videos), list(trees)
    if len(video_list) + len(tree_list) <= CHUNK:
        parts, params = [], []
        if video_list:
            parts.append(
                f"SELECT 0, id, version FROM videos WHERE id IN ({','.join('?' * len(video_list))})"
            )
            params += video_list
        if tree_list:
            parts.append(
                "SELECT 1, original_id, version FROM tree_versions "
                f"WHERE original_id IN ({','.join('?' * len(tree_list))})"
            )
            params += tree_list
        if parts:
            for kind, key, version in connection.execute(" UNION ALL ".join(parts), params):
                (trees if kind else videos)[key] = version
        return videos, trees
    # More than one statement's parameters: a transaction holds one snapshot.
    connection.execute("BEGIN")
    try:
        for start in range(0, len(video_list), CHUNK):
            chunk = video_list[start : start + CHUNK]
            marks = ",".join("?" * len(chunk))
            videos.update(
                connection.execute(f"SELECT id, version FROM videos WHERE id IN ({marks})", chunk)
            )
        trees.update(read_tree_versions(connection, tree_list))
    finally:
        connection.execute("COMMIT")
    return videos, trees
