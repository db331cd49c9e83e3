"""A small write (a batch of remixes, one API call) in two Cypher statements.

A write of a few records sends, in one transaction:

1. :func:`read_named`: everything the planner reads of the ids the records
   name (the named videos, their rights states and lineage paths), as one
   statement, taking no lock;
2. :func:`write_at_once`: the write locks of the trees those videos are in,
   a check that what the plan stood on still holds, everything the plan
   writes (new videos and edges, the ancestors' aggregates, variant groups,
   hour buckets, rights, the descendant closure, video and tree versions)
   and the stored videos the caller asks back, as one statement of ``CALL``
   subqueries, one per kind of write, each over its own ``UNWIND`` list.

A tree's lock is so held for the write statement and the commit only, not
across the planner's reads and a round trip more: the two API workers'
batches into one viral tree take turns on it. Planning from reads taken
before the lock is exact because what a remix writes into its ancestors is
increments (counts, generation counts, groups, hours, closure rows from a
lineage path that never changes), applied under the lock; what a plan
decides from the reads (an id new or stored, a parent's rights status) is
checked again under the lock (:data:`_CHANGED_SINCE_READ`), and a write whose
reads went stale, or whose planner read more than the named ids, is planned
again with :func:`lock_and_read` (locks first) instead.

Subqueries of one statement run in turn for its single row, each seeing
what the ones before it wrote, as separate statements would. Larger writes
stream their statements instead (:func:`lineage.stores.neo4j.writes._write_plan`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import neo4j

from lineage.importing.plan import ImportPlan
from lineage.importing.records import SourcedRecord
from lineage.importing.validation import peek_ids
from lineage.models import VideoRecord
from lineage.rights.policy import VideoRights
from lineage.search.text import normalise
from lineage.store import PathNode
from lineage.stores.neo4j.reads import _LINEAGE_PATHS, _path_nodes, _Read, _read_videos
from lineage.stores.neo4j.rights import read_video_rights
from lineage.stores.neo4j.tree_lock import LOCK_TREE
from lineage.stores.neo4j.waves import combine
from lineage.stores.neo4j.writes import (
    _CREATE_ORIGINALS,
    _CREATE_REMIXES,
    _after_creates,
    _create_rows,
    _missing_parent,
    _new_counts,
    _TransactionView,
)

__all__ = [
    "AT_ONCE_MAX",
    "Prefetched",
    "PrefetchedView",
    "StaleReads",
    "fits_at_once",
    "lock_and_read",
    "read_named",
    "write_at_once",
]

# Records a write may hold to go in two statements; larger ones stream theirs.
AT_ONCE_MAX = 1000

# A plan goes in one statement only if its new videos span at most this many
# levels (a CREATE subquery each, see _levels) and their depths add up to at
# most AT_ONCE_ROWS (the closure and hour rows grow with them): a statement of
# hundreds of subqueries costs the server more to plan than to run. Every
# other kind of write is a subquery whether it has rows or not, so the
# statement has one text per number of levels, planned once by the server.
AT_ONCE_LEVELS = 4
AT_ONCE_ROWS = 20_000

# Both statements are planned once per text: a plan made on a smaller store
# stays good (every lookup is by id), and planning a statement of many
# subqueries again as the store grows stalled writers for a second or more.
_PLANNED_ONCE = "CYPHER replan=skip "

_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_LOCK_NAMED_TREES = (
    "UNWIND $lock_ids AS id MATCH (v:Video {id: id}) "
    "WITH DISTINCT v.original_id AS original_id ORDER BY original_id "
    f"{LOCK_TREE}WITH collect(original_id) AS locked "
)


# Under the trees' locks, the named ids whose existence or rights status is
# no longer what the planner read (a row per id: [id, status or null if absent]).
_CHANGED_SINCE_READ = (
    "UNWIND $read AS seen OPTIONAL MATCH (v:Video {id: seen[0]}) "
    "WITH seen, v WHERE (v IS NULL) <> (seen[1] IS NULL) "
    "OR coalesce(v.status, 'ACTIVE') <> coalesce(seen[1], 'ACTIVE') "
    "RETURN count(*) AS changed"
)
_LOCK_TREES = (
    "UNWIND $trees AS original_id WITH original_id ORDER BY original_id "
    f"{LOCK_TREE}RETURN count(*) AS locked"
)


class StaleReads(Exception):
    """A write planned from reads taken before its trees' locks cannot stand (what it
    read changed, or the planner needed more); the caller plans it again, locks first."""


@dataclass
class Prefetched:
    """What :func:`lock_and_read` or :func:`read_named` read of the ids a write names."""

    ids: frozenset[str] = frozenset()
    videos: dict[str, VideoRecord] = field(default_factory=dict)
    rights: dict[str, VideoRights] = field(default_factory=dict)
    paths: dict[str, list[PathNode]] = field(default_factory=dict)
    # The trees held (lock_and_read) or to lock at the write (read_named).
    locked: set[str] = field(default_factory=set)
    # Taken without the locks: the write locks the trees and checks the reads.
    unlocked: bool = False

    def as_read(self) -> list[list[str | None]]:
        """Each named id with the rights status read (None: not stored), for the check
        under the lock."""
        return [
            [
                video_id,
                (self.rights[video_id].status if video_id in self.rights else "ACTIVE")
                if video_id in self.videos
                else None,
            ]
            for video_id in sorted(self.ids)
        ]


def named_ids(records: Sequence[SourcedRecord]) -> list[str]:
    """The ids and parent ids the records name (those that can be read), sorted."""
    ids: set[str] = set()
    for record in records:
        ids.update(value for value in peek_ids(record.data) if value is not None)
    return sorted(ids)


def lock_and_read(tx: neo4j.ManagedTransaction, records: Sequence[SourcedRecord]) -> Prefetched:
    """Lock the trees the records name (in original id order), then read the named
    videos, their rights and lineage paths: one statement.

    The reads follow the locks in the statement, so they see what the
    previous writer into each tree committed.
    """
    ids = named_ids(records)
    if not ids:
        return Prefetched()
    reads: list[_Read[Any]] = [
        _read_videos(ids),
        read_video_rights(ids),
        _Read(_LINEAGE_PATHS, {"ids": ids}, lambda rows: rows),
    ]
    combined, parameters = combine(reads)
    head, _, columns = combined.rpartition(" RETURN ")
    row = tx.run(
        f"{_PLANNED_ONCE}{_LOCK_NAMED_TREES}{head} RETURN locked, {columns}",
        {"lock_ids": ids, **parameters},
    ).single(strict=True)
    return Prefetched(
        ids=frozenset(ids),
        videos=reads[0].answer(row["q0"]),
        rights=reads[1].answer(row["q1"]),
        paths={path["id"]: _path_nodes([path]) for path in row["q2"]},
        locked=set(row["locked"]),
    )


def read_named(tx: neo4j.ManagedTransaction, records: Sequence[SourcedRecord]) -> Prefetched:
    """Read the named videos, their rights and lineage paths, taking no lock: one
    statement. The trees of the stored ones are to be locked by the write
    (:func:`write_at_once` with the prefetch), which checks these reads again."""
    ids = named_ids(records)
    if not ids:
        return Prefetched(unlocked=True)
    reads: list[_Read[Any]] = [
        _read_videos(ids),
        read_video_rights(ids),
        _Read(_LINEAGE_PATHS, {"ids": ids}, lambda rows: rows),
    ]
    combined, parameters = combine(reads)
    row = tx.run(f"{_PLANNED_ONCE}{combined}", parameters).single(strict=True)
    videos: dict[str, VideoRecord] = reads[0].answer(row["q0"])
    return Prefetched(
        ids=frozenset(ids),
        videos=videos,
        rights=reads[1].answer(row["q1"]),
        paths={path["id"]: _path_nodes([path]) for path in row["q2"]},
        locked={video.original_id for video in videos.values()},
        unlocked=True,
    )


class PrefetchedView(_TransactionView):
    """The planner's reads, answered from :func:`lock_and_read` where it read them
    (the trees are locked already), else read in the transaction."""

    def __init__(self, tx: neo4j.ManagedTransaction, prefetched: Prefetched, **options: Any):
        super().__init__(tx, locked=set(prefetched.locked), **options)
        self.prefetched = prefetched
        # The named stored videos' trees are held; ids not stored have no tree.
        # Unlocked reads lock nothing here: a miss makes the write start again.
        self.lock_trees = not prefetched.locked and not prefetched.unlocked
        # Reads the prefetch could not answer (each a statement more).
        self.misses = 0

    def _known(self, video_ids: Sequence[str]) -> bool:
        if all(video_id in self.prefetched.ids for video_id in video_ids):
            return True
        self.misses += 1
        return False

    def get_videos(self, video_ids: Sequence[str]) -> dict[str, VideoRecord]:
        if not self._known(video_ids):
            return super().get_videos(video_ids)
        found = self.prefetched.videos
        return {video_id: found[video_id] for video_id in video_ids if video_id in found}

    def lineage_paths(self, video_ids: Sequence[str]) -> dict[str, list[PathNode]]:
        if not self._known(video_ids):
            return super().lineage_paths(video_ids)
        found = self.prefetched.paths
        return {video_id: found[video_id] for video_id in video_ids if video_id in found}

    def video_rights(self, video_ids: Sequence[str]) -> dict[str, VideoRights]:
        if not self._known(video_ids):
            return super().video_rights(video_ids)
        found = self.prefetched.rights
        return {video_id: found[video_id] for video_id in video_ids if video_id in found}


def _levels(plan: ImportPlan) -> dict[str, int]:
    """Each new video's level in the plan: 0 on a stored parent (or none), else one
    more than its new parent's. Remixes of one level go in one CREATE."""
    fields, parent_index = plan.fields, plan.parent_index
    by_index: dict[int, int] = {}
    for index in plan.order:  # parents first
        parent = parent_index[index]
        by_index[index] = by_index[parent] + 1 if parent >= 0 else 0
    return {fields[index][0]: level for index, level in by_index.items()}


