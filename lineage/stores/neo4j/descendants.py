"""The Neo4j store's descendant pages (:mod:`lineage.tree.descendants`).

An original's derivatives are read through the index
``video_original_generation (:Video)(original_id, generation, id)``; any
other video's through its ``(:Descent {ancestor_id, generation,
descendant_id})`` closure nodes and the index ``descent_page`` on them
(``schema/neo4j/006_descendants.cypher``). Each ``ORDER BY`` lists the
index's properties in index order, so a page is an index seek that stops
after ``first`` entries (no sort of the derivatives). After a cursor
``(generation, id)`` the page is the rest of that generation followed by the
later generations: two seeks of a page each.
"""

from __future__ import annotations

from typing import Any

import neo4j

from lineage.importing.plan import ImportPlan
from lineage.models import VideoRecord
from lineage.store import VideoRow
from lineage.stores.neo4j.reads import _VIDEO, _Read, _record, export_row
from lineage.tree.descendants import closure_rows

__all__ = [
    "BACKFILL",
    "CREATE_CLOSURE",
    "read_closure_rows",
    "read_descendant_page",
    "read_descendant_rows",
    "write_closure",
]

CREATE_CLOSURE = (
    "UNWIND $rows AS row CREATE (:Descent "
    "{ancestor_id: row[0], generation: row[1], descendant_id: row[2]})"
)

# The closure rows of one stored video ``d`` (the ``descendant_closure``
# migration runs it per tree); MERGE, so a run cut short can run again.
BACKFILL = (
    "MATCH (d)-[:REMIX_OF*1..]->(a:Video) WHERE a.generation >= 1 "
    "MERGE (:Descent {ancestor_id: a.id, generation: d.generation, descendant_id: d.id})"
)

# (label, key property, generation property, id property) of the two sources.
_ORIGINAL = ("Video", "original_id", "generation", "id")
_CLOSURE = ("Descent", "ancestor_id", "generation", "descendant_id")


def write_closure(tx: neo4j.ManagedTransaction, plan: ImportPlan, batch_size: int) -> None:
    """Create the closure nodes of the plan's new videos (in the import's transaction)."""
    rows: list[list[Any]] = []
    for ancestor_id, generation, descendant_id in closure_rows(plan):
        rows.append([ancestor_id, generation, descendant_id])
        if len(rows) >= batch_size:
            tx.run(CREATE_CLOSURE, rows=rows).consume()
            rows = []
    if rows:
        tx.run(CREATE_CLOSURE, rows=rows).consume()


def _seek(source: tuple[str, str, str, str], condition: str) -> str:
    label, key, level, ident = source
    return (
        f"MATCH (n:{label}) USING INDEX SEEK n:{label}({key}, {level}, {ident}) "
        f"WHERE n.{key} = $video_id AND {condition} "
        f"RETURN n ORDER BY n.{key}, n.{level}, n.{ident} LIMIT $first"
    )


def _page_cypher(
    video_id: str,
    original: bool,
    first: int,
    after: tuple[int, str] | None,
    generation: int | None,
) -> tuple[str, dict[str, Any]] | None:
    """The Cypher and parameters of one page (None: the page is empty)."""
    if original and after is not None and after[0] < 1:
        after = None  # every derivative of an original is after any key of generation 0
    source = _ORIGINAL if original else _CLOSURE
    _, _, level, ident = source
    tie = f"n.{level} = $level AND n.{ident} > $after_id"
    below = f"n.{level} > $level AND n.{ident} IS NOT NULL"
    parameters: dict[str, Any] = {"video_id": video_id, "first": first, "after_id": ""}
    if generation is not None:
        if after is not None and after[0] > generation:
            return None
        parameters["level"] = generation
        if after is not None and after[0] == generation:
            parameters["after_id"] = after[1]
        page = _seek(source, tie)
    elif after is None:
        parameters["level"] = 0  # below the original (closure rows start at generation 2)
        page = _seek(source, below)
    else:
        parameters |= {"level": after[0], "after_id": after[1]}
        page = f"{_seek(source, tie)} UNION ALL {_seek(source, below)}"
    video = "n AS v" if original else "n, v"
    lookup = "" if original else "MATCH (v:Video {id: n.descendant_id}) "
    cypher = (
        f"CALL () {{ {page} }} WITH n ORDER BY n.{level}, n.{ident} LIMIT $first "
        f"{lookup}WITH {video} ORDER BY v.generation, v.id "
        f"OPTIONAL MATCH (v)-[r:REMIX_OF]->() RETURN {_VIDEO}"
    )
    return cypher, parameters


def read_descendant_page(
    video_id: str,
    original: bool,
    first: int,
    after: tuple[int, str] | None,
    generation: int | None,
) -> _Read[list[VideoRecord]]:
    """One page of derivatives by (generation, id), strictly after ``after``."""
    query = _page_cypher(video_id, original, first, after, generation)
    if query is None:
        return _Read("RETURN 1 AS nothing LIMIT 0", {}, lambda records: [])
    return _Read(*query, lambda records: [_record(row["v"], row["r"]) for row in records])


def read_descendant_rows(
    video_id: str, original: bool, first: int, after: tuple[int, str] | None
) -> _Read[list[VideoRow]]:
    """:func:`read_descendant_page` as rows of :data:`~lineage.store.EXPORT_ROW_COLUMNS`."""
    query = _page_cypher(video_id, original, first, after, None)
    if query is None:
        return _Read("RETURN 1 AS nothing LIMIT 0", {}, lambda records: [])
    return _Read(*query, lambda records: [export_row(row["v"], row["r"]) for row in records])


def read_closure_rows() -> str:
    """Cypher streaming every closure row (ancestor id, generation, descendant id)."""
    return "MATCH (d:Descent) RETURN d.ancestor_id, d.generation, d.descendant_id"
