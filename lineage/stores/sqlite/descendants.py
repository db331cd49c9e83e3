"""The SQLite store's descendant pages (:mod:`lineage.tree.descendants`).

An original's derivatives are read through the index
``videos_by_original_generation (original_id, generation, id)``; any other
video's through the table ``descendant_closure``, whose primary key
``(ancestor_id, generation, descendant_id)`` is the page order. Either way a
page is one range of the index that stops after ``first`` entries (no
temporary b-tree for the ORDER BY): the same cost at the end of 41,640
derivatives as at the start.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from itertools import islice
from typing import Any

from lineage.importing.plan import ImportPlan
from lineage.tree.descendants import closure_rows

__all__ = ["descendant_page_query", "iter_closure_rows", "upgrade", "write_closure"]

_INSERT = "INSERT INTO descendant_closure (ancestor_id, generation, descendant_id) VALUES (?, ?, ?)"
_BATCH = 20_000

# Every (non-original ancestor, generation, descendant) of the stored videos.
_BACKFILL = """
INSERT INTO descendant_closure (ancestor_id, generation, descendant_id)
WITH RECURSIVE up (descendant_id, generation, ancestor_id) AS (
    SELECT id, generation, parent_id FROM videos WHERE generation >= 2
    UNION ALL
    SELECT up.descendant_id, up.generation, v.parent_id
    FROM up JOIN videos AS v ON v.id = up.ancestor_id
    WHERE v.generation >= 2
)
SELECT ancestor_id, generation, descendant_id FROM up
"""
_MARK = "descendant_closure_version"


def write_closure(connection: sqlite3.Connection, plan: ImportPlan) -> None:
    """Write the closure rows of the plan's new videos (in the import's transaction)."""
    rows = closure_rows(plan)
    while batch := list(islice(rows, _BATCH)):
        connection.executemany(_INSERT, batch)


def upgrade(connection: sqlite3.Connection) -> None:
    """Fill the closure of a store file made before it existed (once, in one transaction)."""
    done = f"SELECT 1 FROM store_meta WHERE key = '{_MARK}'"
    if connection.execute(done).fetchone():
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        if not connection.execute(done).fetchone():
            if not connection.execute("SELECT 1 FROM descendant_closure LIMIT 1").fetchone():
                connection.execute(_BACKFILL)
            connection.execute(f"INSERT INTO store_meta (key, value) VALUES ('{_MARK}', '1')")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def descendant_page_query(
    columns: str,
    video_id: str,
    original: bool,
    first: int,
    after: tuple[int, str] | None,
    generation: int | None,
) -> tuple[str, list[Any]] | None:
    """The SQL and parameters of one page of derivatives (None: the page is empty).

    ``columns`` names the videos' columns to read (as ``v.``-less names of
    the table ``videos``, aliased ``v``).
    """
    if original:
        source = "videos AS v"
        key, level, ident = "v.original_id", "v.generation", "v.id"
    else:
        source = "descendant_closure AS d JOIN videos AS v ON v.id = d.descendant_id"
        key, level, ident = "d.ancestor_id", "d.generation", "d.descendant_id"
    conditions: list[str] = [f"{key} = ?"]
    parameters: list[Any] = [video_id]
    if original and after is not None and after[0] < 1:
        after = None  # every derivative of an original is after any key of generation 0
    if original and (generation is not None or after is None):
        # The original itself is in its tree, at generation 0. After a cursor the
        # row value alone bounds the range: with a second bound on generation,
        # SQLite ranged on that one and read the index from the start.
        conditions.append(f"{level} >= 1")
    if generation is not None:
        if after is not None and after[0] > generation:
            return None
        conditions.append(f"{level} = ?")
        parameters.append(generation)
        if after is not None and after[0] == generation:
            conditions.append(f"{ident} > ?")
            parameters.append(after[1])
    elif after is not None:
        conditions.append(f"({level}, {ident}) > (?, ?)")
        parameters += [after[0], after[1]]
    selected = ", ".join(f"v.{name.strip()}" for name in columns.split(","))
    sql = (
        f"SELECT {selected} FROM {source} WHERE {' AND '.join(conditions)} "
        f"ORDER BY {level}, {ident} LIMIT ?"
    )
    return sql, [*parameters, first]


def iter_closure_rows(connection: sqlite3.Connection) -> Iterator[tuple[str, int, str]]:
    """Every stored (ancestor id, generation, descendant id) row."""
    cursor = connection.execute(
        "SELECT ancestor_id, generation, descendant_id FROM descendant_closure"
    )
    while rows := cursor.fetchmany(5000):
        yield from rows
