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

``subtree_totals_and_hours`` (issue 12): databases written before the
over-time aggregates have no ``subtree_likes``/``subtree_views`` and no
``RemixHour`` buckets. For every video, the totals are summed over its
subtree and set (with their rank keys); for every video with derivatives,
its remixes per UTC hour are counted from the remixes' ``created_us`` and
set, and buckets of hours without remixes deleted. Every value is set
absolutely from the edges and the videos' own likes, views and times, in
transactions of 1,000 videos: a re-run (after a crash, or by a second store
opening at once) sets the same values, and a database that the over-time
code already wrote to without this migration is made exact too. O(n x
depth) reads, once. (The per-generation view totals of the rights work
have their own backfill: ``migrate_rights``.)

``descendant_closure`` (issue 12): the ``(:Descent)`` closure nodes of
every stored video below generation 1 (:mod:`lineage.stores.neo4j.descendants`),
for databases written before ``Video.descendants`` read them, and those made
by ``neo4j-admin import``.

``video_versions``: every video's cache ``version``
(:mod:`lineage.stores.neo4j.versions`), set (or bumped) after the migrations
above, a tree at a time under the tree's lock. Those that set values a
reader sees (subtree totals, remix hours) bump the versions of the videos
they set in the same statement, as a migration added later must.

``search_text`` (issue 28): every video's normalised searchable text
(:mod:`lineage.stores.neo4j.search`), which the text index holds. Cypher has
no case folding, so it is computed in Python (:data:`PYTHON_MIGRATIONS`):
a tree at a time, in one transaction that first takes the tree's lock, as
:func:`~lineage.stores.neo4j.tree_lock.per_tree` does for the others; only
videos without it are written, so a re-run completes what a crash left.
"""

from __future__ import annotations

from collections.abc import Callable

import neo4j

from lineage.over_time.engagement import ORIGINAL_PARENT_KEY
from lineage.stores.neo4j.descendants import BACKFILL as DESCENDANT_CLOSURE
from lineage.stores.neo4j.ranks import SET_RANKS_FROM_MEASURES, SET_SUBTREE_RANKS
from lineage.stores.neo4j.search import MIGRATION as SEARCH_TEXT
from lineage.stores.neo4j.search import backfill as backfill_search_text
from lineage.stores.neo4j.tree_lock import per_tree
from lineage.stores.neo4j.versions import BUMP_VERSION

__all__ = ["MIGRATIONS", "PYTHON_MIGRATIONS", "migrate"]

# The UTC hour (hours since the epoch, rounded down) of d.created_us, as
# lineage.models.hour_of computes it (Cypher's integer division truncates).
_HOUR_OF_D = (
    "CASE WHEN d.created_us >= 0 THEN d.created_us / 3600000000 "
    "ELSE -((-d.created_us - 1) / 3600000000) - 1 END"
)

_TREE_VIDEOS = "MATCH (a:Video {original_id: o.id})"

_SUBTREE_TOTALS = per_tree(
    _TREE_VIDEOS,
    "a",
    "MATCH (d:Video)-[:REMIX_OF*0..]->(a) "
    "WITH a, sum(coalesce(d.likes, 0)) AS likes, sum(coalesce(d.views, 0)) AS views "
    "SET a.subtree_likes = likes, a.subtree_views = views, "
    "a.rank_subtree_likes = -likes, a.rank_subtree_views = -views, "
    "a.version = coalesce(a.version, 0) + 1",
)

_REMIX_HOURS = per_tree(
    f"{_TREE_VIDEOS} WHERE a.derivative_count > 0",
    "a",
    "SET a.version = coalesce(a.version, 0) + 1 WITH a "
    "OPTIONAL MATCH (d:Video)-[:REMIX_OF*1..]->(a) WHERE d.created_us IS NOT NULL "
    f"WITH a, {_HOUR_OF_D} AS hour, count(d) AS remixes "
    "WITH a, collect(CASE WHEN remixes > 0 THEN [hour, remixes] END) AS buckets "
    "FOREACH (bucket IN buckets | "
    "MERGE (h:RemixHour {video_id: a.id, hour: bucket[0]}) "
    f"SET h.parent_key = coalesce(a.parent_id, {ORIGINAL_PARENT_KEY!r}), h.count = bucket[1]) "
    "WITH a, [bucket IN buckets | bucket[0]] AS hours "
    "OPTIONAL MATCH (stale:RemixHour {video_id: a.id}) WHERE NOT stale.hour IN hours "
    "DELETE stale",
)

MIGRATIONS: dict[str, list[str]] = {
    "rank_keys": [
        per_tree(
            "MATCH (v:Video {original_id: o.id}) OPTIONAL MATCH (v)-[r:REMIX_OF]->()",
            "v, r",
            SET_RANKS_FROM_MEASURES,
        ),
        per_tree(
            "MATCH (p:Video {original_id: o.id}) MATCH (g:VariantGroup {parent_id: p.id})",
            "g",
            "SET g.rank_reach = -g.reach",
        ),
    ],
    "subtree_rank_keys": [
        per_tree("MATCH (v:Video {original_id: o.id})", "v", f"SET {SET_SUBTREE_RANKS}"),
    ],
    "subtree_totals_and_hours": [_SUBTREE_TOTALS, _REMIX_HOURS],
    "descendant_closure": [
        per_tree(
            "MATCH (d:Video {original_id: o.id}) WHERE d.generation >= 2",
            "d",
            DESCENDANT_CLOSURE,
        )
    ],
    # Last: the values the migrations above set were read by no cache yet.
    "video_versions": [
        per_tree("MATCH (v:Video {original_id: o.id})", "v", f"SET {BUMP_VERSION}"),
    ],
}


# Migrations whose values Python computes, after the Cypher ones.
PYTHON_MIGRATIONS: dict[str, Callable[[neo4j.Driver, str], object]] = {
    SEARCH_TEXT: backfill_search_text,
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
        for name, run in PYTHON_MIGRATIONS.items():
            if name in done:
                continue
            run(driver, database)
            session.run("MERGE (m:Migration {name: $name})", name=name).consume()
            ran.append(name)
    return ran
