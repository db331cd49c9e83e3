"""The write path: import Cypher, the planner's view of the write transaction, batched writes."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

import neo4j

from lineage.errors import LimitExceeded, StoreUnavailable
from lineage.importing.plan import ImportPlan
from lineage.importing.records import SourcedRecord
from lineage.models import (
    VideoInput,
    VideoRecord,
    epoch_micros,
)
from lineage.over_time.engagement import ORIGINAL_PARENT_KEY
from lineage.progress import progress_bar
from lineage.rights.policy import VideoRights
from lineage.search.text import FIELD_SEPARATOR, normalise, searchable_text
from lineage.store import PathNode
from lineage.stores.neo4j.descendants import CREATE_CLOSURE, write_closure
from lineage.stores.neo4j.over_time import _ADD_HOURS, time_aggregate_steps
from lineage.stores.neo4j.ranks import newest_rank
from lineage.stores.neo4j.reads import (
    _LINEAGE_PATHS,
    T,
    _path_nodes,
    _Read,
    _read_videos,
)
from lineage.stores.neo4j.rights import read_video_rights, rights_plan_steps
from lineage.stores.neo4j.tree_lock import LOCK_TREE, tree_version_step
from lineage.stores.neo4j.versions import BUMP_VERSION
from lineage.tree.descendants import closure_rows

# Rows per UNWIND statement: each statement's parameters stay near a
# megabyte, and a 42,084-video import is a dozen statements, not thousands
# of round trips.
BATCH_SIZE = 5000
# An import of up to this many records is one transaction: about 450 MB of
# transaction state for new videos, inside the 716 MB that the default 1 GB
# heap of scripts/neo4j-local allows all transactions together. A larger,
# non-atomic one is written one group of whole lineages per transaction,
# ``import_workers`` transactions at a time, each group about
# GROUP_SIZE / import_workers records so the total stays the same.
GROUP_SIZE = 50_000
# A lineage larger than a group goes in parents-first parts of about
# PART_SIZE / import_workers records: parts attach to videos stored by the
# parts before them and update those too, about twice the memory per record.
PART_SIZE = 20_000
# The server's refusals of a transaction that outgrows its memory limits
# (all transactions together, or db.memory.transaction.max for one).
_OUT_OF_TRANSACTION_MEMORY = {
    "Neo.TransientError.General.MemoryPoolOutOfMemoryError",
    "Neo.TransientError.General.TransactionMemoryLimit",
}
# A writer that loses a race to create the same id retries once it sees it.
_CONSTRAINT_RETRIES = 3


# -- writes ----------------------------------------------------------------------------------
# New videos travel as positional rows (see _video_row); a null property is
# simply not set, so optional fields need no special case.
_VIDEO_PROPERTIES = (
    "id: row[0], prompt: row[1], parent_id: row[2], title: row[3], creator: row[4], "
    "created_us: row[5], likes: row[6], views: row[7], generation: row[8], "
    "original_id: row[9], derivative_count: row[10], direct_remix_count: row[11], "
    "tree_depth: row[12], generation_counts: row[13], "
    "subtree_likes: row[18], subtree_views: row[19], "
    # Rank keys (see lineage.stores.neo4j.ranks) and, on remixes, the variant key.
    "rank_derivatives: -row[10], rank_direct: -row[11], rank_likes: -coalesce(row[6], 0), "
    f"rank_views: -coalesce(row[7], 0), rank_newest: {newest_rank('row[5]')}, "
    "rank_subtree_likes: -row[18], rank_subtree_views: -row[19], "
    "variant_key: row[15], "
    # The normalised searchable text (lineage.stores.neo4j.search).
    "search_text: row[20], "
    # The video's own version (the response cache's): 1 when created.
    "version: 1"
)
_CREATE_ORIGINALS = (
    f"UNWIND $rows AS row CREATE (:Video:Original {{{_VIDEO_PROPERTIES}}}) "
    "RETURN count(*) AS created"
)
_CREATE_REMIXES = (
    "UNWIND $rows AS row "
    "MATCH (p:Video {id: row[2]}) "
    f"CREATE (:Video {{{_VIDEO_PROPERTIES}}})-[:REMIX_OF "
    "{summary: row[14], variant_key: row[15], similarity: row[16], ops: row[17]}]->(p) "
    "RETURN count(*) AS created"
)
# Stored ancestors of new remixes: every increment in one statement. The
# per-generation increments come as [generation, count] pairs and land at
# index generation - v.generation - 1 of the video's list.
_UPDATE_STORED_AGGREGATES = (
    "UNWIND $rows AS row MATCH (v:Video {id: row[0]}) "
    "WITH v, row, coalesce(v.generation_counts, []) AS current "
    "WITH v, row, current, reduce(width = size(current), pair IN row[4] | "
    "CASE WHEN pair[0] - v.generation > width THEN pair[0] - v.generation ELSE width END"
    ") AS width "
    f"SET {BUMP_VERSION}, v.rank_derivatives = -(v.derivative_count + row[1]), "
    "v.rank_direct = -(v.direct_remix_count + row[2]), "
    "v.derivative_count = v.derivative_count + row[1], "
    "v.direct_remix_count = v.direct_remix_count + row[2], "
    "v.tree_depth = CASE WHEN v.tree_depth < row[3] THEN row[3] ELSE v.tree_depth END, "
    "v.generation_counts = [i IN range(0, width - 1) | coalesce(current[i], 0) + "
    "reduce(add = 0, pair IN row[4] | "
    "add + CASE WHEN pair[0] - v.generation - 1 = i THEN pair[1] ELSE 0 END)]"
)
_ADD_VARIANT_GROUPS = (
    "UNWIND $rows AS row "
    "MERGE (g:VariantGroup {parent_id: row[0], key: row[1]}) "
    "ON CREATE SET g.remix_count = row[2], g.reach = row[3], g.rank_reach = -row[3] "
    "ON MATCH SET g.rank_reach = -(g.reach + row[3]), "
    "g.remix_count = g.remix_count + row[2], g.reach = g.reach + row[3]"
)
# Groups and hour buckets of videos new in the plan: nothing stored can hold
# their keys (a video not yet committed takes no remix from another writer),
# so they are created outright, without MERGE's lookup and lock per row.
_CREATE_VARIANT_GROUPS = (
    "UNWIND $rows AS row CREATE (:VariantGroup "
    "{parent_id: row[0], key: row[1], remix_count: row[2], reach: row[3], rank_reach: -row[3]})"
)
_CREATE_HOURS = (
    "UNWIND $rows AS row CREATE (:RemixHour "
    "{video_id: row[0], hour: row[1], parent_key: row[2], count: row[3]})"
)
_UPDATE_METADATA = (
    "UNWIND $rows AS row MATCH (v:Video {id: row.id}) "
    "SET v.title = row.title, v.creator = row.creator, v.created_us = row.created_us, "
    "v.search_text = row.search_text, "
    f"v.rank_newest = {newest_rank('row.created_us')} "
    # Its ancestors' lists of remixes may be ordered by what changed.
    "WITH v MATCH (v)-[:REMIX_OF*0..]->(a:Video) SET a.version = coalesce(a.version, 0) + 1"
)
# Changed likes and views of stored videos are applied as increments (with
# their subtree totals) by engagement.write_time_aggregates.
# Taking the trees' write locks first serializes writers within one tree
# (and only there), so their increments apply in turn; locks are taken in
# original id order, so writers spanning several trees cannot deadlock on them.
# The lock is a small node of its own per tree, not the original: a viral
# original is a dense node, and writing to it before holding the lock took
# Neo4j's own relationship-group locks on it, which deadlocked with the
# commit of the writer holding the lock (8 writers, one hot original).
_LOCK_TREES_AND_READ_PATHS = (
    "UNWIND $ids AS id MATCH (v:Video {id: id}) "
    "WITH DISTINCT v.original_id AS original_id ORDER BY original_id "
    f"{LOCK_TREE}WITH count(*) AS locked {_LINEAGE_PATHS}"
)


class _CountingTransaction:
    """A managed transaction that counts the statements it sends on its store."""

    def __init__(self, tx: neo4j.ManagedTransaction, owner: Any) -> None:
        self._tx = tx
        self._owner = owner

    def run(self, *args: Any, **kwargs: Any) -> neo4j.Result:
        self._owner.write_queries_sent += 1
        return self._tx.run(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)


def counting(tx: neo4j.ManagedTransaction, owner: Any) -> neo4j.ManagedTransaction:
    """``tx``, counting each statement in ``owner.write_queries_sent``."""
    return cast(neo4j.ManagedTransaction, _CountingTransaction(tx, owner))


class _TransactionView:
    """The planner's reads, inside the write transaction."""

    def __init__(
        self,
        tx: neo4j.ManagedTransaction,
        *,
        lock_trees: bool = True,
        vetted: bool = False,
        locked: set[str] | None = None,
    ) -> None:
        self.tx = tx
        # A dry run (read transaction) plans without taking write locks.
        self.lock_trees = lock_trees
        # Trees this transaction holds the lock of (see tree_lock: never twice).
        self.locked = locked if locked is not None else set()
        # A part of a large import that a dry run over the whole input accepted:
        # its remixes of removed videos came in with them (an export's tombstones).
        self.remixes_vetted = vetted

    def _run(self, read: _Read[T]) -> T:
        return read.answer(list(self.tx.run(read.cypher, read.parameters)))

    def get_videos(self, video_ids: Sequence[str]) -> dict[str, VideoRecord]:
        return self._run(_read_videos(video_ids))

    def lineage_path(self, video_id: str) -> list[PathNode]:
        return self.lineage_paths([video_id]).get(video_id, [])

    def lineage_paths(self, video_ids: Sequence[str]) -> dict[str, list[PathNode]]:
        query = _LOCK_TREES_AND_READ_PATHS if self.lock_trees else _LINEAGE_PATHS
        paths = {row["id"]: _path_nodes([row]) for row in self.tx.run(query, ids=list(video_ids))}
        if self.lock_trees:
            self.locked.update(path[0].original_id for path in paths.values() if path)
        return paths

    def video_rights(self, video_ids: Sequence[str]) -> dict[str, VideoRights]:
        return self._run(read_video_rights(video_ids))


