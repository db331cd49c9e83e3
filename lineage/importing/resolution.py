"""Resolution: the input's records against each other and against the store.

The stages of :func:`~lineage.importing.planner.plan_import` that decide
which records become new videos, reading the store through the
:class:`~lineage.store.ReadView` of the write transaction:

- :func:`read_records` validates and de-duplicates the input;
- :func:`compare_with_store` finds the records already stored (unchanged,
  updated, or in conflict with the stored lineage);
- :func:`resolve_parents` attaches each new record to its parent (in the
  input or stored), rejects cycles and records whose parent is missing,
  rejected or removed, and orders the new videos parents first;
- :func:`settle_repeats`, once the new subtrees are aggregated
  (:mod:`lineage.importing.aggregation`), settles later lines that repeat
  an id.

:class:`PlanningState` is what these stages, the aggregation and
:func:`~lineage.rights.plan.plan_rights` share for one import.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from lineage.errors import ErrorCode
from lineage.importing.plan import EXTERNAL, ROOT, ImportPlan, VideoFields
from lineage.importing.records import ImportReport, Rejection, SourcedRecord
from lineage.importing.validation import validate
from lineage.models import VideoInput, VideoRecord
from lineage.store import PathNode, ReadView

__all__ = [
    "LOOKUP_CHUNK",
    "PlanningState",
    "compare_with_store",
    "read_records",
    "resolve_parents",
    "settle_repeats",
]

# Lookups against the store are sent in chunks of this many ids.
LOOKUP_CHUNK = 500


@dataclass(slots=True)
class PlanningState:
    """What the stages of one import share while they build its :class:`ImportPlan`."""

    view: ReadView
    plan: ImportPlan = field(default_factory=ImportPlan)
    report: ImportReport = field(default_factory=ImportReport)
    # id -> its position in plan.fields (the first line of each id), and where each came from.
    index: dict[str, int] = field(default_factory=dict)
    where: list[tuple[str, int]] = field(default_factory=list)
    # Later lines that repeat an id: (first index, source, line, fields).
    repeats: list[tuple[int, str, int, VideoFields]] = field(default_factory=list)
    rejected_index: dict[int, str] = field(default_factory=dict)  # index -> reason (new records)
    # Ids of lines that failed validation: id -> (source, line).
    invalid_ids: dict[str, tuple[str, int]] = field(default_factory=dict)
    stored_indexes: set[int] = field(default_factory=set)
    # Stored parents of new remixes: id -> its lineage path (ImportPlan.ancestor_paths).
    paths: dict[str, list[PathNode]] = field(default_factory=dict)
    # Rights fields of the input's records (first line of each id), when not the defaults.
    extras: dict[str, tuple[str, str | None, datetime | None, str | None]] = field(
        default_factory=dict
    )
    # Stored parents that are removed: new remixes of them are refused.
    removed_parents: set[str] = field(default_factory=set)

    def reject(self, source: str, line: int, video_id: str | None, code: str, reason: str) -> None:
        self.report.rejected.append(Rejection(source, line, video_id, code, reason))


def _fields(video: VideoInput) -> VideoFields:
    return (
        video.id,
        video.parent_id,
        video.prompt,
        video.title,
        video.creator,
        video.created_at,
        video.likes,
        video.views,
    )


def _lineage_conflict(
    video_id: str, ours: VideoFields, theirs: VideoFields | VideoRecord
) -> str | None:
    their_parent, their_prompt = (
        (theirs.parent_id, theirs.prompt)
        if isinstance(theirs, VideoRecord)
        else (theirs[1], theirs[2])
    )
    if ours[1] != their_parent:
        return (
            f"video {video_id!r} already has parent {their_parent!r}, this record says {ours[1]!r}"
        )
    if ours[2] != their_prompt:
        return f"video {video_id!r} already has a different prompt"
    return None


def _metadata(values: VideoFields | VideoRecord) -> tuple[object, ...]:
    if isinstance(values, VideoRecord):
        return (values.title, values.creator, values.created_at, values.likes, values.views)
    return values[3:]


def read_records(state: PlanningState, records: Iterable[SourcedRecord]) -> None:
    """Step 1: validate and de-duplicate the input."""
    fields, index, where = state.plan.fields, state.index, state.where
    for record in records:
        video = validate(record)
        if isinstance(video, Rejection):
            state.report.rejected.append(video)
            if video.video_id is not None:
                state.invalid_ids.setdefault(video.video_id, (record.source, record.line))
            continue
        if video.parent_id == video.id:
            state.reject(
                record.source,
                record.line,
                video.id,
                ErrorCode.CYCLE,
                f"video {video.id!r} cannot be a remix of itself",
            )
            continue
        values = _fields(video)
        first = index.get(video.id)
        if video.status != "ACTIVE" or video.c2pa_manifest is not None:
            state.extras.setdefault(
                video.id,
                (video.status, video.removed_reason, video.removed_at, video.c2pa_manifest),
            )
        if first is None:
            index[video.id] = len(fields)
            fields.append(values)
            where.append((record.source, record.line))
        else:
            state.repeats.append((first, record.source, record.line, values))


def compare_with_store(state: PlanningState) -> set[int]:
    """Step 2: compare with what the store already holds."""
    fields = state.plan.fields
    stored_indexes: set[int] = set()
    ids = list(state.index)
    for start in range(0, len(ids), LOOKUP_CHUNK):
        stored = state.view.get_videos(ids[start : start + LOOKUP_CHUNK])
        for video_id, record in stored.items():
            position = state.index[video_id]
            stored_indexes.add(position)
            state.plan.stored_counters[video_id] = (
                record.likes,
                record.views,
                record.created_at,
            )
            values = fields[position]
            conflict = _lineage_conflict(video_id, values, record)
            source, line = state.where[position]
            if conflict:
                state.rejected_index[position] = conflict
                state.reject(source, line, video_id, ErrorCode.CONFLICT, conflict)
            elif _metadata(values) != _metadata(record):
                state.plan.metadata_updates[video_id] = values
                state.report.note_stored(source, line, "updated")
            else:
                state.report.note_stored(source, line, "unchanged")
    state.stored_indexes = stored_indexes
    return stored_indexes


def resolve_parents(state: PlanningState, stored_indexes: set[int]) -> None:
    """Step 3: resolve parents, find cycles, order parents first."""
    plan, fields, index = state.plan, state.plan.fields, state.index
    count = len(fields)
    parent_index = [ROOT] * count
    children: defaultdict[int, list[int]] = defaultdict(list)
    external: defaultdict[str, list[int]] = defaultdict(list)
    for position, values in enumerate(fields):
        if position in stored_indexes:
            continue
        parent_id = values[1]
        if parent_id is None:
            continue
        parent = index.get(parent_id)
        if parent is not None and parent not in stored_indexes:
            parent_index[position] = parent
            children[parent].append(position)
        else:
            parent_index[position] = EXTERNAL
            external[parent_id].append(position)
    plan.parent_index = parent_index

    # Stored parents (or stored twins of rejected records) and their lineage.
    paths: dict[str, list[PathNode]] = {}
    external_ids = list(external)
    for start in range(0, len(external_ids), LOOKUP_CHUNK):
        chunk = external_ids[start : start + LOOKUP_CHUNK]
        for video_id, record in state.view.get_videos(chunk).items():
            plan.external_prompts[video_id] = record.prompt
        if not getattr(state.view, "remixes_vetted", False):
            state.removed_parents.update(
                video_id
                for video_id, rights in state.view.video_rights(chunk).items()
                if rights.status == "REMOVED"
            )
    roots: list[int] = []
    attached: list[str] = []
    for parent_id, positions in external.items():
        parent_position = index.get(parent_id)
        if parent_position is not None and parent_position in state.rejected_index:
            continue  # children of a rejected record are rejected below
        if parent_position is None and parent_id in state.invalid_ids:
            continue
        if parent_id in plan.external_prompts and parent_id not in state.removed_parents:
            attached.append(parent_id)
            roots.extend(positions)
    for start in range(0, len(attached), LOOKUP_CHUNK):
        paths.update(state.view.lineage_paths(attached[start : start + LOOKUP_CHUNK]))
    roots.extend(
        position
        for position in range(count)
        if parent_index[position] == ROOT and position not in stored_indexes
    )

    generation = [0] * count
    original_id = [""] * count
    order: list[int] = []
    queue = deque(roots)
    for position in roots:
        parent_id = fields[position][1]
        if parent_id is None:
            original_id[position] = fields[position][0]
        else:
            top = paths[parent_id][0]
            generation[position] = top.generation + 1
            original_id[position] = top.original_id
    while queue:
        position = queue.popleft()
        order.append(position)
        for child in children.get(position, ()):
            generation[child] = generation[position] + 1
            original_id[child] = original_id[position]
            queue.append(child)
    plan.order, plan.generation, plan.original_id = order, generation, original_id

    if len(order) + len(stored_indexes) < count:
        _reject_unreached(state, set(order) | stored_indexes)
    state.paths = paths


def _own_failure(state: PlanningState, position: int) -> tuple[str, str] | None:
    """Why a record cannot attach to its parent, or None if its parent is a new record."""
    fields, index = state.plan.fields, state.index
    parent_id = fields[position][1]
    assert parent_id is not None  # originals are always reached
    parent = index.get(parent_id)
    if parent is not None and parent in state.rejected_index:
        source, line = state.where[parent]
        return ErrorCode.INVALID_INPUT, f"parent {parent_id!r} was rejected ({source}:{line})"
    if parent is None and parent_id in state.invalid_ids:
        source, line = state.invalid_ids[parent_id]
        return ErrorCode.INVALID_INPUT, f"parent {parent_id!r} was rejected ({source}:{line})"
    if parent_id in state.removed_parents:
        return ErrorCode.FORBIDDEN, (
            f"video {parent_id!r} is REMOVED and cannot be remixed "
            f"(refused remix {fields[position][0]!r})"
        )
    if state.plan.parent_index[position] == EXTERNAL:
        return ErrorCode.NOT_FOUND, (
            f"parent {parent_id!r} of {fields[position][0]!r} is unknown "
            f"(neither in the input nor in the store)"
        )
    return None


def _reject_unreached(state: PlanningState, reached: set[int]) -> None:
    """Explain every record no valid root reaches: a cycle, or a bad parent up its chain."""
    fields, index = state.plan.fields, state.index
    # position -> (code, reason, culprit id, culprit's own reason)
    verdict: dict[int, tuple[str, str, str, str]] = {}
    for start in range(len(fields)):
        if start in reached or start in verdict:
            continue
        chain: list[int] = []
        on_chain: dict[int, int] = {}
        position = start
        while True:
            if position in verdict:
                _, _, culprit, cause = verdict[position]
                break
            if position in on_chain:
                cycle = chain[on_chain[position] :]
                names = " → ".join(repr(fields[p][0]) for p in [*cycle, cycle[0]])
                culprit, cause = fields[position][0], f"remix cycle: {names}"
                for member in cycle:
                    verdict[member] = (ErrorCode.CYCLE, cause, fields[member][0], cause)
                del chain[on_chain[position] :]
                break
            on_chain[position] = len(chain)
            chain.append(position)
            failure = _own_failure(state, position)
            if failure is not None:
                culprit, cause = fields[position][0], failure[1]
                verdict[chain.pop()] = (failure[0], cause, culprit, cause)
                break
            parent_id = fields[position][1]
            assert parent_id is not None
            position = index[parent_id]
        for member in chain:
            verdict[member] = (
                ErrorCode.INVALID_INPUT,
                f"ancestor {culprit!r} was rejected: {cause}",
                culprit,
                cause,
            )
    for position, (code, reason, _, _) in sorted(verdict.items()):
        source, line = state.where[position]
        state.rejected_index[position] = reason
        state.reject(source, line, fields[position][0], code, reason)


def settle_repeats(state: PlanningState) -> None:
    """Step 4: later lines that repeat an id (the last one wins, before any aggregate)."""
    plan = state.plan
    for first, source, line, values in state.repeats:
        video_id = values[0]
        first_source, first_line = state.where[first]
        if first in state.rejected_index:
            state.reject(
                source,
                line,
                video_id,
                ErrorCode.CONFLICT,
                f"repeats video {video_id!r} of {first_source}:{first_line}, which was rejected",
            )
            continue
        conflict = _lineage_conflict(video_id, values, plan.fields[first])
        if conflict:
            state.reject(
                source,
                line,
                video_id,
                ErrorCode.CONFLICT,
                f"{conflict} (from {first_source}:{first_line})",
            )
        elif _metadata(values) != _metadata(plan.fields[first]):
            # The later line wins, as a second import of it would.
            plan.fields[first] = values
            if first in state.stored_indexes:
                plan.metadata_updates[video_id] = values
            state.report.note_stored(source, line, "updated")
        else:
            state.report.note_stored(source, line, "unchanged")
