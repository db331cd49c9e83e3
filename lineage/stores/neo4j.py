"""The production store: a Neo4j server, through the official driver.

Model: ``(:Video {id, prompt, ..., aggregates})`` nodes, originals also
labelled ``:Original``, and ``(remix)-[:REMIX_OF {summary, variant_key,
similarity, ops}]->(parent)`` edges. Per-generation counts are a list
property of each video (index 0 is the generation just below it); variant
groups are ``(:VariantGroup {parent_id, key, remix_count, reach})`` nodes.

Every import is one managed write transaction (retried by the driver on
transient errors and deadlocks): the planner of :mod:`lineage.importer`
reads through the transaction and the plan is written in ``UNWIND`` batches
in the same transaction, aggregates included, so counts never drift.
Before it reads a stored tree, a writer takes the write lock of that tree's
original, so writers remixing in one tree serialize there and every
increment is applied to what the previous writer committed.

Reads are single Cypher queries. Each is built once as a :class:`_Read`
(Cypher, parameters, and how to turn the records into the answer), run by
the blocking store and by :class:`AsyncNeo4jReads` alike.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import neo4j
from neo4j.exceptions import AuthError, ConstraintError, Neo4jError, ServiceUnavailable

from lineage.errors import StoreUnavailable
from lineage.importer import ImportPlan, ImportReport, SourcedRecord, plan_import
from lineage.models import DiffOp, GenerationCount, PromptDiff, VideoRecord, epoch_micros
from lineage.models import from_epoch_micros as _from_micros
from lineage.progress import progress_bar
from lineage.queries import NULL_TIME
from lineage.store import LineageRow, PathNode, VariantGroupRow, VideoOrder

__all__ = ["BATCH_SIZE", "SCHEMA_DIR", "AsyncNeo4jReads", "Neo4jStore", "apply_schema"]

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schema" / "neo4j"

# Rows per UNWIND batch. 5,000 keeps each statement's parameters near a
# megabyte; scripts/bench_neo4j.py measured 2,000 / 5,000 / 10,000 within a
# few percent of each other, and smaller batches cost round trips.
BATCH_SIZE = 5000
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


_LINEAGE_PATH = (
    "MATCH path = (v:Video {id: $id})-[:REMIX_OF*0..]->(:Original) "
    "RETURN [n IN nodes(path) | [n.id, n.generation, n.original_id]] AS nodes, "
    "[e IN relationships(path) | e.variant_key] AS keys"
)


def _read_lineage_path(video_id: str) -> _Read[list[PathNode]]:
    return _Read(_LINEAGE_PATH, {"id": video_id}, _path_nodes)


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
_CREATE_ORIGINALS = "UNWIND $rows AS row CREATE (v:Video:Original) SET v = row"
_CREATE_REMIXES = (
    "UNWIND $rows AS row "
    "MATCH (p:Video {id: row.video.parent_id}) "
    "CREATE (v:Video)-[r:REMIX_OF]->(p) SET v = row.video, r = row.diff "
    "RETURN count(*) AS created"
)
_UPDATE_AGGREGATES = (
    "UNWIND $rows AS row MATCH (v:Video {id: row[3]}) "
    "SET v.derivative_count = v.derivative_count + row[0], "
    "v.direct_remix_count = v.direct_remix_count + row[1], "
    "v.tree_depth = CASE WHEN v.tree_depth < row[2] THEN row[2] ELSE v.tree_depth END"
)
_ADD_GENERATION_COUNTS = (
    "UNWIND $rows AS row MATCH (v:Video {id: row.id}) "
    "WITH v, row.counts AS delta, coalesce(v.generation_counts, []) AS current "
    "WITH v, delta, current, "
    "CASE WHEN size(current) > size(delta) THEN size(current) ELSE size(delta) END AS width "
    "SET v.generation_counts = "
    "[i IN range(0, width - 1) | coalesce(current[i], 0) + coalesce(delta[i], 0)]"
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
# Taking the original's write lock first serializes writers within one tree
# (and only there), so their increments apply in turn and cannot deadlock
# on the ancestors they share.
_LOCK_TREE_AND_READ_PATH = (
    "MATCH (v:Video {id: $id}) MATCH (o:Original {id: v.original_id}) "
    "SET o.write_seq = coalesce(o.write_seq, 0) + 1 "
    "WITH v MATCH path = (v)-[:REMIX_OF*0..]->(:Original) "
    "RETURN [n IN nodes(path) | [n.id, n.generation, n.original_id]] AS nodes, "
    "[e IN relationships(path) | e.variant_key] AS keys"
)


class _TransactionView:
    """The planner's reads, inside the write transaction."""

    def __init__(self, tx: neo4j.ManagedTransaction) -> None:
        self.tx = tx

    def _run(self, read: _Read[T]) -> T:
        return read.answer(list(self.tx.run(read.cypher, read.parameters)))

    def get_videos(self, video_ids: Sequence[str]) -> dict[str, VideoRecord]:
        return self._run(_read_videos(video_ids))

    def lineage_path(self, video_id: str) -> list[PathNode]:
        return _path_nodes(list(self.tx.run(_LOCK_TREE_AND_READ_PATH, {"id": video_id})))


