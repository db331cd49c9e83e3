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
from lineage.stores.sqlite.versions import add_version_column

__all__ = ["apply_schema"]


def apply_schema(connection: sqlite3.Connection, schema: str) -> None:
    """Create what the schema script ``schema`` has and the file lacks, then upgrade the file.

    Raises
    ------
    sqlite3.Error
        If the file cannot be read or written.
    """
    sqlite_search.add_columns(connection)  # the schema's indexes name them
    add_version_column(connection)
    connection.executescript(schema)
    migrate_rights(connection)
    sqlite_time.upgrade(connection)
    sqlite_descendants.upgrade(connection)
    sqlite_search.upgrade(connection)
