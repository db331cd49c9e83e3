"""``lineage check`` for the aggregates over time: subtree likes/views and remixes per hour.

Recomputed from the edges, each video's own likes, views and creation time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lineage.over_time.engagement import recompute_time_aggregates
from lineage.store import LineageStore

if TYPE_CHECKING:
    from lineage.tree.check import Mismatch

__all__ = ["check_time_aggregates"]


def check_time_aggregates(store: LineageStore) -> list[Mismatch]:
    """Mismatches of the stored subtree totals and hour buckets.

    Notes
    -----
    O(n log n + b) time for n videos and b remix-hour buckets (videos are
    visited deepest first); the buckets of each timed remix are expected at
    every ancestor, O(sum of depths) memory in the worst case.
    """
    from lineage.tree.check import Mismatch

    rows = list(store.iter_engagement_rows())
    parent_of = {row[0]: row[1] for row in rows}
    depth: dict[str, int] = {}

    def depth_of(video_id: str) -> int:
        chain = []
        current: str | None = video_id
        while current is not None and current not in depth:
            chain.append(current)
            current = parent_of.get(current)
        known = -1 if current is None else depth[current]
        for member in reversed(chain):
            known += 1
            depth[member] = known
        return depth[video_id]

    totals, expected_hours = recompute_time_aggregates(
        row[:5] for row in sorted(rows, key=lambda row: -depth_of(row[0]))
    )
    mismatches: list[Mismatch] = []
    for video_id, _, _, _, _, subtree_likes, subtree_views in rows:
        likes, views = totals[video_id]
        if subtree_likes != likes:
            mismatches.append(Mismatch(video_id, "subtree_likes", subtree_likes, likes))
        if subtree_views != views:
            mismatches.append(Mismatch(video_id, "subtree_views", subtree_views, views))
    for video_id, hour, parent_key, count in store.iter_remix_hours():
        expected = expected_hours.pop((video_id, hour), 0)
        if count != expected:
            mismatches.append(Mismatch(video_id, f"remix_hours[{hour}]", count, expected))
        expected_parent = parent_of.get(video_id) or ""
        if parent_key != expected_parent:
            mismatches.append(
                Mismatch(video_id, f"remix_hours[{hour}].parent", parent_key, expected_parent)
            )
    for (video_id, hour), expected in sorted(expected_hours.items()):
        mismatches.append(Mismatch(video_id, f"remix_hours[{hour}]", 0, expected))
    return mismatches
