"""Tree versions: the ``write_seq`` of each tree's ``(:TreeLock)`` node.

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

__all__ = ["read_tree_versions"]


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
