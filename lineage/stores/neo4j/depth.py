"""The deepest generation in the store, read from the ``(generation, id)`` index.

The query cost limit (``api/graphql/guards.py``) charges lists that have no
``first`` or ``limit`` (``ancestors``, ``attribution``...) by this bound on
their length, once per query that selects one: so it must cost one index
seek, not a scan. Ordering by the indexed property, descending, with a
limit of one reads the index's last entry only (two database hits).
"""

from __future__ import annotations

import neo4j

from lineage.stores.neo4j.reads import _Read

__all__ = ["read_max_generation"]


def _answer(records: list[neo4j.Record]) -> int:
    return int(records[0]["generation"]) if records else 0


def read_max_generation() -> _Read[int]:
    """One query: the largest ``generation`` of any video (0 for an empty store)."""
    return _Read(
        # The hint: on a small store the planner would rather scan the label.
        "MATCH (v:Video) USING INDEX v:Video(generation, id) "
        "WHERE v.generation IS NOT NULL AND v.id IS NOT NULL "
        "RETURN v.generation AS generation ORDER BY v.generation DESC LIMIT 1",
        {},
        _answer,
    )
