"""Import planning: validate records, resolve their lineage and compute aggregates.

Every write, a single remix from the API as much as a million-line JSONL
file, goes through :func:`plan_import`. The planner is backend-independent:
it reads the store only through a :class:`~lineage.store.ReadView` bound to
the write transaction, looks up nothing but the ids the input names, and
returns an :class:`~lineage.importing.plan.ImportPlan` that the backend
writes in the same transaction. A rejected record is never part of the
plan, so it cannot touch stored data or any aggregate.

Records may come in any order: a remix may come before its parent, and a
parent may already be stored. Every input line is counted exactly once, as
added, updated (same lineage, new title/creator/time/counters), unchanged or
rejected.

:func:`plan_import` runs the stages in this order: reading and validating
the input, comparing it with the store and resolving parents
(:mod:`lineage.importing.resolution`), aggregating the new subtrees and
adding them to their stored ancestors (:mod:`lineage.importing.aggregation`),
settling repeated ids, the rights part (:mod:`lineage.rights.plan`), then
the changed counters of stored videos. :func:`split_by_lineage` cuts an
input into groups that can be planned one after another.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from lineage.importing.aggregation import (
    aggregate_new_subtrees,
    propagate_to_store,
    propagate_updates,
)
from lineage.importing.plan import ImportPlan
from lineage.importing.records import ImportReport, Rejection, SourcedRecord
from lineage.importing.resolution import (
    PlanningState,
    compare_with_store,
    read_records,
    resolve_parents,
    settle_repeats,
)
from lineage.importing.validation import peek_ids
from lineage.rights.plan import plan_rights
from lineage.store import ReadView

__all__ = ["plan_import", "sort_rejections", "split_by_lineage"]


def plan_import(
    records: Iterable[SourcedRecord], view: ReadView
) -> tuple[ImportPlan, ImportReport]:
    """Validate records and plan their import against the store seen by ``view``.

    Parameters
    ----------
    records : iterable of SourcedRecord
        JSON lines, mappings or :class:`~lineage.models.VideoInput`, in any order.
    view : ReadView
        Reads of the store, inside the transaction that will write the plan.

    Returns
    -------
    plan, report : ImportPlan, ImportReport
        The writes (new videos parents first, aggregates, increments for stored
        ancestors) and the per-line outcome.

    Notes
    -----
    O(n + a) time and memory for n new records whose new subtrees add to a
    stored ancestors, plus the sum of the new videos' tree depths for
    the per-generation counts. The store is read only for the ids the input
    names and the ancestors of stored parents.
    """
    state = PlanningState(view)
    read_records(state, records)
    stored_indexes = compare_with_store(state)
    resolve_parents(state, stored_indexes)
    # Before the aggregates: a later line that repeats a new video with other
    # likes, views or time wins, and the subtree totals must sum its values.
    settle_repeats(state)
    aggregate_new_subtrees(state.plan)
    propagate_to_store(state.plan, state.paths)
    state.plan.ancestor_paths = state.paths
    # Rights first: it refuses stored lines that change a status, and the
    # engagement increments then cover only the updates that stay.
    state.plan.rights = plan_rights(state)
    propagate_updates(state.plan, state.view)
    state.report.added = state.plan.new_video_count
    # Report rejections in input order (sources as first seen, then line),
    # whichever step found them.
    source_order: dict[str, int] = {}
    for rejection in state.report.rejected:
        source_order.setdefault(rejection.source, len(source_order))
    state.report.rejected.sort(key=lambda r: (source_order[r.source], r.line))
    return state.plan, state.report


def sort_rejections(rejected: list[Rejection], records: Sequence[SourcedRecord]) -> None:
    """Order rejections as their records came: sources as first seen, then line."""
    source_order: dict[str, int] = {}
    for record in records:
        source_order.setdefault(record.source, len(source_order))
    for rejection in rejected:
        source_order.setdefault(rejection.source, len(source_order))
    rejected.sort(key=lambda r: (source_order[r.source], r.line))


def split_by_lineage(
    records: Sequence[SourcedRecord], group_size: int
) -> list[list[SourcedRecord]]:
    """Split records into groups that can be planned and written one after another.

    Records that name each other (as id or parent) land in the same group, so
    each group holds whole new subtrees and every record it references is
    either in it or already stored: planning a group never depends on
    another. Connected records are kept together even beyond ``group_size``;
    otherwise groups are filled up to about ``group_size`` records, in input
    order. Only each record's ``id`` and ``parent_id`` are read here; the
    planner validates the rest, so a record rejected there is in the same
    group as its remixes, which learn why. Records whose id cannot be read
    go with the first group, where the planner reports them.

    Examples
    --------
    >>> records = [SourcedRecord({"id": i, "prompt": "p", "parent_id": p})
    ...            for i, p in [("a", None), ("b", None), ("a1", "a"), ("b1", "b")]]
    >>> [[r.data["id"] for r in group] for group in split_by_lineage(records, 2)]
    [['a', 'a1'], ['b', 'b1']]

    Notes
    -----
    O(n α(n)) time (union-find over ids) and O(n) memory.
    """
    leader: dict[str, str] = {}

    def find(video_id: str) -> str:
        root = video_id
        while leader.setdefault(root, root) != root:
            root = leader[root]
        while video_id != root:  # path compression
            leader[video_id], video_id = root, leader[video_id]
        return root

    checked: list[tuple[SourcedRecord, str | None]] = []
    for record in records:
        video_id, parent_id = peek_ids(record.data)
        checked.append((record, video_id))
        if video_id is None:
            continue
        root = find(video_id)
        if parent_id is not None:
            parent_root = find(parent_id)
            if parent_root != root:
                leader[parent_root] = root
    components: dict[str, list[SourcedRecord]] = {}
    invalid: list[SourcedRecord] = []
    for record, video_id in checked:
        if video_id is None:
            invalid.append(record)
        else:
            components.setdefault(find(video_id), []).append(record)
    groups: list[list[SourcedRecord]] = []
    current: list[SourcedRecord] = invalid
    for component in components.values():
        if current and len(current) + len(component) > group_size:
            groups.append(current)
            current = []
        current.extend(component)
    if current:
        groups.append(current)
    return groups
