"""The production store: a Neo4j server, through the official driver.

Model: ``(:Video {id, prompt, ..., aggregates})`` nodes, originals also
labelled ``:Original``, and ``(remix)-[:REMIX_OF {summary, variant_key,
similarity, ops}]->(parent)`` edges. Per-generation counts are a list
property of each video (index 0 is the generation just below it); variant
groups are ``(:VariantGroup {parent_id, key, remix_count, reach})`` nodes.

Writes are managed write transactions (retried by the driver on transient
errors and deadlocks): the planner of :mod:`lineage.importing.planner` reads through
the transaction and the plan is written in ``UNWIND`` batches in the same
transaction, aggregates included, so counts never drift. Before it reads a
stored tree, a writer takes the write lock of that tree's original, so
writers remixing in one tree serialize there and every increment is applied
to what the previous writer committed. Large imports are split into
transactions that each leave the store exact (see
:meth:`Neo4jStore.import_videos`).

Ranked lists (remixes, top variants, group tops, originals) read composite
range indexes in order, on negated "rank keys" each write maintains (see
:mod:`~lineage.stores.neo4j.ranks`), so a page costs one page whatever the
fan-out. Each tree's ``(:TreeLock)`` node carries ``write_seq``, bumped by
every write into the tree: the tree's version for caches
(:mod:`~lineage.stores.neo4j.versions`).

Reads are single Cypher queries. Each is built once as a ``_Read``
(Cypher, parameters, and how to turn the records into the answer), run by
the blocking store and by :class:`AsyncNeo4jReads` alike.

Modules: :mod:`~lineage.stores.neo4j.reads` (the read queries),
:mod:`~lineage.stores.neo4j.writes` (the write path),
:mod:`~lineage.stores.neo4j.schema` (constraints and indexes),
:mod:`~lineage.stores.neo4j.migrations` (data migrations when the store opens),
:mod:`~lineage.stores.neo4j.ranks` (the rank keys and their check),
:mod:`~lineage.stores.neo4j.versions` (tree versions),
:mod:`~lineage.stores.neo4j.async_reads` (reads as coroutines) and
:mod:`~lineage.stores.neo4j.store` (the store itself).
"""

from lineage.stores.neo4j.async_reads import AsyncNeo4jReads
from lineage.stores.neo4j.schema import apply_schema, schema_statements
from lineage.stores.neo4j.store import Neo4jStore
from lineage.stores.neo4j.writes import BATCH_SIZE, GROUP_SIZE, PART_SIZE

__all__ = [
    "BATCH_SIZE",
    "GROUP_SIZE",
    "PART_SIZE",
    "AsyncNeo4jReads",
    "Neo4jStore",
    "apply_schema",
    "schema_statements",
]
