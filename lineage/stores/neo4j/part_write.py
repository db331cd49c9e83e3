"""One part of a large lineage as one Cypher statement, built in Python ahead of its write.

:func:`part_statement` turns a part's plan into a single statement of
``CALL`` subqueries (as :func:`~lineage.stores.neo4j.batch_write.write_at_once`
does for a small write), each over its own ``UNWIND`` list:

1. the write locks of the part's trees, in original id order (so the
   increments below apply in turn with any other writer into the trees);
2. the new originals, then every new remix with its ``REMIX_OF`` edge in one
   subquery whatever the number of generations: the nodes are created first
   and matched as parents after (Cypher applies a clause to all rows before
   the next reads, so a remix finds a parent created in the same subquery);
3. every aggregate of the plan (stored ancestors' counts, variant groups,
   hour buckets, rights, the descendant closure, versions): one subquery
   each, those with no rows too, so the statement has one text that the
   server plans once.

Building the rows (prompt diffs, closure rows) is the Python side of a part;
the pipeline (:mod:`lineage.stores.neo4j.part_pipeline`) does it for the next
part while the server writes this one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import neo4j

from lineage.errors import StoreUnavailable
from lineage.importing.plan import ImportPlan
from lineage.search.text import normalise
from lineage.stores.neo4j.batch_write import _PLANNED_ONCE, _subquery
from lineage.stores.neo4j.tree_lock import LOCK_TREE
from lineage.stores.neo4j.writes import (
    _CREATE_ORIGINALS,
    _VIDEO_PROPERTIES,
    _after_creates,
    _create_rows,
    _new_counts,
)

__all__ = ["PartStatement", "StalePart", "part_statement", "write_part"]

# Remixes of every generation of a part with their edges (see the module).
_CREATE_REMIXES_AND_EDGES = (
    f"UNWIND $rows AS row CREATE (v:Video {{{_VIDEO_PROPERTIES}}}) "
    "WITH v, row MATCH (p:Video {id: row[2]}) "
    "CREATE (v)-[:REMIX_OF "
    "{summary: row[14], variant_key: row[15], similarity: row[16], ops: row[17]}]->(p) "
    "RETURN count(*) AS created"
)
_LOCK_PART_TREES = (
    "UNWIND $trees AS original_id WITH original_id ORDER BY original_id "
    f"{LOCK_TREE}WITH collect(original_id) AS locked "
)


class StalePart(StoreUnavailable):
    """A parent the part's plan counted on is not stored (another writer got in between,
    or an earlier part refused it): the part is rolled back and planned again."""


@dataclass(slots=True)
class PartStatement:
    """A part's statement, its parameters and what it must create."""

    cypher: str
    parameters: dict[str, Any]
    originals: int
    remixes: int
    # The new remixes' variant keys, by id (the next parts' lineage paths read them).
    variant_keys: dict[str, str]
    new_ids: list[str]


def part_statement(plan: ImportPlan) -> PartStatement:
    """The statement writing ``plan`` (a part of new videos onto the store) whole."""
    rows = [row for batch in plan.video_rows(max(1, plan.new_video_count)) for row in batch]
    originals, by_generation = _create_rows(
        rows, _new_counts(plan), functools.lru_cache(maxsize=65_536)(normalise)
    )
    remixes = [row for generation in sorted(by_generation) for row in by_generation[generation]]
    trees = sorted({plan.original_id[index] for index in plan.order})
    parts: list[str] = []
    parameters: dict[str, Any] = {"trees": trees}

    def add(cypher: str, values: dict[str, Any]) -> None:
        text, renamed = _subquery(len(parts), cypher, values)
        parts.append(text)
        parameters.update(renamed)

    add(_CREATE_ORIGINALS.replace("AS created", "AS created_originals"), {"rows": originals})
    add(_CREATE_REMIXES_AND_EDGES.replace("AS created", "AS created_remixes"), {"rows": remixes})
    for cypher, values in _after_creates(plan, set(trees), every=True, create_new=True):
        add(cypher, values)
    cypher = (
        f"{_PLANNED_ONCE}{_LOCK_PART_TREES}{''.join(parts)}"
        "RETURN created_originals, created_remixes"
    )
    return PartStatement(
        cypher,
        parameters,
        len(originals),
        len(remixes),
        {row[0]: row[15] for row in remixes},
        [row[0] for row in rows],
    )


def write_part(tx: neo4j.ManagedTransaction, statement: PartStatement) -> None:
    """Send a part's statement in ``tx`` and check that it created every video.

    Raises
    ------
    StalePart
        When a parent the plan counted on is missing (the caller rolls back).
    """
    row = tx.run(statement.cypher, statement.parameters).single(strict=True)
    created = (row["created_originals"], row["created_remixes"])
    if created != (statement.originals, statement.remixes):
        raise StalePart(
            f"Neo4j created {created[0]} of {statement.originals} originals and "
            f"{created[1]} of {statement.remixes} remixes of a part; it was rolled back"
        )