def _too_large(record_count: int, *, atomic: bool, group_size: int) -> LimitExceeded:
    advice = (
        "import without --atomic (large inputs are then written in parts) or give the "
        "server a larger heap"
        if atomic
        else "give the server a larger heap (server.memory.heap.max_size) or write smaller "
        f"transactions: LINEAGE_NEO4J_IMPORT_GROUP below {group_size:,} records"
    )
    return LimitExceeded(
        f"importing {record_count:,} records in one transaction needs more transaction "
        "memory than the Neo4j server allows (db.memory.transaction.total.max, about 70% "
        f"of its heap, shared by the transactions in flight); {advice}"
    )


def _parents_first_parts(
    records: list[SourcedRecord], part_size: int
) -> Iterator[list[SourcedRecord]]:
    """Cut accepted records into parts of about ``part_size``, each record's parent in
    an earlier part, the same part, or the store; lines of one id stay together.

    Parts follow a depth-first walk of the input's trees, so a part holds
    whole subtrees where it can: few of its records attach to videos of
    earlier parts, and each part updates few stored ancestors.

    Records must be validated (:func:`~lineage.importing.validation.validated` hands
    them on as :class:`~lineage.models.VideoInput`) and free of cycles.
    """
    lines_of: dict[str, list[int]] = {}
    parent_of: dict[str, str | None] = {}
    for at, record in enumerate(records):
        video = record.data
        assert isinstance(video, VideoInput)
        lines_of.setdefault(video.id, []).append(at)
        parent_of.setdefault(video.id, video.parent_id)
    children: dict[str, list[str]] = {}
    tops: list[str] = []
    for video_id, parent_id in parent_of.items():
        if parent_id is not None and parent_id in parent_of:
            children.setdefault(parent_id, []).append(video_id)
        else:
            tops.append(video_id)
    part: list[int] = []
    stack = list(reversed(tops))
    while stack:
        video_id = stack.pop()
        part.extend(lines_of[video_id])
        stack.extend(reversed(children.get(video_id, ())))
        if len(part) >= part_size:
            yield [records[at] for at in sorted(part)]  # input order within a part
            part = []
    if part:
        yield [records[at] for at in sorted(part)]


