"""Data migrations, run when the store opens, after the schema is applied.

Each migration is named, runs once per database and records itself on a
``(:Migration {name})`` node when it has finished; running it again (a store
opening while another does, or after a crash half-way) is harmless because
each step only sets values derived from what is stored.

``rank_keys`` (issue 10): gives every stored video its rank keys and
variant key, and every variant group its ``rank_reach``
(:mod:`lineage.stores.neo4j.ranks`), in transactions of 10,000 rows, so a
database written before the ranked indexes existed reads in index order.
Databases made by ``neo4j-admin import`` of a CSV export get them the same way.

``subtree_rank_keys`` (issue 12): the keys of the SUBTREE_LIKES and
SUBTREE_VIEWS orders, for databases whose videos have subtree totals but
were written before those orders had ranked indexes.

``descendant_closure`` (issue 12): the ``(:Descent)`` closure nodes of
every stored video below generation 1 (:mod:`lineage.stores.neo4j.descendants`),
for databases written before ``Video.descendants`` read them, and those made
by ``neo4j-admin import``.
"""

from __future__ import annotations

import neo4j

from lineage.stores.neo4j.descendants import BACKFILL as DESCENDANT_CLOSURE
from lineage.stores.neo4j.ranks import SET_RANKS_FROM_MEASURES, SET_SUBTREE_RANKS

__all__ = ["MIGRATIONS", "migrate"]

MIGRATIONS: dict[str, list[str]] = {
    "rank_keys": [
        "MATCH (v:Video) OPTIONAL MATCH (v)-[r:REMIX_OF]->() "
        f"CALL (v, r) {{ {SET_RANKS_FROM_MEASURES} }} IN TRANSACTIONS OF 10000 ROWS",
        "MATCH (g:VariantGroup) CALL (g) { SET g.rank_reach = -g.reach } "
        "IN TRANSACTIONS OF 10000 ROWS",
    ],
    "subtree_rank_keys": [
        f"MATCH (v:Video) CALL (v) {{ SET {SET_SUBTREE_RANKS} }} IN TRANSACTIONS OF 10000 ROWS",
    ],
    "descendant_closure": [DESCENDANT_CLOSURE],
}


def migrate(driver: neo4j.Driver, database: str) -> list[str]:
    """Run the migrations this database has not finished; return their names."""
    with driver.session(database=database) as session:
        done = {row["name"] for row in session.run("MATCH (m:Migration) RETURN m.name AS name")}
        ran = []
        for name, statements in MIGRATIONS.items():
            if name in done:
                continue
            # CALL ... IN TRANSACTIONS runs only in an auto-commit transaction.
            for statement in statements:
                session.run(statement).consume()
            session.run("MERGE (m:Migration {name: $name})", name=name).consume()
            ran.append(name)
    return ran
