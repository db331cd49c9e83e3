"""The embedded store: one SQLite file, no server to install.

Modules: :mod:`~lineage.stores.sqlite.store` (the store: connections and transactions),
:mod:`~lineage.stores.sqlite.reads` (the read queries and rows to records),
:mod:`~lineage.stores.sqlite.writes` (the write path),
:mod:`~lineage.stores.sqlite.versions` (tree versions),
:mod:`~lineage.stores.sqlite.schema` (the schema and upgrades when a file opens),
:mod:`~lineage.stores.sqlite.bulk` (large imports),
:mod:`~lineage.stores.sqlite.rights` (takedowns and their aggregates),
:mod:`~lineage.stores.sqlite.over_time` (engagement, hour buckets),
:mod:`~lineage.stores.sqlite.descendants` (the descendant closure),
:mod:`~lineage.stores.sqlite.tokens` (API tokens),
:mod:`~lineage.stores.sqlite.checkpoints` (background WAL checkpoints) and
:mod:`~lineage.stores.sqlite.writer_lock` (one writer at a time across processes).
"""

from lineage.stores.sqlite.store import SQLiteStore

__all__ = ["SQLiteStore"]
