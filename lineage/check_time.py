"""``lineage check`` for the aggregates over time: subtree likes/views and remixes per hour.

Recomputed from the edges, each video's own likes, views and creation time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lineage.models import from_epoch_micros, hour_of
from lineage.store import LineageStore

if TYPE_CHECKING:
    from lineage.check import Mismatch

__all__ = ["check_time_aggregates"]


def check_time_aggregates(store: LineageStore) -> list[Mismatch]:
    """Mismatches of the stored subtree totals and hour buckets.

    Notes
    -----
    O(n log n + b) time for n videos and b remix-hour buckets (videos are
    visited deepest first); the buckets of each timed remix are expected at
    every ancestor, O(sum of depths) memory in the worst case.
    """
    from lineage.check import Mismatch

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

    totals = {row[0]: [row[2], row[3]] for row in rows}
    expected_hours: dict[tuple[str, int], int] = {}
    for video_id, parent_id, _, _, created_us, _, _ in sorted(
        rows, key=lambda row: -depth_of(row[0])
    ):
        if parent_id is None or parent_id not in totals:
            continue
        totals[parent_id][0] += totals[video_id][0]
        totals[parent_id][1] += totals[video_id][1]
        if created_us is not None:
            hour = hour_of(from_epoch_micros(created_us))
            ancestor: str | None = parent_id
            while ancestor is not None:
                expected_hours[(ancestor, hour)] = expected_hours.get((ancestor, hour), 0) + 1
                ancestor = parent_of.get(ancestor)
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