def fits_at_once(plan: ImportPlan) -> bool:
    """Whether :func:`write_at_once` should write the plan (else stream its statements)."""
    generations = sum(plan.generation[index] for index in plan.order)
    levels = set(_levels(plan).values())
    return len(levels) <= AT_ONCE_LEVELS and generations + len(plan.existing) <= AT_ONCE_ROWS


def _subquery(number: int, cypher: str, parameters: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``cypher`` as a subquery of the combined statement, its parameters renamed."""
    prefix = f"w{number}_"
    renamed = _PARAMETER.sub(rf"${prefix}\1", cypher)
    return f"CALL () {{ {renamed} }} ", {prefix + name: value for name, value in parameters.items()}


def write_at_once(
    tx: neo4j.ManagedTransaction,
    plan: ImportPlan,
    locked: set[str] | frozenset[str],
    read_back: Sequence[str] = (),
    unlocked: Prefetched | None = None,
) -> dict[str, VideoRecord]:
    """Write the whole plan and read back the videos ``read_back`` names: one statement.

    With ``unlocked`` (the plan's reads, taken without locks by
    :func:`read_named`), the statement first locks ``locked`` (the trees of
    the stored videos read) and checks those reads.

    Raises
    ------
    StoreUnavailable
        When a parent the plan counted on is missing (the caller rolls back).
    StaleReads
        When ``unlocked`` reads changed before the locks (the caller rolls back
        and plans again, locks first).
    """
    originals, remixes = _create_rows(
        [row for batch in plan.video_rows(max(1, plan.new_video_count)) for row in batch],
        _new_counts(plan),
        functools.lru_cache(maxsize=4096)(normalise),
        _levels(plan),
    )
    parts: list[str] = []
    parameters: dict[str, Any] = {}
    expected: list[tuple[str, int, int]] = []

    def add(cypher: str, values: dict[str, Any]) -> None:
        text, renamed = _subquery(len(parts), cypher, values)
        parts.append(text)
        parameters.update(renamed)

    # Unlocked reads: the locks, then the check, before any write (one text whether
    # or not there are any).
    checked = unlocked is not None
    if checked:
        add(_LOCK_TREES, {"trees": sorted(locked)})
        add(_CHANGED_SINCE_READ, {"read": unlocked.as_read() if unlocked else []})
        # Stale reads: no row goes on, so nothing is written (nor read back).
        parts.append("WITH * WHERE changed = 0 ")
    # The originals' CREATE always (often empty), then one per level of remixes.
    creates = [(_CREATE_ORIGINALS, originals, 0)] + [
        (_CREATE_REMIXES, remixes[level], remixes[level][0][8]) for level in sorted(remixes)
    ]
    for cypher, rows, generation in creates:
        column = f"created_{len(parts)}"
        add(cypher.replace("AS created", f"AS {column}"), {"rows": rows})
        expected.append((column, len(rows), generation))
    for cypher, values in _after_creates(plan, locked, every=True):
        add(cypher, values)
    back, back_parameters = combine([_read_videos(list(read_back))])
    head, _, _ = back.rpartition(" RETURN ")
    parameters.update(back_parameters)
    columns = ", ".join([column for column, _, _ in expected] + ["q0"])
    # No row: the reads were stale (else the statement always returns one).
    row = tx.run(f"{_PLANNED_ONCE}{''.join(parts)}{head} RETURN {columns}", parameters).single()
    if row is None:
        raise StaleReads("ids read before the locks changed before the write")
    for column, count, generation in expected:
        if row[column] != count:
            raise _missing_parent(row[column], count, generation)
    found: dict[str, VideoRecord] = _read_videos(list(read_back)).answer(row["q0"])
    return found
