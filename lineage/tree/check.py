"""``lineage check``: recompute every aggregate from the stored edges and compare.

This is the store's fsck. It trusts nothing but the edges (each video's
parent) and the variant keys on them, rebuilds generation, original, derivative
count, direct remix count, tree depth, per-generation counts and variant groups (and, in
:mod:`lineage.rights.check`, removed-derivative counts and per-generation views; in
:mod:`lineage.tree.descendants`, the descendant closure; in :mod:`lineage.search.check`,
the search index against the stored text),
and reports every stored value that differs.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from lineage.over_time.check import check_time_aggregates
from lineage.rights.check import check_rights
from lineage.search.check import check_search
from lineage.store import LineageStore
from lineage.tree.descendants import check_closure

__all__ = ["Mismatch", "check_store"]


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One stored value that differs from its recomputation."""

    video_id: str
    aggregate: str
    stored: object
    expected: object

    def __str__(self) -> str:
        return (
            f"{self.video_id}: {self.aggregate} stored {self.stored!r}, expected {self.expected!r}"
        )


def check_store(store: LineageStore) -> list[Mismatch]:
    """Recompute every aggregate from the edges and list the mismatches.

    Notes
    -----
    O(n + s) time and memory for n videos, s the sum of their tree depths
    (the number of per-generation count rows).
    """
    rows = list(store.iter_lineage_rows())
    position = {row.id: index for index, row in enumerate(rows)}
    count = len(rows)
    parent = [-1] * count
    children: dict[int, list[int]] = {}
    mismatches: list[Mismatch] = []
    roots = []
    for index, row in enumerate(rows):
        if row.parent_id is None:
            roots.append(index)
            continue
        parent_index = position.get(row.parent_id)
        if parent_index is None:
            mismatches.append(Mismatch(row.id, "parent", row.parent_id, "a stored video"))
            continue
        parent[index] = parent_index
        children.setdefault(parent_index, []).append(index)

    generation = [0] * count
    original = [""] * count
    order: list[int] = []
    queue = deque(roots)
    for root in roots:
        original[root] = rows[root].id
    while queue:
        index = queue.popleft()
        order.append(index)
        for child in children.get(index, ()):
            generation[child] = generation[index] + 1
            original[child] = original[index]
            queue.append(child)
    if len(order) < count:
        reached = set(order)
        mismatches.extend(
            Mismatch(rows[index].id, "reachable from an original", False, True)
            for index in range(count)
            if index not in reached and parent[index] != -1
        )

    derivative = [0] * count
    direct = [0] * count
    depth = [0] * count
    levels: dict[int, dict[int, int]] = {}
    groups: dict[tuple[str, str], list[int]] = {}
    for index in reversed(order):
        parent_index = parent[index]
        if parent_index < 0:
            continue
        derivative[parent_index] += 1 + derivative[index]
        direct[parent_index] += 1
        depth[parent_index] = max(depth[parent_index], depth[index] + 1)
        parent_levels = levels.setdefault(parent_index, {})
        parent_levels[generation[index]] = parent_levels.get(generation[index], 0) + 1
        for level, level_count in levels.get(index, {}).items():
            parent_levels[level] = parent_levels.get(level, 0) + level_count
        key = rows[index].variant_key
        group = groups.setdefault((rows[parent_index].id, str(key)), [0, 0])
        group[0] += 1
        group[1] += 1 + derivative[index]

    for index in order:
        row = rows[index]
        for name, stored, expected in (
            ("generation", row.generation, generation[index]),
            ("original_id", row.original_id, original[index]),
            ("derivative_count", row.derivative_count, derivative[index]),
            ("direct_remix_count", row.direct_remix_count, direct[index]),
            ("tree_depth", row.tree_depth, depth[index]),
        ):
            if stored != expected:
                mismatches.append(Mismatch(row.id, name, stored, expected))

    expected_levels = {
        (rows[index].id, level): level_count
        for index, per_level in levels.items()
        for level, level_count in per_level.items()
    }
    for video_id, level, stored_count in store.iter_generation_counts():
        expected_count = expected_levels.pop((video_id, level), 0)
        if stored_count != expected_count:
            mismatches.append(
                Mismatch(video_id, f"generation_counts[{level}]", stored_count, expected_count)
            )
    for (video_id, level), expected_count in sorted(expected_levels.items()):
        mismatches.append(Mismatch(video_id, f"generation_counts[{level}]", 0, expected_count))

    for parent_id, key, remix_count, reach in store.iter_variant_groups():
        expected_group = groups.pop((parent_id, key), [0, 0])
        if [remix_count, reach] != expected_group:
            mismatches.append(
                Mismatch(
                    parent_id,
                    f"variant_groups[{key!r}] (remix_count, reach)",
                    (remix_count, reach),
                    tuple(expected_group),
                )
            )
    for (parent_id, key), expected_group in sorted(groups.items()):
        mismatches.append(
            Mismatch(
                parent_id,
                f"variant_groups[{key!r}] (remix_count, reach)",
                (0, 0),
                tuple(expected_group),
            )
        )
    mismatches += check_rights(store, rows, parent, order, generation)
    mismatches += check_closure(store, rows, parent, generation)
    # Stores with derived index keys (Neo4j's rank keys) check those too.
    derived = getattr(store, "rank_key_mismatches", None)
    if derived is not None:
        mismatches.extend(
            Mismatch(video_id, name, stored, expected)
            for video_id, name, stored, expected in derived()
        )
    mismatches.extend(check_time_aggregates(store))
    mismatches.extend(check_search(store))
    return mismatches