def _as_list(by_generation: dict[int, int], base: int) -> list[int]:
    """Counts by absolute generation as the stored list of a video of generation
    ``base``: index 0 is generation ``base + 1``."""
    width = max(by_generation) - base
    counts = [0] * width
    for generation, count in by_generation.items():
        counts[generation - base - 1] += count
    return counts


def _video_row(row: tuple[Any, ...], counts: list[int] | None, search_text: str) -> list[Any]:
    """A plan row as the positional row the CREATE statements read."""
    return [
        row[0],  # id
        row[2],  # prompt
        row[1],  # parent_id
        row[3],  # title
        row[4],  # creator
        row[5],  # created_us
        *row[6:13],  # likes, views, generation, original_id, and the three counters
        counts or None,
        *row[13:17],  # summary, variant_key, similarity, ops (None for originals)
        row[17],  # subtree likes
        row[18],  # subtree views
        search_text,
    ]


def _new_counts(plan: ImportPlan) -> dict[str, dict[int, int]]:
    """New videos' per-generation counts (they go in with the videos), by id."""
    fields = plan.fields
    return {fields[index][0]: counts for index, counts in plan.generation_counts.items()}


def _create_rows(
    batch: Sequence[tuple[Any, ...]],
    new_counts: dict[str, dict[int, int]],
    normalise_text: Callable[[str], str],
    levels: dict[str, int] | None = None,
) -> tuple[list[list[Any]], dict[int, list[list[Any]]]]:
    """A batch of plan rows as CREATE rows: the originals, and the remixes by generation
    (or by ``levels``, each remix's above its new parent's).

    One statement per generation: a statement's MATCH may run before its own
    CREATEs, so a remix never shares one with its parent.
    """
    originals: list[list[Any]] = []
    remixes: dict[int, list[list[Any]]] = {}
    for row in batch:
        own = new_counts.get(row[0])
        text = FIELD_SEPARATOR.join(
            [normalise_text(row[2]), normalise_text(row[3] or ""), normalise_text(row[4] or "")]
        )
        video = _video_row(row, _as_list(own, row[8]) if own else None, text)
        if row[1] is None:
            originals.append(video)
        else:
            level = row[8] if levels is None else levels[row[0]]
            remixes.setdefault(level, []).append(video)
    return originals, remixes


