"""The SQLite store's aggregates over time: subtree likes/views and remixes per hour.

``videos.subtree_likes`` / ``subtree_views`` hold a video's own likes and
views plus all its derivatives'; ``remix_hours`` holds, per video and UTC
hour (hours since the epoch), how many of its derivatives were created in
that hour, with the video's parent as ``parent_key`` ('' for an original) so a
parent's remixes rank by their own counts through one index range. Both are
written in the import's transaction (:func:`write_time_aggregates`) and by
engagement batches (:func:`record_engagement`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence

from lineage.importing.plan import ImportPlan
from lineage.over_time.engagement import (
    EngagementEvent,
    EngagementNode,
    plan_engagement_with_views,
    recompute_time_aggregates,
)
from lineage.rights.plan import RightsPlan
from lineage.stores.sqlite.rights import write_rights_plan

__all__ = [
    "iter_engagement_rows",
    "iter_remix_hours",
    "record_engagement",
    "remixes_in",
    "trending",
    "upgrade",
    "write_time_aggregates",
]

_CHUNK = 900

_ADD_SUBTREE = (
    "UPDATE videos SET subtree_likes = subtree_likes + ?, subtree_views = subtree_views + ?, "
    "version = version + 1 WHERE id = ?"
)
_ADD_HOUR = (
    "INSERT INTO remix_hours (video_id, hour, parent_key, count) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (video_id, hour) DO UPDATE SET count = count + excluded.count"
)
_TAKE_FROM_HOUR = "UPDATE remix_hours SET count = count + ? WHERE video_id = ? AND hour = ?"
_DROP_EMPTY_HOUR = "DELETE FROM remix_hours WHERE video_id = ? AND hour = ? AND count = 0"


def upgrade(connection: sqlite3.Connection) -> None:
    """Give a store file made before these aggregates its columns, filled from the edges."""
    columns = {row[1] for row in connection.execute("PRAGMA table_info(videos)")}
    if "subtree_likes" in columns:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        for name in ("subtree_likes", "subtree_views"):
            connection.execute(
                f"ALTER TABLE videos ADD COLUMN {name} INTEGER NOT NULL DEFAULT 0 "
                f"CHECK ({name} >= 0)"
            )
        rows = connection.execute(
            "SELECT id, parent_id, likes, views, created_us FROM videos ORDER BY generation DESC"
        ).fetchall()
        totals, hours = recompute_time_aggregates(rows)
        parents = {row[0]: row[1] for row in rows}
        connection.executemany(
            "UPDATE videos SET subtree_likes = ?, subtree_views = ? WHERE id = ?",
            ((likes, views, video_id) for video_id, (likes, views) in totals.items()),
        )
        connection.executemany(
            _ADD_HOUR,
            (
                (video_id, hour, parents[video_id] or "", count)
                for (video_id, hour), count in hours.items()
            ),
        )
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def write_time_aggregates(connection: sqlite3.Connection, plan: ImportPlan) -> None:
    """Write an import plan's subtree increments and remixes per hour (new videos' own
    subtree totals go in with their rows)."""
    connection.executemany(
        _ADD_SUBTREE,
        (
            (subtree_likes, subtree_views, video_id)
            for _, _, subtree_likes, subtree_views, video_id in plan.engagement_rows()
        ),
    )
    # A moved creation time takes one from a bucket that exists (an upsert of a
    # negative count would trip the check on the row it tries to insert).
    emptied: list[tuple[int, str, int]] = []
    rows = []
    for video_id, hour, parent_key, count in plan.hour_rows():
        if count < 0:
            emptied.append((count, video_id, hour))
        else:
            rows.append((video_id, hour, parent_key, count))
    connection.executemany(_ADD_HOUR, rows)
    connection.executemany(_TAKE_FROM_HOUR, emptied)
    connection.executemany(_DROP_EMPTY_HOUR, [row[1:] for row in emptied])


def _read_nodes(
    connection: sqlite3.Connection, ids: Sequence[str], seqs: dict[str, int], originals: set[str]
) -> dict[str, EngagementNode]:
    """The planner's view of some videos; their row numbers go into ``seqs``,
    the originals among them into ``originals``."""
    found: dict[str, EngagementNode] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        rows = connection.execute(
            "SELECT id, parent_id, generation, likes, views, seq FROM videos "
            f"WHERE id IN ({','.join('?' * len(chunk))})",
            chunk,
        )
        for video_id, parent_id, generation, likes, views, seq in rows:
            found[video_id] = EngagementNode(parent_id, generation, likes, views)
            seqs[video_id] = seq
            if parent_id is None:
                originals.add(video_id)
    return found


# By row number (the primary key): no lookup through the id index.
_ADD_ENGAGEMENT_BY_SEQ = (
    "UPDATE videos SET likes = likes + ?, views = views + ?, "
    "subtree_likes = subtree_likes + ?, subtree_views = subtree_views + ?, "
    "version = version + 1 WHERE seq = ?"
)
_BUMP_TREE = (
    "INSERT INTO tree_versions (original_id, version) VALUES (?, 1) "
    "ON CONFLICT (original_id) DO UPDATE SET version = version + 1"
)


def record_engagement(connection: sqlite3.Connection, events: Sequence[EngagementEvent]) -> int:
    """Apply a batch of engagement deltas (inside the caller's write transaction).

    Returns the number of events applied; raises (and writes nothing) when
    the batch names an unknown video or takes a total below zero.

    Notes
    -----
    One row update per distinct video and ancestor of the batch, in row
    order (neighbouring rows share pages), and one version bump per tree.
    """
    seqs: dict[str, int] = {}
    originals: set[str] = set()
    rows, views = plan_engagement_with_views(
        events, lambda ids: _read_nodes(connection, ids, seqs, originals)
    )
    updates: list[tuple[int, int, int, int, int]] = [
        (likes, own_views, sub_likes, sub_views, seqs[video_id])
        for likes, own_views, sub_likes, sub_views, video_id in rows
    ]
    updates.sort(key=lambda update: update[4])
    connection.executemany(_ADD_ENGAGEMENT_BY_SEQ, updates)
    # The per-generation view totals of the ancestors (rights) follow too.
    write_rights_plan(connection, RightsPlan(generation_views=views))
    # The response cache's validity: every tree the batch touched changes
    # version. The planner climbed to each event video's original, so the
    # originals it read are exactly the trees touched.
    connection.executemany(_BUMP_TREE, [(original_id,) for original_id in sorted(originals)])
    return len(events)


def remixes_in(connection: sqlite3.Connection, video_id: str, first: int, last: int) -> int:
    """Derivatives of a video created in the UTC hours ``first`` to ``last`` (inclusive)."""
    row = connection.execute(
        "SELECT coalesce(sum(count), 0) FROM remix_hours "
        "WHERE video_id = ? AND hour BETWEEN ? AND ?",
        (video_id, first, last),
    ).fetchone()
    return int(row[0])


def trending(
    connection: sqlite3.Connection, parent_id: str | None, first: int, last: int, limit: int
) -> list[tuple[str, int]]:
    """(video id, remixes in the hours) of a parent's remixes (originals for None),
    highest first, ties by id, zeros left out."""
    rows = connection.execute(
        "SELECT video_id, sum(count) AS total FROM remix_hours "
        "WHERE parent_key = ? AND hour BETWEEN ? AND ? "
        "GROUP BY video_id HAVING total > 0 ORDER BY total DESC, video_id LIMIT ?",
        (parent_id or "", first, last, limit),
    )
    return [(video_id, int(total)) for video_id, total in rows]


def remix_hours(connection: sqlite3.Connection, video_id: str) -> list[tuple[int, int]]:
    """Every (hour, remixes) bucket of a video, by hour."""
    rows = connection.execute(
        "SELECT hour, count FROM remix_hours WHERE video_id = ? AND count > 0 ORDER BY hour",
        (video_id,),
    )
    return [(hour, count) for hour, count in rows]


def iter_engagement_rows(
    connection: sqlite3.Connection,
) -> Iterator[tuple[str, str | None, int, int, int | None, int, int]]:
    """(id, parent id, likes, views, created_us, subtree likes, subtree views) of every video."""
    yield from connection.execute(
        "SELECT id, parent_id, likes, views, created_us, subtree_likes, subtree_views FROM videos"
    )


def iter_remix_hours(connection: sqlite3.Connection) -> Iterator[tuple[str, int, str, int]]:
    """Every stored (video id, hour, parent key, count) bucket."""
    yield from connection.execute("SELECT video_id, hour, parent_key, count FROM remix_hours")
