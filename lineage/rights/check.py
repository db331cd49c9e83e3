"""``lineage check`` for the rights aggregates.

Recomputes, from the stored edges, each video's status and its views,
every ``removed_derivative_count`` and every per-generation view total, and
lists what the store holds differently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lineage.store import LineageRow, LineageStore

if TYPE_CHECKING:
    from lineage.tree.check import Mismatch

__all__ = ["check_rights"]


def check_rights(
    store: LineageStore,
    rows: Sequence[LineageRow],
    parent: Sequence[int],
    order: Sequence[int],
    generation: Sequence[int],
) -> list[Mismatch]:
    """Mismatches of the rights aggregates; the arguments are :func:`check_store`'s
    reading of the edges (rows, parent index, parents-first order, generations).

    Notes
    -----
    O(n + s) time and memory, as :func:`lineage.tree.check.check_store`.
    """
    from lineage.tree.check import Mismatch

    position = {row.id: index for index, row in enumerate(rows)}
    count = len(rows)
    views = [0] * count
    removed = [False] * count
    stored_removed_counts = [0] * count
    for video_id, video_views, status, removed_count in store.iter_rights_rows():
        index = position.get(video_id)
        if index is None:
            continue
        views[index] = video_views
        removed[index] = status == "REMOVED"
        stored_removed_counts[index] = removed_count

    removed_below = [0] * count
    levels: dict[int, dict[int, int]] = {}
    for index in reversed(order):
        parent_index = parent[index]
        if parent_index < 0:
            continue
        removed_below[parent_index] += removed_below[index] + (1 if removed[index] else 0)
        parent_levels = levels.setdefault(parent_index, {})
        level = generation[index]
        parent_levels[level] = parent_levels.get(level, 0) + views[index]
        for deeper, deeper_views in levels.get(index, {}).items():
            parent_levels[deeper] = parent_levels.get(deeper, 0) + deeper_views

    mismatches = [
        Mismatch(rows[index].id, "removed_derivative_count", stored_removed_counts[index], expected)
        for index, expected in enumerate(removed_below)
        if stored_removed_counts[index] != expected
    ]
    expected_views = {
        (rows[index].id, level): total
        for index, per_level in levels.items()
        for level, total in per_level.items()
        if total
    }
    for video_id, level, stored_total in store.iter_generation_views():
        expected_total = expected_views.pop((video_id, level), 0)
        if stored_total != expected_total:
            mismatches.append(
                Mismatch(video_id, f"generation_views[{level}]", stored_total, expected_total)
            )
    for (video_id, level), expected_total in sorted(expected_views.items()):
        mismatches.append(Mismatch(video_id, f"generation_views[{level}]", 0, expected_total))
    return mismatches
