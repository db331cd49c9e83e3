"""The production store: a Neo4j server, through the official driver.

Model: ``(:Video {id, prompt, ..., aggregates})`` nodes, originals also
labelled ``:Original``, and ``(remix)-[:REMIX_OF {summary, variant_key,
similarity, ops}]->(parent)`` edges. Per-generation counts are a list
property of each video (index 0 is the generation just below it); variant
groups are ``(:VariantGroup {parent_id, key, remix_count, reach})`` nodes.

Writes are managed write transactions (retried by the driver on transient
errors and deadlocks): the planner of :mod:`lineage.importer` reads through
the transaction and the plan is written in ``UNWIND`` batches in the same
transaction, aggregates included, so counts never drift. Before it reads a
stored tree, a writer takes the write lock of that tree's original, so
writers remixing in one tree serialize there and every increment is applied
to what the previous writer committed. Large imports are split into
transactions that each leave the store exact (see
:meth:`Neo4jStore.import_videos`).

Reads are single Cypher queries. Each is built once as a :class:`_Read`
(Cypher, parameters, and how to turn the records into the answer), run by
the blocking store and by :class:`AsyncNeo4jReads` alike.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import neo4j
from neo4j.exceptions import (
    AuthError,
    ConstraintError,
    Neo4jError,
    ServiceUnavailable,
    TransientError,
)

from lineage.errors import LimitExceeded, StoreUnavailable
from lineage.importer import (
    ImportPlan,
    ImportReport,
    SourcedRecord,
    plan_import,
    sort_rejections,
    split_by_lineage,
    validated,
)
from lineage.models import (
    DiffOp,
    GenerationCount,
    PromptDiff,
    VideoInput,
    VideoRecord,
    epoch_micros,
)
from lineage.models import from_epoch_micros as _from_micros
from lineage.progress import progress_bar
from lineage.queries import NULL_TIME
from lineage.store import LineageRow, PathNode, VariantGroupRow, VideoOrder

__all__ = [
    "BATCH_SIZE",
    "GROUP_SIZE",
    "PART_SIZE",
    "SCHEMA_DIR",
    "AsyncNeo4jReads",
    "Neo4jStore",
    "apply_schema",
]

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schema" / "neo4j"

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

T = TypeVar("T")

_MEASURE = {
    VideoOrder.DERIVATIVES: "v.derivative_count",
    VideoOrder.DIRECT_REMIXES: "v.direct_remix_count",
    VideoOrder.LIKES: "v.likes",
    VideoOrder.VIEWS: "v.views",
    VideoOrder.NEWEST: f"coalesce(v.created_us, {NULL_TIME})",
}

_VIDEO = "v {.*} AS v, r {.*} AS r"


# -- records -------------------------------------------------------------------------
def _record(video: dict[str, Any], edge: dict[str, Any] | None) -> VideoRecord:
    diff = None
    if edge is not None:
        diff = PromptDiff.model_construct(
            summary=edge["summary"],
            variant_key=edge["variant_key"],
            similarity=edge["similarity"],
            ops=tuple(
                DiffOp.model_construct(op=op, before=before, after=after)
                for op, before, after in json.loads(edge["ops"])
            ),
        )
    created_us = video.get("created_us")
    return VideoRecord.model_construct(
        id=video["id"],
        parent_id=video.get("parent_id"),
        prompt=video["prompt"],
        title=video.get("title"),
        creator=video.get("creator"),
        created_at=None if created_us is None else _from_micros(created_us),
        likes=video.get("likes", 0),
        views=video.get("views", 0),
        generation=video["generation"],
        original_id=video["original_id"],
        derivative_count=video["derivative_count"],
        direct_remix_count=video["direct_remix_count"],
        tree_depth=video["tree_depth"],
        prompt_diff=diff,
    )


def _generation_counts(generation: int, counts: list[int] | None) -> list[GenerationCount]:
    return [
        GenerationCount(generation=generation + 1 + offset, count=count)
        for offset, count in enumerate(counts or ())
        if count
    ]


# -- reads: one query each, shared by the blocking and the async store ---------------
@dataclass(frozen=True, slots=True)
class _Read(Generic[T]):
    cypher: str
    parameters: dict[str, Any]
    answer: Callable[[list[neo4j.Record]], T]


def _read_videos(video_ids: Sequence[str]) -> _Read[dict[str, VideoRecord]]:
    return _Read(
        "UNWIND $ids AS id MATCH (v:Video {id: id}) "
        f"OPTIONAL MATCH (v)-[r:REMIX_OF]->() RETURN {_VIDEO}",
        {"ids": list(dict.fromkeys(video_ids))},
        lambda records: {row["v"]["id"]: _record(row["v"], row["r"]) for row in records},
    )


def _path_nodes(records: list[neo4j.Record]) -> list[PathNode]:
    if not records:
        return []
    nodes, keys = records[0]["nodes"], records[0]["keys"]
    return [
        PathNode(video_id, generation, original_id, keys[step] if step < len(keys) else None)
        for step, (video_id, generation, original_id) in enumerate(nodes)
    ]


def _read_lineage_path(video_id: str) -> _Read[list[PathNode]]:
    return _Read(_LINEAGE_PATHS, {"ids": [video_id]}, _path_nodes)


def _read_generation_counts_many(
    video_ids: Sequence[str],
) -> _Read[dict[str, list[GenerationCount]]]:
    def answer(records: list[neo4j.Record]) -> dict[str, list[GenerationCount]]:
        counts: dict[str, list[GenerationCount]] = {video_id: [] for video_id in video_ids}
        for row in records:
            counts[row["id"]] = _generation_counts(row["generation"], row["counts"])
        return counts

    return _Read(
        "UNWIND $ids AS id MATCH (v:Video {id: id}) "
        "RETURN v.id AS id, v.generation AS generation, v.generation_counts AS counts",
        {"ids": list(dict.fromkeys(video_ids))},
        answer,
    )


def _read_variant_groups(video_id: str, limit: int) -> _Read[list[VariantGroupRow]]:
    return _Read(
        "MATCH (g:VariantGroup {parent_id: $id}) "
        "RETURN g.key AS key, g.remix_count AS remix_count, g.reach AS reach "
        "ORDER BY reach DESC, key LIMIT $limit",
        {"id": video_id, "limit": limit},
        lambda records: [
            VariantGroupRow(row["key"], row["remix_count"], row["reach"]) for row in records
        ],
    )


def _read_group_tops(
    groups: Sequence[tuple[str, str]],
) -> _Read[dict[tuple[str, str], VideoRecord]]:
    def answer(records: list[neo4j.Record]) -> dict[tuple[str, str], VideoRecord]:
        return {
            (row["v"]["parent_id"], row["r"]["variant_key"]): _record(row["v"], row["r"])
            for row in records
        }

    return _Read(
        "UNWIND $groups AS grp CALL (grp) { "
        "MATCH (v:Video)-[r:REMIX_OF]->(:Video {id: grp[0]}) WHERE r.variant_key = grp[1] "
        "RETURN v, r ORDER BY v.derivative_count DESC, v.id LIMIT 1 } "
        f"RETURN {_VIDEO}",
        {"groups": [list(group) for group in dict.fromkeys(groups)]},
        answer,
    )


def _read_children(
    parent_id: str | None, order: VideoOrder, first: int, after: tuple[int, str] | None
) -> _Read[list[VideoRecord]]:
    measure = _MEASURE[order]
    where = (
        ""
        if after is None
        else (f"WHERE {measure} < $measure OR ({measure} = $measure AND v.id > $after_id) ")
    )
    parameters: dict[str, Any] = {"parent_id": parent_id, "first": first}
    if after is not None:
        parameters |= {"measure": after[0], "after_id": after[1]}
    if parent_id is None:
        cypher = (
            f"MATCH (v:Original) {where}WITH v, null AS r "
            f"ORDER BY {measure} DESC, v.id LIMIT $first RETURN {_VIDEO}"
        )
    else:
        cypher = (
            f"MATCH (v:Video)-[r:REMIX_OF]->(:Video {{id: $parent_id}}) {where}"
            f"WITH v, r ORDER BY {measure} DESC, v.id LIMIT $first RETURN {_VIDEO}"
        )
    return _Read(
        cypher, parameters, lambda records: [_record(row["v"], row["r"]) for row in records]
    )


def _read_children_many(
    parent_ids: Sequence[str], order: VideoOrder, first: int
) -> _Read[dict[str, list[VideoRecord]]]:
    measure = _MEASURE[order]

    def answer(records: list[neo4j.Record]) -> dict[str, list[VideoRecord]]:
        found: dict[str, list[VideoRecord]] = {parent_id: [] for parent_id in parent_ids}
        for row in records:
            found[row["parent_id"]].append(_record(row["v"], row["r"]))
        return found

    return _Read(
        "UNWIND $ids AS parent_id CALL (parent_id) { "
        "MATCH (v:Video)-[r:REMIX_OF]->(:Video {id: parent_id}) "
        f"RETURN v, r ORDER BY {measure} DESC, v.id LIMIT $first }} "
        f"RETURN parent_id, {_VIDEO}",
        {"ids": list(dict.fromkeys(parent_ids)), "first": first},
        answer,
    )


def _read_count_children(parent_id: str | None) -> _Read[int]:
    if parent_id is None:
        return _Read(
            "MATCH (v:Original) RETURN count(v) AS n", {}, lambda records: int(records[0]["n"])
        )
    return _Read(
        "OPTIONAL MATCH (v:Video {id: $id}) RETURN coalesce(v.direct_remix_count, 0) AS n",
        {"id": parent_id},
        lambda records: int(records[0]["n"]),
    )


def _read_children_ids(parent_ids: Sequence[str]) -> _Read[list[str]]:
    return _Read(
        "UNWIND $ids AS parent_id MATCH (v:Video)-[:REMIX_OF]->(:Video {id: parent_id}) "
        "RETURN v.id AS id",
        {"ids": list(parent_ids)},
        lambda records: [row["id"] for row in records],
    )


# -- schema --------------------------------------------------------------------------------
def schema_statements(directory: Path = SCHEMA_DIR) -> list[str]:
    """The Cypher statements of ``schema/neo4j/*.cypher``, in file order."""
    statements: list[str] = []
    for path in sorted(directory.glob("*.cypher")):
        text = "\n".join(
            line
            for line in path.read_text(encoding="utf-8").splitlines()
            if not line.lstrip().startswith("//")
        )
        statements += [part.strip() for part in text.split(";") if part.strip()]
    return statements


def apply_schema(driver: neo4j.Driver, database: str) -> None:
    """Create the constraints and indexes that are missing (idempotent), then wait for them."""
    with driver.session(database=database) as session:
        for statement in schema_statements():
            session.run(statement).consume()
        session.run("CALL db.awaitIndexes(300)").consume()


# -- writes ----------------------------------------------------------------------------------
# New videos travel as positional rows (see _video_row); a null property is
# simply not set, so optional fields need no special case.
_VIDEO_PROPERTIES = (
    "id: row[0], prompt: row[1], parent_id: row[2], title: row[3], creator: row[4], "
    "created_us: row[5], likes: row[6], views: row[7], generation: row[8], "
    "original_id: row[9], derivative_count: row[10], direct_remix_count: row[11], "
    "tree_depth: row[12], generation_counts: row[13]"
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
    "SET v.derivative_count = v.derivative_count + row[1], "
    "v.direct_remix_count = v.direct_remix_count + row[2], "
    "v.tree_depth = CASE WHEN v.tree_depth < row[3] THEN row[3] ELSE v.tree_depth END, "
    "v.generation_counts = [i IN range(0, width - 1) | coalesce(current[i], 0) + "
    "reduce(add = 0, pair IN row[4] | "
    "add + CASE WHEN pair[0] - v.generation - 1 = i THEN pair[1] ELSE 0 END)]"
)
_ADD_VARIANT_GROUPS = (
    "UNWIND $rows AS row "
    "MERGE (g:VariantGroup {parent_id: row[0], key: row[1]}) "
    "ON CREATE SET g.remix_count = row[2], g.reach = row[3] "
    "ON MATCH SET g.remix_count = g.remix_count + row[2], g.reach = g.reach + row[3]"
)
_UPDATE_METADATA = (
    "UNWIND $rows AS row MATCH (v:Video {id: row.id}) "
    "SET v.title = row.title, v.creator = row.creator, v.created_us = row.created_us, "
    "v.likes = row.likes, v.views = row.views"
)
# Taking the trees' write locks first serializes writers within one tree
# (and only there), so their increments apply in turn; locks are taken in
# original id order, so writers spanning several trees cannot deadlock on them.
_LINEAGE_PATHS = (
    "UNWIND $ids AS id MATCH path = (:Video {id: id})-[:REMIX_OF*0..]->(:Original) "
    "RETURN id, [n IN nodes(path) | [n.id, n.generation, n.original_id]] AS nodes, "
    "[e IN relationships(path) | e.variant_key] AS keys"
)
# The lock is a small node of its own per tree, not the original: a viral
# original is a dense node, and writing to it before holding the lock took
# Neo4j's own relationship-group locks on it, which deadlocked with the
# commit of the writer holding the lock (8 writers, one hot original).
_LOCK_TREES_AND_READ_PATHS = (
    "UNWIND $ids AS id MATCH (v:Video {id: id}) "
    "WITH DISTINCT v.original_id AS original_id ORDER BY original_id "
    "MERGE (lock:TreeLock {original_id: original_id}) "
    "SET lock.write_seq = coalesce(lock.write_seq, 0) + 1 "
    f"WITH count(lock) AS locked {_LINEAGE_PATHS}"
)


class _TransactionView:
    """The planner's reads, inside the write transaction."""

    def __init__(self, tx: neo4j.ManagedTransaction, *, lock_trees: bool = True) -> None:
        self.tx = tx
        # A dry run (read transaction) plans without taking write locks.
        self.lock_trees = lock_trees

    def _run(self, read: _Read[T]) -> T:
        return read.answer(list(self.tx.run(read.cypher, read.parameters)))

    def get_videos(self, video_ids: Sequence[str]) -> dict[str, VideoRecord]:
        return self._run(_read_videos(video_ids))

    def lineage_path(self, video_id: str) -> list[PathNode]:
        return self.lineage_paths([video_id]).get(video_id, [])

    def lineage_paths(self, video_ids: Sequence[str]) -> dict[str, list[PathNode]]:
        query = _LOCK_TREES_AND_READ_PATHS if self.lock_trees else _LINEAGE_PATHS
        return {row["id"]: _path_nodes([row]) for row in self.tx.run(query, ids=list(video_ids))}


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

    Records must be validated (:func:`~lineage.importer.validated` hands
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


def _video_row(row: tuple[Any, ...], counts: list[int] | None) -> list[Any]:
    """A plan row as the positional row the CREATE statements read."""
    created_at = row[5]
    return [
        row[0],  # id
        row[2],  # prompt
        row[1],  # parent_id
        row[3],  # title
        row[4],  # creator
        None if created_at is None else epoch_micros(created_at),
        *row[6:13],  # likes, views, generation, original_id, and the three counters
        counts or None,
        *row[13:17],  # summary, variant_key, similarity, ops (None for originals)
    ]


def _write_plan(
    tx: neo4j.ManagedTransaction, plan: ImportPlan, batch_size: int, progress: bool
) -> None:
    # New videos' per-generation counts go in with them.
    fields = plan.fields
    new_counts = {fields[index][0]: counts for index, counts in plan.generation_counts.items()}
    # Statements sent but not yet checked: the server runs them while this
    # process computes the next batch's diffs and rows.
    pending: list[tuple[neo4j.Result, int, int]] = []

    def check_pending() -> None:
        for result, expected, generation in pending:
            created = result.single(strict=True)["created"]
            if created != expected:  # a parent the plan counted on is missing
                raise StoreUnavailable(
                    f"Neo4j created {created} of {expected} videos of generation "
                    f"{generation}; the import was rolled back"
                )
        pending.clear()

    with progress_bar(plan.new_video_count, "writing", enabled=progress) as bar:
        for batch in plan.video_rows(batch_size):
            originals: list[list[Any]] = []
            # One statement per generation: a statement's MATCH may run before
            # its own CREATEs, so a remix never shares one with its parent.
            remixes: dict[int, list[list[Any]]] = {}
            for row in batch:
                own = new_counts.get(row[0])
                video = _video_row(row, _as_list(own, row[8]) if own else None)
                if row[1] is None:
                    originals.append(video)
                else:
                    remixes.setdefault(row[8], []).append(video)
            check_pending()
            bar.update(len(batch))
            if originals:
                pending.append((tx.run(_CREATE_ORIGINALS, rows=originals), len(originals), 0))
            for generation in sorted(remixes):
                rows = remixes[generation]
                pending.append((tx.run(_CREATE_REMIXES, rows=rows), len(rows), generation))
        check_pending()
    stored = [
        [
            video_id,
            delta.derivative_count,
            delta.direct_remix_count,
            delta.tree_depth_floor,
            [[generation, count] for generation, count in delta.generation_counts.items()],
        ]
        for video_id, delta in plan.existing.items()
    ]
    _run_batches(tx, _UPDATE_STORED_AGGREGATES, stored, batch_size)
    _run_batches(
        tx, _ADD_VARIANT_GROUPS, [list(row) for row in plan.variant_group_rows()], batch_size
    )
    metadata = [
        {
            "id": video_id,
            "title": title,
            "creator": creator,
            "created_us": None if created_at is None else epoch_micros(created_at),
            "likes": likes,
            "views": views,
        }
        for (video_id, _, _, title, creator, created_at, likes, views) in (
            plan.metadata_updates.values()
        )
    ]
    _run_batches(tx, _UPDATE_METADATA, metadata, batch_size)


def _run_batches(
    tx: neo4j.ManagedTransaction, cypher: str, rows: Sequence[Any], batch_size: int
) -> None:
    for start in range(0, len(rows), batch_size):
        tx.run(cypher, rows=rows[start : start + batch_size]).consume()


# -- the store -----------------------------------------------------------------------------------
class Neo4jStore:
    """A :class:`~lineage.store.LineageStore` on a Neo4j server.

    Parameters
    ----------
    uri, user, password, database : str
        Where the server is and who we are (``NEO4J_*`` in the environment).
    batch_size : int
        Rows per ``UNWIND`` statement in imports.
    group_size : int
        Records in flight: a non-atomic import of up to this many records is
        one transaction; a larger one goes in transactions of whole lineages
        of about ``group_size / import_workers`` records (a larger lineage in
        parents-first parts).
    import_workers : int
        Transactions of one large import written at the same time: one is
        planned in this process while the server writes the others.

    The schema (``schema/neo4j/*.cypher``) is applied when the store opens:
    constraints and indexes that exist are left as they are.
    """

    # Reads cross the network: the API runs them on its async driver.
    in_process = False

    def __init__(
        self,
        uri: str,
        user: str,
        password: str,
        database: str = "neo4j",
        *,
        batch_size: int = BATCH_SIZE,
        group_size: int = GROUP_SIZE,
        import_workers: int = 3,
    ) -> None:
        self.uri = uri
        self.database = database
        self.batch_size = batch_size
        self.group_size = group_size
        self.import_workers = import_workers
        self._auth = (user, password)
        # Our queries are fixed; the server's hints (e.g. "relationship type
        # does not exist" on an empty database) would only fill the logs.
        self._driver = neo4j.GraphDatabase.driver(
            uri, auth=self._auth, notifications_min_severity="OFF"
        )
        try:
            self._driver.verify_connectivity()
            apply_schema(self._driver, database)
        except (ServiceUnavailable, AuthError, Neo4jError, OSError, ValueError) as error:
            self._driver.close()
            raise StoreUnavailable(
                f"cannot open Neo4j store at {uri} ({database}): {error}"
            ) from error
        self.async_reads = AsyncNeo4jReads(uri, self._auth, database)

    def __repr__(self) -> str:
        return f"Neo4jStore({self.uri!r}, database={self.database!r})"

    def _read(self, read: _Read[T]) -> T:
        records, _, _ = self._driver.execute_query(
            read.cypher,
            read.parameters,
            database_=self.database,
            routing_=neo4j.RoutingControl.READ,
        )
        return read.answer(records)

    # -- lifecycle ----------------------------------------------------------------
    def close(self) -> None:
        self._driver.close()
        self.async_reads.close()

    def ping(self) -> bool:
        try:
            self._driver.execute_query("RETURN 1", database_=self.database)
        except (Neo4jError, ServiceUnavailable, OSError):
            return False
        return True

    def data_version(self) -> object | None:
        # A store-wide version would make every write lock one node and
        # serialize all trees; the API scales out instead of caching here.
        return None

    # -- writes ---------------------------------------------------------------------
    def import_videos(
        self, records: Iterable[SourcedRecord], *, atomic: bool = False, progress: bool = False
    ) -> ImportReport:
        # The driver may run a transaction again: keep the input to replay it.
        materialized = list(records)
        if atomic or len(materialized) <= self.group_size:
            return self._import_in_one_transaction(materialized, atomic=atomic, progress=progress)

        # Large imports: one transaction per group of whole lineages (see
        # split_by_lineage; a lineage larger than a group goes in parts), so
        # a transaction's memory stays bounded. Each commit leaves the store
        # exact; if one fails, what was committed stays and importing the
        # same input again completes the rest.
        group_size = max(1, self.group_size // self.import_workers)

        def import_group(group: list[SourcedRecord]) -> ImportReport:
            if len(group) <= group_size:
                return self._import_in_one_transaction(group, atomic=False, progress=False)
            return self._import_large_tree(group, group_size)

        total = ImportReport()
        groups = split_by_lineage(materialized, group_size)
        # Groups share no video, so they can be written side by side: one
        # plans in this process while the server writes the others (three
        # workers kept both cores of a 2-core host busier than two).
        with (
            progress_bar(len(materialized), "importing", enabled=progress) as bar,
            ThreadPoolExecutor(max_workers=self.import_workers) as pool,
        ):
            for group, report in zip(groups, pool.map(import_group, groups), strict=True):
                total.add(report)
                bar.update(len(group))
        sort_rejections(total.rejected, materialized)
        return total

    def _import_large_tree(self, records: list[SourcedRecord], group_size: int) -> ImportReport:
        """Import connected records too many for one transaction, in parents-first parts.

        A dry run plans the whole input in a read transaction: its rejections
        are exactly those one transaction would report. The accepted records
        are then written in parts of ``group_size``, parents before remixes:
        each part is an ordinary import onto what the parts before it stored,
        so every commit leaves the aggregates exact.
        """

        records = validated(records)  # once, for the dry run and the parts

        def dry_run(tx: neo4j.ManagedTransaction) -> ImportReport:
            return plan_import(records, _TransactionView(tx, lock_trees=False))[1]

        with self._driver.session(database=self.database) as session:
            planned = session.execute_read(dry_run)
        refused = {(rejection.source, rejection.line) for rejection in planned.rejected}
        accepted = [record for record in records if (record.source, record.line) not in refused]
        total = ImportReport(rejected=list(planned.rejected))
        part_size = min(group_size, max(1, PART_SIZE // self.import_workers))
        for part in _parents_first_parts(accepted, part_size):
            # Rejections here only if another writer got in between.
            total.add(self._import_in_one_transaction(part, atomic=False, progress=False))
        return total

    def _import_in_one_transaction(
        self, records: list[SourcedRecord], *, atomic: bool, progress: bool
    ) -> ImportReport:
        def too_large() -> LimitExceeded:
            return _too_large(len(records), atomic=atomic, group_size=self.group_size)

        def work(tx: neo4j.ManagedTransaction) -> ImportReport:
            try:
                plan, report = plan_import(records, _TransactionView(tx))
                if atomic and report.rejected:
                    report.written = False
                    return report
                _write_plan(tx, plan, self.batch_size, progress)
            except TransientError as error:
                # Retrying cannot help a transaction the server has no room for.
                if error.code in _OUT_OF_TRANSACTION_MEMORY:
                    raise too_large() from error
                raise
            return report

        for attempt in range(_CONSTRAINT_RETRIES):
            try:
                with self._driver.session(database=self.database) as session:
                    return session.execute_write(work)
            except TransientError as error:
                if error.code in _OUT_OF_TRANSACTION_MEMORY:  # refused at commit
                    raise too_large() from error
                raise
            except ConstraintError:
                # Another writer created one of these ids first; planning
                # again sees it and treats it as stored.
                if attempt == _CONSTRAINT_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    # -- point reads ------------------------------------------------------------------
    def get_video(self, video_id: str) -> VideoRecord | None:
        return self._read(_read_videos([video_id])).get(video_id)

    def get_videos(self, video_ids: Sequence[str]) -> dict[str, VideoRecord]:
        return self._read(_read_videos(video_ids))

    def lineage_path(self, video_id: str) -> list[PathNode]:
        return self._read(_read_lineage_path(video_id))

    def generation_counts(self, video_id: str) -> list[GenerationCount]:
        return self._read(_read_generation_counts_many([video_id]))[video_id]

    def generation_counts_many(self, video_ids: Sequence[str]) -> dict[str, list[GenerationCount]]:
        return self._read(_read_generation_counts_many(video_ids))

    def variant_groups(self, video_id: str, limit: int) -> list[VariantGroupRow]:
        return self._read(_read_variant_groups(video_id, limit))

    def group_tops(self, groups: Sequence[tuple[str, str]]) -> dict[tuple[str, str], VideoRecord]:
        return self._read(_read_group_tops(groups))

    # -- ranked lists -------------------------------------------------------------------
    def children(
        self,
        parent_id: str | None,
        order: VideoOrder,
        first: int,
        after: tuple[int, str] | None = None,
    ) -> list[VideoRecord]:
        return self._read(_read_children(parent_id, order, first, after))

    def children_many(
        self, parent_ids: Sequence[str], order: VideoOrder, first: int
    ) -> dict[str, list[VideoRecord]]:
        return self._read(_read_children_many(parent_ids, order, first))

    def count_children(self, parent_id: str | None) -> int:
        return self._read(_read_count_children(parent_id))

    def children_ids(self, parent_ids: Sequence[str]) -> list[str]:
        return self._read(_read_children_ids(parent_ids))

    # -- whole-store scans ------------------------------------------------------------------
    def _stream(self, cypher: str) -> Iterator[neo4j.Record]:
        # One read transaction, consumed as it arrives: memory stays flat.
        with (
            self._driver.session(database=self.database, fetch_size=10_000) as session,
            session.begin_transaction() as tx,
        ):
            yield from tx.run(cypher)

    def iter_lineage_rows(self) -> Iterator[LineageRow]:
        for row in self._stream(
            "MATCH (v:Video) OPTIONAL MATCH (v)-[r:REMIX_OF]->(p) "
            "RETURN v.id, p.id, v.generation, v.original_id, v.derivative_count, "
            "v.direct_remix_count, v.tree_depth, r.variant_key"
        ):
            yield LineageRow(*row.values())

    def _video_pages(self, page_size: int) -> Iterator[list[neo4j.Record]]:
        # Generation by generation (parents before remixes), keyset pages by id
        # within one: the (generation, id) index answers each page in order.
        # A generation with no video ends the scan: the next one is empty too.
        generation, after = 0, ""
        while True:
            page: list[neo4j.Record] = self._read(
                _Read(
                    "MATCH (v:Video) WHERE v.generation = $generation AND v.id > $id "
                    "WITH v ORDER BY v.id LIMIT $size "
                    f"OPTIONAL MATCH (v)-[r:REMIX_OF]->() RETURN {_VIDEO}",
                    {"generation": generation, "id": after, "size": page_size},
                    lambda records: records,
                )
            )
            if page:
                yield page
            if len(page) == page_size:
                after = page[-1]["v"]["id"]
            elif page or after:
                generation, after = generation + 1, ""
            else:
                return

    def iter_video_rows(self, page_size: int = 2000) -> Iterator[tuple[Any, ...]]:
        for page in self._video_pages(page_size):
            for row in page:
                video, edge = row["v"], row["r"] or {}
                yield (
                    video["id"],
                    video.get("parent_id"),
                    video["prompt"],
                    video.get("title"),
                    video.get("creator"),
                    video.get("created_us"),
                    video.get("likes", 0),
                    video.get("views", 0),
                    video["generation"],
                    video["original_id"],
                    video["derivative_count"],
                    video["direct_remix_count"],
                    video["tree_depth"],
                    edge.get("summary"),
                    edge.get("variant_key"),
                    edge.get("similarity"),
                    edge.get("ops"),
                )

    def iter_videos(self, page_size: int = 2000) -> Iterator[VideoRecord]:
        for page in self._video_pages(page_size):
            for row in page:
                yield _record(row["v"], row["r"])

    def iter_generation_counts(self) -> Iterator[tuple[str, int, int]]:
        for row in self._stream(
            "MATCH (v:Video) WHERE v.generation_counts IS NOT NULL "
            "RETURN v.id, v.generation, v.generation_counts"
        ):
            video_id, generation, counts = row.values()
            for offset, count in enumerate(counts):
                if count:
                    yield video_id, generation + 1 + offset, count

    def iter_variant_groups(self) -> Iterator[tuple[str, str, int, int]]:
        for row in self._stream(
            "MATCH (g:VariantGroup) RETURN g.parent_id, g.key, g.remix_count, g.reach"
        ):
            parent_id, key, remix_count, reach = row.values()
            yield parent_id, key, remix_count, reach

    def count_videos(self) -> int:
        return self._read(
            _Read("MATCH (v:Video) RETURN count(v) AS n", {}, lambda r: int(r[0]["n"]))
        )


class AsyncNeo4jReads:
    """The store's reads as coroutines, on the driver's asyncio API.

    The API's resolvers await these instead of sending blocking reads to a
    thread pool. A driver belongs to one event loop; one is made per loop.
    """

    def __init__(self, uri: str, auth: tuple[str, str], database: str) -> None:
        self._uri, self._auth, self._database = uri, auth, database
        self._drivers: dict[asyncio.AbstractEventLoop, neo4j.AsyncDriver] = {}

    def _driver(self) -> neo4j.AsyncDriver:
        loop = asyncio.get_running_loop()
        driver = self._drivers.get(loop)
        if driver is None:
            # Forget drivers of loops that have ended (tests, reloads).
            for old in [old for old in self._drivers if old.is_closed()]:
                del self._drivers[old]
            driver = self._drivers[loop] = neo4j.AsyncGraphDatabase.driver(
                self._uri, auth=self._auth, notifications_min_severity="OFF"
            )
        return driver

    async def _read(self, read: _Read[T]) -> T:
        records, _, _ = await self._driver().execute_query(
            read.cypher,
            read.parameters,
            database_=self._database,
            routing_=neo4j.RoutingControl.READ,
        )
        return read.answer(records)

    async def aclose(self) -> None:
        """Close the driver of the running loop."""
        driver = self._drivers.pop(asyncio.get_running_loop(), None)
        if driver is not None:
            await driver.close()

    def close(self) -> None:
        # Drivers of other loops hold only idle sockets; the process ends them.
        self._drivers.clear()

    async def get_video(self, video_id: str) -> VideoRecord | None:
        return (await self._read(_read_videos([video_id]))).get(video_id)

    async def get_videos(self, video_ids: Sequence[str]) -> dict[str, VideoRecord]:
        return await self._read(_read_videos(video_ids))

    async def lineage_path(self, video_id: str) -> list[PathNode]:
        return await self._read(_read_lineage_path(video_id))

    async def generation_counts_many(
        self, video_ids: Sequence[str]
    ) -> dict[str, list[GenerationCount]]:
        return await self._read(_read_generation_counts_many(video_ids))

    async def group_tops(
        self, groups: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], VideoRecord]:
        return await self._read(_read_group_tops(groups))

    async def children_many(
        self, parent_ids: Sequence[str], order: VideoOrder, first: int
    ) -> dict[str, list[VideoRecord]]:
        return await self._read(_read_children_many(parent_ids, order, first))

    async def children(
        self,
        parent_id: str | None,
        order: VideoOrder,
        first: int,
        after: tuple[int, str] | None = None,
    ) -> list[VideoRecord]:
        return await self._read(_read_children(parent_id, order, first, after))

    async def variant_groups(self, video_id: str, limit: int) -> list[VariantGroupRow]:
        return await self._read(_read_variant_groups(video_id, limit))

    async def count_children(self, parent_id: str | None) -> int:
        return await self._read(_read_count_children(parent_id))
