"""The Neo4j store's aggregates over time: subtree likes/views and remixes per hour.

Every ``Video`` node carries ``subtree_likes`` and ``subtree_views`` (its own
likes and views plus all its derivatives'). A ``RemixHour`` node per (video,
UTC hour) holds how many of the video's derivatives were created in that
hour, with the video's parent id as ``parent_key`` ("/" for an original, as
the CSV export writes it), so a parent's remixes rank by their own counts
through one index range. Writes are small Cypher statements run in the
caller's transaction; engagement batches take the trees' write locks first,
like imports, so increments in one tree apply in turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import neo4j

from lineage.importing.plan import ImportPlan
from lineage.over_time.engagement import (
    ORIGINAL_PARENT_KEY,
    EngagementEvent,
    EngagementNode,
    plan_engagement_with_views,
)
from lineage.rights.plan import RightsPlan
from lineage.stores.neo4j.reads import _Read
from lineage.stores.neo4j.rights import write_rights_plan
from lineage.stores.neo4j.tree_lock import LOCK_TREE
from lineage.stores.neo4j.versions import BUMP_VERSION

__all__ = [
    "read_remixes_in_many",
    "read_trending",
    "record_engagement",
    "time_aggregate_steps",
    "write_time_aggregates",
]

# The rank keys of the four measures (lineage.stores.neo4j.ranks) follow in
# the same statement, so the ranked indexes stay exact at every commit.
_ADD_ENGAGEMENT = (
    "UNWIND $rows AS row MATCH (v:Video {id: row[4]}) "
    "SET v.likes = coalesce(v.likes, 0) + row[0], v.views = coalesce(v.views, 0) + row[1], "
    "v.subtree_likes = coalesce(v.subtree_likes, 0) + row[2], "
    "v.subtree_views = coalesce(v.subtree_views, 0) + row[3] "
    f"SET {BUMP_VERSION}, v.rank_likes = -v.likes, v.rank_views = -v.views, "
    "v.rank_subtree_likes = -v.subtree_likes, v.rank_subtree_views = -v.subtree_views"
)
_ADD_HOURS = (
    "UNWIND $rows AS row "
    "MERGE (h:RemixHour {video_id: row[0], hour: row[1]}) "
    "ON CREATE SET h.parent_key = row[2], h.count = row[3] "
    "ON MATCH SET h.count = h.count + row[3]"
)
_DROP_EMPTY_HOURS = (
    "UNWIND $rows AS row MATCH (h:RemixHour {video_id: row[0], hour: row[1]}) "
    "WHERE h.count = 0 DELETE h"
)
_LOCK_TREES = (
    "UNWIND $ids AS id MATCH (v:Video {id: id}) "
    "WITH DISTINCT v.original_id AS original_id ORDER BY original_id "
    f"{LOCK_TREE}RETURN count(*) AS locked"
)
_READ_NODES = (
    "UNWIND $ids AS id MATCH (v:Video {id: id}) "
    "RETURN v.id AS id, v.parent_id AS parent_id, v.generation AS generation, "
    "coalesce(v.likes, 0) AS likes, coalesce(v.views, 0) AS views"
)


def _run_batches(
    tx: neo4j.ManagedTransaction, cypher: str, rows: Sequence[Any], batch_size: int
) -> None:
    for start in range(0, len(rows), batch_size):
        tx.run(cypher, rows=rows[start : start + batch_size]).consume()


def time_aggregate_steps(plan: ImportPlan) -> list[tuple[str, list[Any]]]:
    """The statements (each with its ``$rows``) of an import plan's engagement increments
    (own and subtree) of stored videos and its remixes per hour, in order."""
    rows = list(plan.hour_rows())
    return [
        (_ADD_ENGAGEMENT, [list(row) for row in plan.engagement_rows()]),
        (
            _ADD_HOURS,
            [
                [video_id, hour, parent or ORIGINAL_PARENT_KEY, count]
                for video_id, hour, parent, count in rows
            ],
        ),
        (_DROP_EMPTY_HOURS, [[video_id, hour] for video_id, hour, _, count in rows if count < 0]),
    ]


def write_time_aggregates(tx: neo4j.ManagedTransaction, plan: ImportPlan, batch_size: int) -> None:
    """Write an import plan's engagement increments (own and subtree) of stored videos and
    its remixes per hour (new videos' subtree totals go in with their nodes)."""
    for cypher, rows in time_aggregate_steps(plan):
        _run_batches(tx, cypher, rows, batch_size)


def record_engagement(tx: neo4j.ManagedTransaction, events: Sequence[EngagementEvent]) -> int:
    """Apply a batch of engagement deltas in ``tx``, the trees locked first.

    Raises (and the caller's transaction rolls back) when the batch names an
    unknown video or takes a total below zero.
    """
    ids = list(dict.fromkeys(event.video_id for event in events))
    tx.run(_LOCK_TREES, ids=ids).consume()

    def read_nodes(video_ids: Sequence[str]) -> dict[str, EngagementNode]:
        return {
            row["id"]: EngagementNode(
                row["parent_id"], row["generation"], row["likes"], row["views"]
            )
            for row in tx.run(_READ_NODES, ids=list(video_ids))
        }

    rows, views = plan_engagement_with_views(events, read_nodes)
    _run_batches(tx, _ADD_ENGAGEMENT, [list(row) for row in rows], 5000)
    # The per-generation view totals of the ancestors (rights) follow too.
    write_rights_plan(tx, RightsPlan(generation_views=views))
    return len(events)


def read_remixes_in_many(
    video_ids: Sequence[str], first_hour: int, last_hour: int
) -> _Read[dict[str, int]]:
    """Each video's derivatives created in the hours ``first_hour..last_hour``."""
    unique = list(dict.fromkeys(video_ids))

    def answer(records: list[neo4j.Record]) -> dict[str, int]:
        counts = dict.fromkeys(unique, 0)
        counts.update({row["id"]: int(row["total"]) for row in records})
        return counts

    return _Read(
        "UNWIND $ids AS id MATCH (h:RemixHour {video_id: id}) "
        "WHERE h.hour >= $first AND h.hour <= $last "
        "RETURN id, sum(h.count) AS total",
        {"ids": unique, "first": first_hour, "last": last_hour},
        answer,
    )


def read_trending(
    parent_id: str | None, first_hour: int, last_hour: int, limit: int
) -> _Read[list[tuple[str, int]]]:
    """A parent's remixes (originals for None) by their remixes in the hours."""
    return _Read(
        "MATCH (h:RemixHour) WHERE h.parent_key = $parent "
        "AND h.hour >= $first AND h.hour <= $last "
        "WITH h.video_id AS id, sum(h.count) AS total WHERE total > 0 "
        "RETURN id, total ORDER BY total DESC, id LIMIT $limit",
        {
            "parent": parent_id or ORIGINAL_PARENT_KEY,
            "first": first_hour,
            "last": last_hour,
            "limit": limit,
        },
        lambda records: [(row["id"], int(row["total"])) for row in records],
    )
