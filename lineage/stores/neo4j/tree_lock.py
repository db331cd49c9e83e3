"""Taking a tree's write lock: its ``(:TreeLock)`` node, exclusively, in one step.

Writers into one tree serialize on the tree's lock node (bumping its
``write_seq``, the tree's cache version). The lock used to be taken with
``MERGE (lock:TreeLock {...}) SET lock.write_seq = ...``: a ``MERGE`` that
matches takes a *shared* lock on the node, and the ``SET`` then upgrades it
to an exclusive one. Two writers arriving together both got the shared lock
and each waited for the other's to upgrade: a ``DeadlockDetected`` the
driver retried after a second or two (two API workers remixing one tree met
it every few seconds).

:data:`LOCK_TREE` matches first (no lock) and sets (an exclusive lock at
once, waiting behind the holder), and creates the node with ``MERGE`` only
for a tree that has none yet. It expects ``original_id`` in scope, one row
per tree, in original id order (writers spanning trees lock them in the same
order, so they cannot deadlock on them either).

A transaction takes each tree's lock once: taking it again (the version
bump at the end of a write, on a lock taken at its start) deadlocked the
same way with a writer waiting for it, so :func:`bump_tree_versions` skips
the trees already held.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import neo4j

from lineage.importing.records import SourcedRecord
from lineage.importing.validation import peek_ids

__all__ = [
    "LOCK_TREE",
    "bump_tree_versions",
    "lock_trees_first",
    "per_tree",
    "tree_version_step",
]

LOCK_TREE = (
    "CALL (original_id) { "
    "OPTIONAL MATCH (held:TreeLock {original_id: original_id}) "
    "SET held.write_seq = coalesce(held.write_seq, 0) + 1 "
    "WITH original_id, held WHERE held IS NULL "
    "MERGE (lock:TreeLock {original_id: original_id}) "
    "ON CREATE SET lock.write_seq = 1 "
    "ON MATCH SET lock.write_seq = coalesce(lock.write_seq, 0) + 1 } "
)

# The trees of the ids named (stored ones), locked in original id order.
_LOCK_TREES_OF = (
    "UNWIND $ids AS id MATCH (v:Video {id: id}) "
    "WITH DISTINCT v.original_id AS original_id ORDER BY original_id "
    f"{LOCK_TREE}RETURN original_id"
)
# Inputs up to this many records lock their trees before anything else.
LOCK_FIRST_MAX = 1000


def lock_trees_first(tx: neo4j.ManagedTransaction, records: Sequence[SourcedRecord]) -> set[str]:
    """Lock the trees a small write names (its records' stored parents and ids) before
    anything else in its transaction.

    The planner locks the trees it writes into when it reads the parents'
    lineages; a small write (a group-commit batch) takes them first instead,
    as its first statement, so two writers into one tree queue on its lock
    before either has read anything of the tree. Larger imports name too
    many ids for this to pay.

    Returns
    -------
    set of str
        The original ids of the trees locked (none for a large input).
    """
    if len(records) > LOCK_FIRST_MAX:
        return set()
    ids: set[str] = set()
    for record in records:
        ids.update(value for value in peek_ids(record.data) if value is not None)
    if not ids:
        return set()
    return {row["original_id"] for row in tx.run(_LOCK_TREES_OF, ids=sorted(ids))}


# The version of every tree a write touched goes up in the same transaction
# (the response cache's validity, see lineage.stores.neo4j.versions): the
# trees of new videos by original id, and those of updated videos looked up,
# but for those whose lock (which bumped them) the transaction already holds.
_BUMP_TREE_VERSIONS = (
    "OPTIONAL MATCH (v:Video) WHERE v.id IN $video_ids "
    "WITH collect(DISTINCT v.original_id) + $originals AS originals "
    "UNWIND originals AS original_id WITH DISTINCT original_id "
    "WHERE NOT original_id IN $locked ORDER BY original_id "
    f"{LOCK_TREE}"
)


def tree_version_step(
    originals: set[str],
    video_ids: list[str],
    locked: set[str] | frozenset[str],
    *,
    always: bool = False,
) -> tuple[str, dict[str, Any]] | None:
    """The statement bumping the versions of the trees a write touched (new videos'
    ``originals``, the trees of updated ``video_ids``), taking the locks not yet
    ``locked``; None when every such tree is locked (and so bumped) already, unless
    ``always`` (it then bumps nothing)."""
    if not video_ids and originals <= locked and not always:
        return None
    return _BUMP_TREE_VERSIONS, {
        "originals": sorted(originals),
        "video_ids": video_ids,
        "locked": sorted(locked),
    }


def bump_tree_versions(
    tx: neo4j.ManagedTransaction,
    originals: set[str],
    video_ids: list[str],
    locked: set[str] | frozenset[str],
) -> None:
    """Bump the versions of the trees a write touched (see :func:`tree_version_step`)."""
    step = tree_version_step(originals, video_ids, locked)
    if step is not None:
        tx.run(step[0], step[1]).consume()


def per_tree(rows: str, bound: str, body: str) -> str:
    """One statement that runs ``body`` on the rows a tree's ``rows`` match, a tree at a time.

    Each tree is its own transaction, which first takes the tree's write lock
    (:data:`~lineage.stores.neo4j.tree_lock.LOCK_TREE`, bumping its version):
    a writer into the tree waits for the migration's values and the
    migration for the writer's, so every value it sets is exact at its
    commit, and cached answers about the tree are invalidated with it.

    Parameters
    ----------
    rows : str
        Cypher matching the rows of the tree of the original ``o``.
    bound : str
        The variables of those rows that ``body`` uses.
    body : str
        Cypher run for each row (a unit subquery).
    """
    return (
        "MATCH (o:Video) WHERE o.generation = 0 "
        f"CALL (o) {{ WITH o, o.id AS original_id {LOCK_TREE}"
        f"WITH o {rows} CALL ({bound}) {{ {body} }} "
        "} IN TRANSACTIONS OF 1 ROWS"
    )
