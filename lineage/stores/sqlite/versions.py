"""Tree versions of the SQLite store: the ``tree_versions`` table.

Every import bumps the version of each tree it writes into, in its own
transaction (:func:`bump_tree_versions`), so a tree's version changes exactly
when something in it does; rights changes and engagement bump theirs in
:mod:`~lineage.stores.sqlite.rights` and :mod:`~lineage.stores.sqlite.over_time`.
:func:`read_tree_versions` answers the caches (``api/cache.py``); the
whole-store version is the store's ``data_version``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from lineage.importing.plan import ImportPlan
from lineage.stores.sqlite.reads import CHUNK

__all__ = ["bump_tree_versions", "read_tree_versions"]

_BUMP_NEW = (
    "INSERT INTO tree_versions (original_id, version) VALUES (?, 1) "
    "ON CONFLICT (original_id) DO UPDATE SET version = version + 1"
)
_BUMP_OF_VIDEO = (
    "INSERT INTO tree_versions (original_id, version) "
    "SELECT original_id, 1 FROM videos WHERE id = ? "
    "ON CONFLICT (original_id) DO UPDATE SET version = version + 1"
)


def bump_tree_versions(connection: sqlite3.Connection, plan: ImportPlan) -> None:
    """Bump the version of every tree the plan writes into (same transaction)."""
    original_ids = plan.original_id
    trees = sorted({original_ids[index] for index in plan.order})
    connection.executemany(_BUMP_NEW, [(tree,) for tree in trees])
    connection.executemany(_BUMP_OF_VIDEO, [(video_id,) for video_id in plan.metadata_updates])


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
