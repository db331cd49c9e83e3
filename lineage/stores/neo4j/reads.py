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
)
from lineage.models import from_epoch_micros as _from_micros
from lineage.queries import NULL_TIME
from lineage.store import PathNode, VariantGroupRow, VideoOrder

T = TypeVar("T")

_MEASURE = {
    VideoOrder.DERIVATIVES: "v.derivative_count",
    VideoOrder.DIRECT_REMIXES: "v.direct_remix_count",
    VideoOrder.LIKES: "v.likes",
    VideoOrder.VIEWS: "v.views",
    VideoOrder.SUBTREE_LIKES: "coalesce(v.subtree_likes, 0)",
    VideoOrder.SUBTREE_VIEWS: "coalesce(v.subtree_views, 0)",
    VideoOrder.NEWEST: f"coalesce(v.created_us, {NULL_TIME})",
}

_VIDEO = "v {.*} AS v, r {.*} AS r"

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
        subtree_likes=video.get("subtree_likes", 0),
        subtree_views=video.get("subtree_views", 0),
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
