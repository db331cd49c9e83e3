"""The deepest generation in the store, read from a small partial index.

The query cost limit (``api/graphql/guards.py``) charges lists that have no
``first`` or ``limit`` (``ancestors``, ``attribution``...) by this bound on
their length, once per query that selects one. The deepest generation is
the largest tree depth of an original; ``originals_by_depth`` indexes the
tree depth of originals only (schema.sql), so the answer is one index seek
and the index changes only when an original is added or its tree deepens.
"""

from __future__ import annotations

import sqlite3

__all__ = ["MAX_GENERATION", "read_max_generation"]

# The index is named: without statistics the planner prefers a wider index
# on parent_id, which would read every original.
MAX_GENERATION = (
    "SELECT max(tree_depth) FROM videos INDEXED BY originals_by_depth WHERE parent_id IS NULL"
)


def read_max_generation(connection: sqlite3.Connection) -> int:
    """The largest generation of any video (0 for an empty store)."""
    (deepest,) = connection.execute(MAX_GENERATION).fetchone()
    return int(deepest or 0)
