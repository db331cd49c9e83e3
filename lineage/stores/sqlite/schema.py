"""Opening a SQLite store file: its schema, then the upgrades of older files.

The schema (``schema/sqlite/schema.sql``, carried in the package:
:mod:`lineage.resources`) creates only what is missing (``IF NOT EXISTS``),
so it runs each time a store opens. A file written by an older version then
gets the tables and columns added since, filled from what it holds, each
upgrade once and in its own transaction:
:func:`~lineage.stores.sqlite.rights.migrate_rights` (per-generation view
totals), :func:`lineage.stores.sqlite.over_time.upgrade` (subtree totals and
hour buckets), :func:`lineage.stores.sqlite.descendants.upgrade` (the
descendant closure) and :func:`lineage.stores.sqlite.search.upgrade` (the
search index).
"""

from __future__ import annotations

import sqlite3

from lineage.stores.sqlite import descendants as sqlite_descendants
from lineage.stores.sqlite import over_time as sqlite_time
from lineage.stores.sqlite import search as sqlite_search
from lineage.stores.sqlite.rights import migrate_rights

__all__ = ["apply_schema"]


def apply_schema(connection: sqlite3.Connection, schema: str) -> None:
    """Create what the schema script ``schema`` has and the file lacks, then upgrade the file.

    Raises
    ------
    sqlite3.Error
        If the file cannot be read or written.
    """
    # Columns of videos added after a file was made: the schema's indexes name
    # the text ids (their values come in sqlite_search.upgrade); every version
    # starts at 0, as no cache has seen the file's rows.
    _add_video_columns(
        connection,
        {
            **dict.fromkeys(sqlite_search.TEXT_COLUMNS, "INTEGER"),
            "version": "INTEGER NOT NULL DEFAULT 0",
        },
    )
    connection.executescript(schema)
    migrate_rights(connection)
    sqlite_time.upgrade(connection)
    sqlite_descendants.upgrade(connection)
    sqlite_search.upgrade(connection)


def _add_video_columns(connection: sqlite3.Connection, columns: dict[str, str]) -> None:
    """Give the ``videos`` table of a file made before them the ``columns`` (name ->
    type) it lacks, in one transaction; a new file's table comes from the script."""
    held = {row[1] for row in connection.execute("PRAGMA table_info(videos)")}
    if not held or held.issuperset(columns):
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        held = {row[1] for row in connection.execute("PRAGMA table_info(videos)")}
        for name, kind in columns.items():
            if name not in held:
                connection.execute(f"ALTER TABLE videos ADD COLUMN {name} {kind}")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
