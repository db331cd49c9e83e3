"""Reads: one Cypher query each, shared by the blocking store and the async reads."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import neo4j

from lineage.models import (
    DiffOp,
    GenerationCount,
    PromptDiff,
    VideoRecord,
    built,
)
from lineage.models import from_epoch_micros as _from_micros
from lineage.store import PathNode, VariantGroupRow, VideoOrder
from lineage.stores.neo4j.ranks import RANK_PROPERTY, rank_of

T = TypeVar("T")

# A video without its search text (lineage.stores.neo4j.search), which no record holds.
_VIDEO = "v {.*, search_text: null} AS v, r {.*} AS r"

# A video and its ancestors up to its original, as [id, generation, original id] steps.
_LINEAGE_PATHS = (
    "UNWIND $ids AS id MATCH path = (:Video {id: id})-[:REMIX_OF*0..]->(:Original) "
    "RETURN id, [n IN nodes(path) | [n.id, n.generation, n.original_id]] AS nodes, "
    "[e IN relationships(path) | e.variant_key] AS keys"
)


# -- records -------------------------------------------------------------------------
def _record(video: dict[str, Any], edge: dict[str, Any] | None) -> VideoRecord:
    diff = None
    if edge is not None:
        diff = built(
            PromptDiff,
            {
                "summary": edge["summary"],
                "variant_key": edge["variant_key"],
                "similarity": edge["similarity"],
                "ops": tuple(
                    built(DiffOp, {"op": op, "before": before, "after": after})
                    for op, before, after in json.loads(edge["ops"])
                ),
            },
        )
    created_us = video.get("created_us")
    # Field order, as VideoRecord declares them.
    return built(
        VideoRecord,
        {
            "id": video["id"],
            "prompt": video["prompt"],
            "parent_id": video.get("parent_id"),
            "title": video.get("title"),
            "creator": video.get("creator"),
            "created_at": None if created_us is None else _from_micros(created_us),
            "likes": video.get("likes", 0),
            "views": video.get("views", 0),
            "generation": video["generation"],
            "original_id": video["original_id"],
            "derivative_count": video["derivative_count"],
            "direct_remix_count": video["direct_remix_count"],
            "tree_depth": video["tree_depth"],
            "subtree_likes": video.get("subtree_likes", 0),
            "subtree_views": video.get("subtree_views", 0),
            "prompt_diff": diff,
        },
    )


def export_row(video: dict[str, Any], edge: dict[str, Any] | None) -> tuple[Any, ...]:
    """A video and its edge as a row of :data:`~lineage.store.EXPORT_ROW_COLUMNS`
    (the values :func:`_record` would hold, with no model object)."""
    edge = edge or {}
    return (
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
        video.get("subtree_likes", 0),
        video.get("subtree_views", 0),
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
    # The index (parent_id, rank_reach, key) holds them in this order.
    return _Read(
        "MATCH (g:VariantGroup) USING INDEX SEEK g:VariantGroup(parent_id, rank_reach, key) "
        "WHERE g.parent_id = $id AND g.rank_reach IS NOT NULL "
        "AND g.key IS NOT NULL WITH g ORDER BY g.parent_id, g.rank_reach, g.key LIMIT $limit "
        "RETURN g.key AS key, g.remix_count AS remix_count, g.reach AS reach",
        {"id": video_id, "limit": limit},
        lambda records: [
            VariantGroupRow(row["key"], row["remix_count"], row["reach"]) for row in records
        ],
    )


def _read_variant_groups_with_tops(
    video_id: str, limit: int
) -> _Read[list[tuple[VariantGroupRow, VideoRecord | None]]]:
    def answer(records: list[neo4j.Record]) -> list[tuple[VariantGroupRow, VideoRecord | None]]:
        ranked = sorted(records, key=lambda row: (row["rank"], row["key"]))
        return [
            (
                VariantGroupRow(row["key"], row["remix_count"], row["reach"]),
                None if row["v"] is None else _record(row["v"], row["r"]),
            )
            for row in ranked
        ]

    # The groups as _read_variant_groups reads them, each with the first entry
    # of its top's index (parent_id, variant_key, rank_derivatives, id).
    return _Read(
        "MATCH (g:VariantGroup) USING INDEX SEEK g:VariantGroup(parent_id, rank_reach, key) "
        "WHERE g.parent_id = $id AND g.rank_reach IS NOT NULL "
        "AND g.key IS NOT NULL WITH g ORDER BY g.parent_id, g.rank_reach, g.key LIMIT $limit "
        "OPTIONAL CALL (g) { "
        "MATCH (v:Video) USING INDEX SEEK v:Video(parent_id, variant_key, rank_derivatives, id) "
        "WHERE v.parent_id = g.parent_id AND v.variant_key = g.key "
        "AND v.rank_derivatives IS NOT NULL AND v.id IS NOT NULL "
        "RETURN v ORDER BY v.parent_id, v.variant_key, v.rank_derivatives, v.id LIMIT 1 } "
        "OPTIONAL MATCH (v)-[r:REMIX_OF]->() "
        "RETURN g.rank_reach AS rank, g.key AS key, g.remix_count AS remix_count, "
        f"g.reach AS reach, {_VIDEO}",
        {"id": video_id, "limit": limit},
        answer,
    )


def _read_group_tops(
    groups: Sequence[tuple[str, str]],
) -> _Read[dict[tuple[str, str], VideoRecord]]:
    def answer(records: list[neo4j.Record]) -> dict[tuple[str, str], VideoRecord]:
        return {
            (row["v"]["parent_id"], row["r"]["variant_key"]): _record(row["v"], row["r"])
            for row in records
        }

    # The first entry of the index (parent_id, variant_key, rank_derivatives, id).
    return _Read(
        "UNWIND $groups AS grp CALL (grp) { "
        "MATCH (v:Video) USING INDEX SEEK v:Video(parent_id, variant_key, rank_derivatives, id) "
        "WHERE v.parent_id = grp[0] AND v.variant_key = grp[1] "
        "AND v.rank_derivatives IS NOT NULL AND v.id IS NOT NULL "
        "RETURN v ORDER BY v.parent_id, v.variant_key, v.rank_derivatives, v.id LIMIT 1 } "
        f"MATCH (v)-[r:REMIX_OF]->() RETURN {_VIDEO}",
        {"groups": [list(group) for group in dict.fromkeys(groups)]},
        answer,
    )


def _ranked_page(label: str, condition: str, rank: str, limit: str) -> str:
    """A subquery returning one index-ordered page of videos ``v``.

    Remixes (``condition`` pins ``v.parent_id``) read the index
    ``(parent_id, rank, id)``, originals ``(:Original)(rank, id)``; the
    ``ORDER BY`` lists the index's properties in index order, so the planner
    reads the index in order and stops at ``limit`` (no sort).
    """
    leading = "v.parent_id, " if label == "Video" else ""
    # The hint keeps the planner off other indexes whatever its statistics
    # say (e.g. the unique index on id for "v.id > $after_id"). Where a
    # leading property is pinned, it must also seek: with a plain index hint
    # the planner sometimes scanned the whole index and filtered (42,000 db
    # hits for one page). The first page of originals pins nothing: an
    # ordered scan that stops at ``limit``.
    hint = "USING INDEX SEEK" if label == "Video" or "$rank" in condition else "USING INDEX"
    return (
        f"MATCH (v:{label}) {hint} v:{label}({leading.replace('v.', '')}{rank}, id) "
        f"WHERE {condition} AND v.{rank} IS NOT NULL AND v.id IS NOT NULL "
        f"RETURN v ORDER BY {leading}v.{rank}, v.id LIMIT {limit}"
    )


def _read_children(
    parent_id: str | None, order: VideoOrder, first: int, after: tuple[int, str] | None
) -> _Read[list[VideoRecord]]:
    # Remixes: the index (parent_id, rank, id); originals: (:Original)(rank, id).
    # Both hold "measure DESC, id ASC" as ascending order, so a page reads
    # about ``first`` index entries. After a cursor, the page is the rest of
    # the cursor's tie (same rank, larger id) followed by the larger ranks:
    # two ordered seeks, never a scan of the ties.
    rank = RANK_PROPERTY[order]
    label, condition = (
        ("Original", "true") if parent_id is None else ("Video", "v.parent_id = $parent_id")
    )
    parameters: dict[str, Any] = {"parent_id": parent_id, "first": first}
    if after is None:
        page = _ranked_page(label, condition, rank, "$first")
    else:
        parameters |= {"rank": rank_of(order, after[0]), "after_id": after[1]}
        tie = f"{condition} AND v.{rank} = $rank AND v.id > $after_id"
        below = f"{condition} AND v.{rank} > $rank"
        page = (
            f"{_ranked_page(label, tie, rank, '$first')} "
            f"UNION ALL {_ranked_page(label, below, rank, '$first')}"
        )
    cypher = (
        f"CALL () {{ {page} }} WITH v ORDER BY v.{rank}, v.id LIMIT $first "
        f"OPTIONAL MATCH (v)-[r:REMIX_OF]->() RETURN {_VIDEO}"
    )
    return _Read(
        cypher, parameters, lambda records: [_record(row["v"], row["r"]) for row in records]
    )


def _read_children_many(
    parent_ids: Sequence[str], order: VideoOrder, first: int
) -> _Read[dict[str, list[VideoRecord]]]:
    rank = RANK_PROPERTY[order]

    def answer(records: list[neo4j.Record]) -> dict[str, list[VideoRecord]]:
        found: dict[str, list[VideoRecord]] = {parent_id: [] for parent_id in parent_ids}
        for row in records:
            found[row["parent_id"]].append(_record(row["v"], row["r"]))
        return found

    return _Read(
        "UNWIND $ids AS parent_id CALL (parent_id) { "
        f"{_ranked_page('Video', 'v.parent_id = parent_id', rank, '$first')} }} "
        f"MATCH (v)-[r:REMIX_OF]->() RETURN parent_id, {_VIDEO}",
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
