"""Cache versions: each video's ``version`` property and the ``write_seq`` of each
tree's ``(:TreeLock)`` node.

A video's ``version`` goes up in the same transaction as any change to its
node or to anything under it (every write statement that sets a video's
properties also sets ``v.version = coalesce(v.version, 0) + 1``; a remix
updates every ancestor, engagement a video and its ancestors, a takedown a
video and its ancestors' removed counts, new metadata a video and its
ancestors). :func:`read_versions` reads videos' and trees' versions in one query.

Every write transaction bumps the lock of each tree it writes into (see
:mod:`lineage.stores.neo4j.writes`), so a tree's version changes exactly
when something in it does. The whole-store version (:data:`ANY_TREE`) is the
sum over all trees: it changes with any write, and costs one read per tree,
so only answers that depend on every tree (ranked originals, a video not
stored yet) ask for it.
"""

from __future__ import annotations

from collections.abc import Sequence

import neo4j

from lineage.store import ANY_TREE
from lineage.stores.neo4j.reads import _Read

__all__ = ["BUMP_VERSION", "read_tree_versions", "read_versions"]

# Set beside any change to the video ``v``'s properties, in the same statement.
BUMP_VERSION = "v.version = coalesce(v.version, 0) + 1"

# The versions of the videos asked for (null: not stored), of the trees asked
# for, and (third part, when asked) of the whole store, in one query.
_VIDEO_VERSIONS = (
    "UNWIND $videos AS id OPTIONAL MATCH (v:Video {id: id}) "
    "RETURN 0 AS kind, id, CASE WHEN v IS NULL THEN null ELSE coalesce(v.version, 0) END "
    "AS version "
    "UNION ALL UNWIND $trees AS id OPTIONAL MATCH (lock:TreeLock {original_id: id}) "
    "RETURN 1 AS kind, id, coalesce(lock.write_seq, 0) AS version"
)
_WHOLE_STORE = (
    " UNION ALL MATCH (lock:TreeLock) "
    f"RETURN 1 AS kind, '{ANY_TREE}' AS id, [count(lock), sum(lock.write_seq)] AS version"
)


def read_versions(
    video_ids: Sequence[str], original_ids: Sequence[str]
) -> _Read[tuple[dict[str, object], dict[str, object]]]:
    """One query: the version of each video (None for one not stored) and of each
    tree (0 for a tree never written; :data:`ANY_TREE`: the whole store)."""
    videos = list(dict.fromkeys(video_ids))
    trees = [tree for tree in dict.fromkeys(original_ids) if tree != ANY_TREE]
    whole = ANY_TREE in original_ids

    def answer(records: list[neo4j.Record]) -> tuple[dict[str, object], dict[str, object]]:
        found: tuple[dict[str, object], dict[str, object]] = ({}, {})
        for row in records:
            found[row["kind"]][row["id"]] = row["version"]
        return found

    cypher = _VIDEO_VERSIONS + (_WHOLE_STORE if whole else "")
    return _Read(cypher, {"videos": videos, "trees": trees}, answer)


def read_tree_versions(original_ids: Sequence[str]) -> _Read[dict[str, object]]:
    """One query: the version of each tree asked for (0 for a tree never written)."""
    ids = [original_id for original_id in dict.fromkeys(original_ids) if original_id != ANY_TREE]
    whole = ANY_TREE in original_ids

    def answer(records: list[neo4j.Record]) -> dict[str, object]:
        return {row["id"]: row["version"] for row in records}

    cypher = (
        "UNWIND $ids AS id OPTIONAL MATCH (lock:TreeLock {original_id: id}) "
        "RETURN id, coalesce(lock.write_seq, 0) AS version"
    )
    if whole:
        cypher += (
            " UNION ALL MATCH (lock:TreeLock) "
            f"RETURN '{ANY_TREE}' AS id, [count(lock), sum(lock.write_seq)] AS version"
        )
    return _Read(cypher, {"ids": ids}, answer)