def _after_creates(
    plan: ImportPlan,
    locked: set[str] | frozenset[str],
    *,
    closure: bool = True,
    every: bool = False,
    create_new: bool = False,
) -> list[tuple[str, dict[str, Any]]]:
    """Every statement of a plan after its CREATEs, in order, with its parameters
    (but for the descendant closure's unless ``closure``; those with nothing to write
    too when ``every``, so that one statement of them all keeps one text; with
    ``create_new``, the variant groups and hour buckets of new videos are created by
    statements of their own instead of merged)."""
    stored = [
        [
            video_id,
            delta.derivative_count,
            delta.direct_remix_count,
            delta.tree_depth_floor,
            [[generation, count] for generation, count in delta.generation_counts.items()],
        ]
        for video_id, delta in plan.existing.items()
        if delta.lineage_changed
    ]
    metadata = [
        {
            "id": video_id,
            "title": title,
            "creator": creator,
            "created_us": None if created_at is None else epoch_micros(created_at),
            "search_text": searchable_text(prompt, title, creator),
        }
        for (video_id, _, prompt, title, creator, created_at, _, _) in (
            plan.metadata_updates.values()
        )
    ]
    groups = [list(row) for row in plan.variant_group_rows()]
    over_time = time_aggregate_steps(plan)
    new_groups: list[Any] = []
    new_hours: list[Any] = []
    if create_new:
        new_ids = {plan.fields[index][0] for index in plan.order}
        new_groups = [row for row in groups if row[0] in new_ids]
        groups = [row for row in groups if row[0] not in new_ids]
        over_time = [
            (cypher, [row for row in rows if row[0] not in new_ids])
            if cypher == _ADD_HOURS
            else (cypher, rows)
            for cypher, rows in over_time
        ]
        new_hours = [
            [video_id, hour, parent or ORIGINAL_PARENT_KEY, count]
            for video_id, hour, parent, count in plan.new_hour_rows()
        ]
    steps: list[tuple[str, list[Any]]] = [
        (_UPDATE_STORED_AGGREGATES, stored),
        (_CREATE_VARIANT_GROUPS, new_groups),
        (_ADD_VARIANT_GROUPS, groups),
        (_UPDATE_METADATA, metadata),
        (_CREATE_HOURS, new_hours),
        *over_time,
        *rights_plan_steps(plan.rights),
        (CREATE_CLOSURE, [list(row) for row in closure_rows(plan)] if closure else []),
    ]
    statements = [(cypher, {"rows": rows}) for cypher, rows in steps if rows or every]
    trees = {plan.original_id[index] for index in plan.order}
    versions = tree_version_step(trees, list(plan.metadata_updates), locked, always=every)
    if versions is not None:
        statements.append(versions)
    return statements


