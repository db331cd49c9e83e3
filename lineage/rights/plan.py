"""The rights part of an import plan: takedown state and the aggregates it maintains.

:func:`plan_rights` runs at the end of :func:`lineage.importing.planner.plan_import`,
inside the same write transaction, and adds to the plan:

- the takedown state and C2PA manifest label of new videos (export files
  carry them, so an export imports back as it was);
- ``removed_derivative_count`` increments: each new ``REMOVED`` video adds
  one to every ancestor, stored or new;
- per-generation view totals below every video (beside the generation
  counts): full totals for new videos, increments for stored ancestors of
  new remixes, and for the ancestors of stored videos whose views change.

A line for a stored video whose status differs from the stored one is
refused: status changes only through ``takedown`` and ``restore``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lineage.errors import ErrorCode
from lineage.models import epoch_micros

if TYPE_CHECKING:
    from lineage.importing.resolution import PlanningState

__all__ = ["RightsPlan", "plan_rights"]

_CHUNK = 500
_ROOT, _EXTERNAL = -1, -2  # ROOT and EXTERNAL of lineage.importing.plan


@dataclass(slots=True)
class RightsPlan:
    """What an import writes beside the lineage aggregates (see the module)."""

    # (id, status, removed_reason, removed_us, c2pa_manifest) of new videos that carry any.
    states: list[tuple[str, str, str | None, int | None, str | None]] = field(default_factory=list)
    # Stored videos whose C2PA manifest label changes.
    manifests: dict[str, str | None] = field(default_factory=dict)
    # id -> increment of removed_derivative_count.
    removed_counts: dict[str, int] = field(default_factory=dict)
    # id -> {absolute generation: views increment}; new videos get their full totals.
    generation_views: dict[str, dict[int, int]] = field(default_factory=dict)

    def generation_view_rows(self) -> list[tuple[str, int, int]]:
        """(video id, generation, views increment) rows."""
        return [
            (video_id, level, views)
            for video_id, levels in self.generation_views.items()
            for level, views in levels.items()
        ]


def _settle_stored_lines(planner: PlanningState, rights: RightsPlan) -> None:
    plan, report = planner.plan, planner.report
    stored = [
        plan.fields[position][0]
        for position in sorted(planner.stored_indexes)
        if position not in planner.rejected_index
    ]
    for start in range(0, len(stored), _CHUNK):
        chunk = stored[start : start + _CHUNK]
        current = planner.view.video_rights(chunk)
        for video_id in chunk:
            status, _, _, manifest = planner.extras.get(video_id, ("ACTIVE", None, None, None))
            held = current.get(video_id)
            held_status = held.status if held else "ACTIVE"
            held_manifest = held.c2pa_manifest if held else None
            updated = video_id in plan.metadata_updates
            if status != held_status:
                source, line = planner.where[planner.index[video_id]]
                planner.rejected_index[planner.index[video_id]] = "status"
                planner.reject(
                    source,
                    line,
                    video_id,
                    ErrorCode.CONFLICT,
                    f"video {video_id!r} is stored as {held_status}, this record says {status} "
                    "(status changes only through takedown and restore)",
                )
                if updated:
                    del plan.metadata_updates[video_id]
                    report.updated -= 1
                else:
                    report.unchanged -= 1
            elif manifest != held_manifest:
                rights.manifests[video_id] = manifest
                if not updated:
                    report.unchanged -= 1
                    report.updated += 1


def _add(totals: dict[str, dict[int, int]], video_id: str, level: int, views: int) -> None:
    levels = totals.setdefault(video_id, {})
    levels[level] = levels.get(level, 0) + views


def _plan_new_videos(planner: PlanningState, rights: RightsPlan) -> None:
    plan = planner.plan
    fields, parent_index, generation = plan.fields, plan.parent_index, plan.generation
    paths = planner.paths
    totals = rights.generation_views
    # The aggregate pass summed each new video's derivatives' views by generation.
    below = plan.generation_views
    for position, levels in below.items():
        # Shared, not copied: below is only read after this, and _add below
        # writes to stored videos' entries, never to these new videos'.
        totals[fields[position][0]] = levels

    removed = rights.removed_counts
    for position in plan.order:
        video_id, parent_id = fields[position][0], fields[position][1]
        if parent_index[position] == _EXTERNAL:
            assert parent_id is not None
            level, views = generation[position], fields[position][7]
            for node in paths[parent_id]:
                _add(totals, node.id, level, views)
                for deeper, deeper_views in below.get(position, {}).items():
                    _add(totals, node.id, deeper, deeper_views)
        extras = planner.extras.get(video_id)
        if extras is None:
            continue
        status, reason, removed_at, manifest = extras
        rights.states.append(
            (
                video_id,
                status,
                reason,
                None if removed_at is None else epoch_micros(removed_at),
                manifest,
            )
        )
        if status != "REMOVED":
            continue
        current = position
        while parent_index[current] >= 0:
            current = parent_index[current]
            removed[fields[current][0]] = removed.get(fields[current][0], 0) + 1
        if parent_index[current] == _EXTERNAL:
            top_parent = fields[current][1]
            assert top_parent is not None
            for node in paths[top_parent]:
                removed[node.id] = removed.get(node.id, 0) + 1


def _plan_view_changes(planner: PlanningState, rights: RightsPlan) -> None:
    updates = planner.plan.metadata_updates
    changed = list(updates)
    for start in range(0, len(changed), _CHUNK):
        chunk = changed[start : start + _CHUNK]
        # Paths first: a store that locks trees for writers locks them here,
        # so the views read next are the ones this write replaces.
        paths = planner.view.lineage_paths(chunk)
        stored = planner.view.get_videos(chunk)
        for video_id in chunk:
            delta = updates[video_id][7] - stored[video_id].views
            if not delta:
                continue
            path = paths[video_id]
            for node in path[1:]:
                _add(rights.generation_views, node.id, path[0].generation, delta)


def plan_rights(planner: PlanningState) -> RightsPlan:
    """The rights part of the plan the planner has made (see the module)."""
    rights = RightsPlan()
    _settle_stored_lines(planner, rights)
    _plan_new_videos(planner, rights)
    _plan_view_changes(planner, rights)
    return rights