def _as_list(by_generation: dict[int, int], base: int | None) -> list[int]:
    """Increments by absolute generation as a list from ``base + 1`` (the video's own
    generation is ``base``)."""
    assert base is not None
    width = max(by_generation) - base
    counts = [0] * width
    for generation, count in by_generation.items():
        counts[generation - base - 1] += count
    return counts


def _video_properties(row: tuple[Any, ...], counts: list[int] | None) -> dict[str, Any]:
    (
        video_id,
        parent_id,
        prompt,
        title,
        creator,
        created_at,
        likes,
        views,
        generation,
        original_id,
        derivative_count,
        direct_remix_count,
        tree_depth,
        *_,
    ) = row
    properties: dict[str, Any] = {
        "id": video_id,
        "prompt": prompt,
        "likes": likes,
        "views": views,
        "generation": generation,
        "original_id": original_id,
        "derivative_count": derivative_count,
        "direct_remix_count": direct_remix_count,
        "tree_depth": tree_depth,
    }
    # Neo4j stores no nulls: absent optional fields are absent properties.
    if parent_id is not None:
        properties["parent_id"] = parent_id
    if title is not None:
        properties["title"] = title
    if creator is not None:
        properties["creator"] = creator
    if created_at is not None:
        properties["created_us"] = epoch_micros(created_at)
    if counts:
        properties["generation_counts"] = counts
    return properties


def _write_plan(
    tx: neo4j.ManagedTransaction, plan: ImportPlan, batch_size: int, progress: bool
) -> None:
    # Per-generation increments, keyed by id; new videos take theirs on creation.
    increments: dict[str, dict[int, int]] = {}
    for video_id, generation, count in plan.generation_count_rows():
        increments.setdefault(video_id, {})[generation] = count
    with progress_bar(plan.new_video_count, "writing", enabled=progress) as bar:
        for batch in plan.video_rows(batch_size):
            originals: list[dict[str, Any]] = []
            # One statement per generation: a statement's MATCH may run before
            # its own CREATEs, so a remix never shares one with its parent.
            remixes: dict[int, list[dict[str, Any]]] = {}
            for row in batch:
                own = increments.pop(row[0], None)
                counts = _as_list(own, row[8]) if own else None
                properties = _video_properties(row, counts)
                if row[1] is None:
                    originals.append(properties)
                else:
                    summary, key, similarity, ops = row[13:]
                    remixes.setdefault(row[8], []).append(
                        {
                            "video": properties,
                            "diff": {
                                "summary": summary,
                                "variant_key": key,
                                "similarity": similarity,
                                "ops": ops,
                            },
                        }
                    )
            if originals:
                tx.run(_CREATE_ORIGINALS, rows=originals).consume()
            for generation in sorted(remixes):
                rows = remixes[generation]
                created = tx.run(_CREATE_REMIXES, rows=rows).single(strict=True)["created"]
                if created != len(rows):  # a parent the plan counted on is missing
                    raise StoreUnavailable(
                        f"Neo4j created {created} of {len(rows)} remixes of generation "
                        f"{generation}; the import was rolled back"
                    )
            bar.update(len(batch))
    # What is left belongs to stored videos: read their generation to index the list.
    if increments:
        generations = {
            row["id"]: row["generation"]
            for row in tx.run(
                "UNWIND $ids AS id MATCH (v:Video {id: id}) "
                "RETURN v.id AS id, v.generation AS generation",
                ids=list(increments),
            )
        }
        rows = [
            {"id": video_id, "counts": _as_list(by_generation, generations[video_id])}
            for video_id, by_generation in increments.items()
        ]
        _run_batches(tx, _ADD_GENERATION_COUNTS, rows, batch_size)
    _run_batches(
        tx, _UPDATE_AGGREGATES, [list(row) for row in plan.existing_video_deltas()], batch_size
    )
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
    ) -> None:
        self.uri = uri
        self.database = database
        self.batch_size = batch_size
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
        # The driver may run the transaction again: keep the input to replay it.
        materialized = list(records)

        def work(tx: neo4j.ManagedTransaction) -> ImportReport:
            plan, report = plan_import(materialized, _TransactionView(tx))
            if atomic and report.rejected:
                report.written = False
                return report
            _write_plan(tx, plan, self.batch_size, progress)
            return report

        for attempt in range(_CONSTRAINT_RETRIES):
            try:
                with self._driver.session(database=self.database) as session:
                    return session.execute_write(work)
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

    def iter_videos(self, page_size: int = 2000) -> Iterator[VideoRecord]:
        # Keyset pages in (generation, id) order: parents before remixes.
        after: tuple[int, str] = (-1, "")
        while True:
            page = self._read(
                _Read(
                    "MATCH (v:Video) WHERE v.generation > $generation "
                    "OR (v.generation = $generation AND v.id > $id) "
                    "WITH v ORDER BY v.generation, v.id LIMIT $size "
                    f"OPTIONAL MATCH (v)-[r:REMIX_OF]->() RETURN {_VIDEO}",
                    {"generation": after[0], "id": after[1], "size": page_size},
                    lambda records: [_record(row["v"], row["r"]) for row in records],
                )
            )
            yield from page
            if len(page) < page_size:
                return
            after = (page[-1].generation, page[-1].id)

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