def _write_plan(
    tx: neo4j.ManagedTransaction,
    plan: ImportPlan,
    batch_size: int,
    progress: bool,
    locked: set[str] | frozenset[str] = frozenset(),
) -> None:
    # Normalised field texts (lineage.search.text): remixes repeat their parents' prompts.
    normalised = functools.lru_cache(maxsize=65_536)(normalise)
    new_counts = _new_counts(plan)
    # Statements sent but not yet checked: the server runs them while this
    # process computes the next batch's diffs and rows.
    pending: list[tuple[neo4j.Result, int, int]] = []

    def check_pending() -> None:
        for result, expected, generation in pending:
            created = result.single(strict=True)["created"]
            if created != expected:  # a parent the plan counted on is missing
                raise _missing_parent(created, expected, generation)
        pending.clear()

    with progress_bar(plan.new_video_count, "writing", enabled=progress) as bar:
        for batch in plan.video_rows(batch_size):
            originals, remixes = _create_rows(batch, new_counts, normalised)
            check_pending()
            bar.update(len(batch))
            if originals:
                pending.append((tx.run(_CREATE_ORIGINALS, rows=originals), len(originals), 0))
            for generation in sorted(remixes):
                rows = remixes[generation]
                pending.append((tx.run(_CREATE_REMIXES, rows=rows), len(rows), generation))
        check_pending()
    # The closure streams in batches: a large part has many rows.
    write_closure(tx, plan, batch_size)
    for cypher, parameters in _after_creates(plan, locked, closure=False, create_new=True):
        if "rows" in parameters:
            _run_batches(tx, cypher, parameters["rows"], batch_size)
        else:
            tx.run(cypher, parameters).consume()


def _missing_parent(created: int, expected: int, generation: int) -> StoreUnavailable:
    return StoreUnavailable(
        f"Neo4j created {created} of {expected} videos of generation "
        f"{generation}; the import was rolled back"
    )


def _run_batches(
    tx: neo4j.ManagedTransaction, cypher: str, rows: Sequence[Any], batch_size: int
) -> None:
    for start in range(0, len(rows), batch_size):
        tx.run(cypher, rows=rows[start : start + batch_size]).consume()
