"""Aggregation: the bottom-up aggregates of new subtrees and what they add to the store.

The stages of :func:`~lineage.importing.planner.plan_import` that compute
the maintained counts, once :mod:`lineage.importing.resolution` has ordered
the new videos parents first:

- :func:`aggregate_new_subtrees` sums each new video's subtree in one pass,
  children before parents: derivative, direct remix and per-generation
  counts, tree depth, likes, views, per-generation views and remixes per
  UTC hour;
- :func:`propagate_to_store` adds each new subtree to its stored ancestors
  (:class:`~lineage.importing.plan.ExistingVideoDelta`), variant groups
  included;
- :func:`propagate_updates` adds the changed likes, views and times of
  stored videos up their lineage.
"""

from __future__ import annotations

from lineage.importing.plan import EXTERNAL, ExistingVideoDelta, ImportPlan
from lineage.importing.resolution import LOOKUP_CHUNK
from lineage.models import hour_of
from lineage.store import PathNode, ReadView

__all__ = ["aggregate_new_subtrees", "propagate_to_store", "propagate_updates"]


def aggregate_new_subtrees(plan: ImportPlan) -> None:
    """Step 5: aggregates of the new videos, children before parents."""
    count = len(plan.fields)
    derivative = [0] * count
    direct = [0] * count
    depth = [0] * count
    generation = plan.generation
    parent_index = plan.parent_index
    counts, level_views = plan.generation_counts, plan.generation_views
    fields = plan.fields
    likes = [values[6] for values in fields]
    views = [values[7] for values in fields]
    hour_counts = plan.hour_counts
    # Bound once: one pass per video.
    hours_of, counts_of, level_views_of = hour_counts.get, counts.get, level_views.get
    for position in reversed(plan.order):
        parent = parent_index[position]
        if parent < 0:
            continue
        likes[parent] += likes[position]
        views[parent] += views[position]
        created_at = fields[position][5]
        below_hours = hours_of(position)
        if created_at is not None or below_hours:
            parent_hours = hours_of(parent)
            if parent_hours is None:
                parent_hours = hour_counts[parent] = {}
            if created_at is not None:
                hour = hour_of(created_at)
                parent_hours[hour] = parent_hours.get(hour, 0) + 1
            if below_hours:
                for hour, hour_count in below_hours.items():
                    parent_hours[hour] = parent_hours.get(hour, 0) + hour_count
        derivative[parent] += 1 + derivative[position]
        direct[parent] += 1
        if depth[position] + 1 > depth[parent]:
            depth[parent] = depth[position] + 1
        parent_counts = counts_of(parent)
        if parent_counts is None:
            parent_counts = counts[parent] = {}
        own_generation = generation[position]
        parent_counts[own_generation] = parent_counts.get(own_generation, 0) + 1
        below = counts_of(position)
        if below:
            for level, level_count in below.items():
                parent_counts[level] = parent_counts.get(level, 0) + level_count
        # In the same pass, the views of each generation below (rights).
        parent_views = level_views_of(parent)
        if parent_views is None:
            parent_views = level_views[parent] = {}
        own_views = fields[position][7]
        parent_views[own_generation] = parent_views.get(own_generation, 0) + own_views
        below_views = level_views_of(position)
        if below_views:
            for level, level_view_count in below_views.items():
                parent_views[level] = parent_views.get(level, 0) + level_view_count
    plan.derivative_count, plan.direct_remix_count, plan.tree_depth = derivative, direct, depth
    plan.subtree_likes, plan.subtree_views = likes, views


def propagate_to_store(plan: ImportPlan, paths: dict[str, list[PathNode]]) -> None:
    """Step 6: what the new subtrees add to stored ancestors.

    ``paths`` holds the lineage path of every stored parent of a new remix.
    """
    for position in plan.order:
        if plan.parent_index[position] != EXTERNAL:
            continue
        parent_id = plan.fields[position][1]
        assert parent_id is not None
        path = paths[parent_id]
        size = 1 + plan.derivative_count[position]
        own_generation = plan.generation[position]
        lowest = own_generation + plan.tree_depth[position]
        below = plan.generation_counts.get(position, {})
        added_likes = plan.subtree_likes[position]
        added_views = plan.subtree_views[position]
        created_at = plan.fields[position][5]
        added_hours = dict(plan.hour_counts.get(position, {}))
        if created_at is not None:
            hour = hour_of(created_at)
            added_hours[hour] = added_hours.get(hour, 0) + 1
        for step, node in enumerate(path):
            delta = _delta(plan, path, step)
            delta.subtree_likes += added_likes
            delta.subtree_views += added_views
            for hour, hour_count in added_hours.items():
                delta.hours[hour] = delta.hours.get(hour, 0) + hour_count
            delta.derivative_count += size
            if step == 0:
                delta.direct_remix_count += 1
            else:
                via = path[step - 1].variant_key
                assert via is not None
                group = plan.variant_groups.setdefault((node.id, via), [0, 0])
                group[1] += size
            delta.tree_depth_floor = max(delta.tree_depth_floor, lowest - node.generation)
            gc = delta.generation_counts
            gc[own_generation] = gc.get(own_generation, 0) + 1
            for level, level_count in below.items():
                gc[level] = gc.get(level, 0) + level_count


def _delta(plan: ImportPlan, path: list[PathNode], step: int) -> ExistingVideoDelta:
    """The increments of the stored video ``path[step]`` (created on first use)."""
    node = path[step]
    delta = plan.existing.get(node.id)
    if delta is None:
        parent_key = path[step + 1].id if step + 1 < len(path) else ""
        delta = plan.existing[node.id] = ExistingVideoDelta(parent_key=parent_key)
    return delta


def propagate_updates(plan: ImportPlan, view: ReadView) -> None:
    """Step 7: what changed likes, views and times of stored videos add up their lineage."""
    changes: dict[str, tuple[int, int, int | None, int | None]] = {}
    for video_id, values in plan.metadata_updates.items():
        old_likes, old_views, old_time = plan.stored_counters[video_id]
        old_hour = None if old_time is None else hour_of(old_time)
        new_hour = None if values[5] is None else hour_of(values[5])
        if values[1] is None:  # an original's time counts for no one
            old_hour = new_hour = None
        change = (values[6] - old_likes, values[7] - old_views, old_hour, new_hour)
        if change[0] or change[1] or old_hour != new_hour:
            changes[video_id] = change
    ids = list(changes)
    for start in range(0, len(ids), LOOKUP_CHUNK):
        paths = view.lineage_paths(ids[start : start + LOOKUP_CHUNK])
        for video_id, path in paths.items():
            likes, views, old_hour, new_hour = changes[video_id]
            own = _delta(plan, path, 0)
            own.likes += likes
            own.views += views
            for step in range(len(path)):
                delta = _delta(plan, path, step)
                delta.subtree_likes += likes
                delta.subtree_views += views
                if step and old_hour != new_hour:
                    if old_hour is not None:
                        delta.hours[old_hour] = delta.hours.get(old_hour, 0) - 1
                    if new_hour is not None:
                        delta.hours[new_hour] = delta.hours.get(new_hour, 0) + 1
