"""Rights on the SQLite store: takedowns, the rights part of imports, and their reads.

The tables are ``video_rights``, ``rights_log`` and ``generation_views``
(``schema/sqlite/schema.sql``). :class:`SQLiteRights` is mixed into
:class:`~lineage.stores.sqlite.store.SQLiteStore`; :func:`write_rights_plan` runs in
the import's write transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime

from lineage.models import epoch_micros, from_epoch_micros
from lineage.rights.plan import RightsPlan
from lineage.rights.policy import ACTIVE, REMOVED, RightsChange, VideoRights
from lineage.stores.sqlite.versions import BUMP_WITH_ANCESTORS

__all__ = ["SQLiteRights", "migrate_rights", "read_video_rights", "write_rights_plan"]

_CHUNK = 900
_RIGHTS_COLUMNS = (
    "video_id, status, removed_reason, removed_us, removed_by, removed_derivative_count, "
    "c2pa_manifest"
)
_UPSERT_STATE = (
    "INSERT INTO video_rights (video_id, status, removed_reason, removed_us, c2pa_manifest) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (video_id) DO UPDATE SET status = excluded.status, "
    "removed_reason = excluded.removed_reason, removed_us = excluded.removed_us, "
    "c2pa_manifest = excluded.c2pa_manifest"
)
_UPSERT_MANIFEST = (
    "INSERT INTO video_rights (video_id, c2pa_manifest) VALUES (?, ?) "
    "ON CONFLICT (video_id) DO UPDATE SET c2pa_manifest = excluded.c2pa_manifest"
)
_ADD_REMOVED = (
    "INSERT INTO video_rights (video_id, removed_derivative_count) VALUES (?, ?) "
    "ON CONFLICT (video_id) DO UPDATE SET "
    "removed_derivative_count = removed_derivative_count + excluded.removed_derivative_count"
)
_ADD_VIEWS = (
    "INSERT INTO generation_views (video_id, generation, views) VALUES (?, ?, ?) "
    "ON CONFLICT (video_id, generation) DO UPDATE SET views = views + excluded.views"
)
# The tree's cache version (api/cache.py): bumped by every write into the tree.
_BUMP_TREE_OF_VIDEO = (
    "INSERT INTO tree_versions (original_id, version) "
    "SELECT original_id, 1 FROM videos WHERE id = ? "
    "ON CONFLICT (original_id) DO UPDATE SET version = version + 1"
)
# A stored video's row (a new manifest label, a status imported for it).
_BUMP_VIDEO = "UPDATE videos SET version = version + 1 WHERE id = ?"
_ANCESTORS = """
WITH RECURSIVE up (id, parent_id, step) AS (
    SELECT id, parent_id, 0 FROM videos WHERE id = ?
    UNION ALL
    SELECT v.id, v.parent_id, up.step + 1 FROM videos AS v JOIN up ON v.id = up.parent_id
)
SELECT id FROM up WHERE step > 0
"""


def _rights(row: tuple[object, ...]) -> VideoRights:
    _, status, reason, removed_us, removed_by, removed_count, manifest = row
    assert isinstance(status, str)
    assert isinstance(removed_count, int)
    return VideoRights(
        status=status,
        removed_reason=reason if isinstance(reason, str) else None,
        removed_at=from_epoch_micros(removed_us) if isinstance(removed_us, int) else None,
        removed_by=removed_by if isinstance(removed_by, str) else None,
        removed_derivative_count=removed_count,
        c2pa_manifest=manifest if isinstance(manifest, str) else None,
    )


def read_video_rights(
    connection: sqlite3.Connection, video_ids: Sequence[str]
) -> dict[str, VideoRights]:
    """The ``video_rights`` rows of those videos that have one."""
    found: dict[str, VideoRights] = {}
    unique = list(dict.fromkeys(video_ids))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        rows = connection.execute(
            f"SELECT {_RIGHTS_COLUMNS} FROM video_rights "
            f"WHERE video_id IN ({','.join('?' * len(chunk))})",
            chunk,
        )
        for row in rows:
            found[row[0]] = _rights(row)
    return found


def write_rights_plan(connection: sqlite3.Connection, rights: RightsPlan) -> None:
    """Write the rights part of an import (after the new videos' rows)."""
    connection.executemany(_UPSERT_STATE, rights.states)
    connection.executemany(_UPSERT_MANIFEST, rights.manifests.items())
    connection.executemany(_BUMP_TREE_OF_VIDEO, [(video_id,) for video_id in rights.manifests])
    connection.executemany(_BUMP_VIDEO, [(video_id,) for video_id in rights.manifests])
    connection.executemany(_ADD_REMOVED, rights.removed_counts.items())
    rows = rights.generation_view_rows()
    # A decrease (views re-imported lower) lands on a row that exists; an upsert
    # would check its candidate row's negative value first.
    connection.executemany(_ADD_VIEWS, [row for row in rows if row[2] >= 0])
    connection.executemany(
        "UPDATE generation_views SET views = views + ? WHERE video_id = ? AND generation = ?",
        [(views, video_id, level) for video_id, level, views in rows if views < 0],
    )


_BACKFILL_VIEWS = """
WITH RECURSIVE up (video_id, ancestor_id) AS (
    SELECT id, parent_id FROM videos WHERE parent_id IS NOT NULL
    UNION ALL
    SELECT up.video_id, v.parent_id FROM up JOIN videos AS v ON v.id = up.ancestor_id
    WHERE v.parent_id IS NOT NULL
)
INSERT INTO generation_views (video_id, generation, views)
SELECT up.ancestor_id, d.generation, sum(d.views) FROM up JOIN videos AS d ON d.id = up.video_id
GROUP BY up.ancestor_id, d.generation
"""


def migrate_rights(connection: sqlite3.Connection) -> None:
    """Fill the per-generation view totals of a store made before they existed (once).

    A store made before rights has no takedowns and no manifests, so only the
    view totals need computing: O(n x depth), in one transaction.
    """
    done = "SELECT 1 FROM store_meta WHERE key = 'rights_version'"
    if connection.execute(done).fetchone():
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        if not connection.execute(done).fetchone():
            if not connection.execute("SELECT 1 FROM generation_views LIMIT 1").fetchone():
                connection.execute(_BACKFILL_VIEWS)
            connection.execute("INSERT INTO store_meta (key, value) VALUES ('rights_version', '1')")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


class SQLiteRights:
    """The rights methods of the SQLite store (mixed into ``SQLiteStore``)."""

    def _conn(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _write_transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def set_status(
        self, video_id: str, status: str, reason: str | None, actor: str | None, at: datetime
    ) -> RightsChange | None:
        with self._write_transaction() as connection:
            if (
                connection.execute("SELECT 1 FROM videos WHERE id = ?", (video_id,)).fetchone()
                is None
            ):
                return None
            held = read_video_rights(connection, [video_id]).get(video_id)
            if (held.status if held else ACTIVE) == status:
                return RightsChange(video_id, status, changed=False)
            removing = status == REMOVED
            at_us = epoch_micros(at)
            connection.execute(
                "INSERT INTO video_rights (video_id, status, removed_reason, removed_us, "
                "removed_by) VALUES (?, ?, ?, ?, ?) ON CONFLICT (video_id) DO UPDATE SET "
                "status = excluded.status, removed_reason = excluded.removed_reason, "
                "removed_us = excluded.removed_us, removed_by = excluded.removed_by",
                (
                    video_id,
                    status,
                    reason if removing else None,
                    at_us if removing else None,
                    actor if removing else None,
                ),
            )
            ancestors = [row[0] for row in connection.execute(_ANCESTORS, (video_id,))]
            if removing:
                connection.executemany(_ADD_REMOVED, [(ancestor, 1) for ancestor in ancestors])
            else:  # the rows exist: the takedown made them
                connection.executemany(
                    "UPDATE video_rights SET removed_derivative_count = "
                    "removed_derivative_count - 1 WHERE video_id = ?",
                    [(ancestor,) for ancestor in ancestors],
                )
            connection.execute(_BUMP_TREE_OF_VIDEO, (video_id,))
            # The video's row (its status) and its ancestors' (their removed counts).
            connection.execute(BUMP_WITH_ANCESTORS, (video_id,))
            connection.execute(
                "INSERT INTO rights_log (video_id, action, actor, reason, at_us) "
                "VALUES (?, ?, ?, ?, ?)",
                (video_id, "takedown" if removing else "restore", actor, reason, at_us),
            )
        return RightsChange(video_id, status, changed=True)

    def video_rights(self, video_ids: Sequence[str]) -> dict[str, VideoRights]:
        return read_video_rights(self._conn(), video_ids)

    def derived_from_removed(self, video_ids: Sequence[str]) -> dict[str, bool]:
        connection = self._conn()
        found = {}
        for video_id in dict.fromkeys(video_ids):
            row = connection.execute(
                f"SELECT count(*) FROM ({_ANCESTORS}) AS up JOIN video_rights AS r "
                "ON r.video_id = up.id WHERE r.status = 'REMOVED'",
                (video_id,),
            ).fetchone()
            found[video_id] = bool(row[0])
        return found

    def generation_views_many(self, video_ids: Sequence[str]) -> dict[str, list[tuple[int, int]]]:
        found: dict[str, list[tuple[int, int]]] = {video_id: [] for video_id in video_ids}
        unique = list(found)
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            rows = self._conn().execute(
                "SELECT video_id, generation, views FROM generation_views "
                f"WHERE video_id IN ({','.join('?' * len(chunk))}) ORDER BY video_id, generation",
                chunk,
            )
            for video_id, generation, views in rows:
                found[video_id].append((generation, views))
        return found

    def rights_log(self, video_id: str) -> list[tuple[datetime, str, str | None, str | None]]:
        rows = self._conn().execute(
            "SELECT at_us, action, actor, reason FROM rights_log WHERE video_id = ? ORDER BY seq",
            (video_id,),
        )
        return [
            (from_epoch_micros(at), action, actor, reason) for at, action, actor, reason in rows
        ]

    def find_by_manifest(self, manifest: str) -> list[str]:
        rows = self._conn().execute(
            "SELECT video_id FROM video_rights WHERE c2pa_manifest = ? ORDER BY video_id",
            (manifest,),
        )
        return [row[0] for row in rows]

    def iter_rights_rows(self) -> Iterator[tuple[str, int, str, int]]:
        yield from self._conn().execute(
            "SELECT v.id, v.views, coalesce(r.status, 'ACTIVE'), "
            "coalesce(r.removed_derivative_count, 0) FROM videos AS v "
            "LEFT JOIN video_rights AS r ON r.video_id = v.id"
        )

    def iter_generation_views(self) -> Iterator[tuple[str, int, int]]:
        yield from self._conn().execute(
            "SELECT video_id, generation, views FROM generation_views WHERE views <> 0"
        )
