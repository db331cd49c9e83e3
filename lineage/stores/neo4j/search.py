"""The Neo4j store's search (:mod:`lineage.search`): a text index on each video's text.

Every video carries ``search_text``, its normalised searchable text (prompt,
title and creator joined by line breaks, NFKC and case-folded:
:func:`lineage.search.text.searchable_text`, computed in Python: Cypher has
no case folding). ``schema/neo4j/008_search.cypher`` indexes it with a
``TEXT`` index (trigram-based: it answers ``CONTAINS`` for any substring, in
any script) and ranks every video by derivatives (``(rank_derivatives, id)``)
for the walk of frequent terms (``Strategy.RANKING``).

Every write path sets it in its own transaction: new videos carry it from
their ``CREATE`` (:mod:`~lineage.stores.neo4j.writes`), a changed title or
creator rewrites it. A takedown leaves it: a removed video stays indexed and
searches of callers who do not see its text (below ``admin``) leave removed
videos out at query time, so one index answers every role exactly.
Databases written before search (or made by ``neo4j-admin import``) get it
when the store opens (:func:`backfill`), a tree at a time under the tree's
lock, as the other migrations run (:mod:`lineage.stores.neo4j.migrations`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import neo4j

from lineage.models import VideoRecord
from lineage.search.plan import Plan, SearchEstimates, SearchQuery, Strategy
from lineage.search.text import searchable_text
from lineage.store import VideoOrder
from lineage.stores.neo4j.ranks import RANK_PROPERTY, rank_of
from lineage.stores.neo4j.reads import _VIDEO, _Read, _record
from lineage.stores.neo4j.tree_lock import LOCK_TREE

__all__ = [
    "MIGRATION",
    "RANKINGS",
    "backfill",
    "index_mismatches",
    "read_count",
    "read_estimates",
    "read_page",
    "walk",
]

# The orders with a ranking of every video (an index (rank_*, id) on :Video).
RANKINGS = frozenset({VideoOrder.DERIVATIVES})
MIGRATION = "search_text"
_INDEX = "video_search_text"
_WALK_FIRST_CHUNK = 256
_WALK_MAX_CHUNK = 8192


# -- queries ---------------------------------------------------------------------------------
def _tests(query: SearchQuery, terms: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """A Cypher predicate on ``v`` (terms, removed, scope) and its parameters."""
    tests = ["v.search_text IS NOT NULL"]
    parameters: dict[str, Any] = {}
    if terms:
        tests.append("all(term IN $terms WHERE v.search_text CONTAINS term)")
        parameters["terms"] = list(terms)
    if not query.include_removed:
        tests.append("coalesce(v.status, 'ACTIVE') <> 'REMOVED'")
    scope = query.scope
    if scope is not None:
        parameters["scope"] = scope.video_id
        if scope.original:
            tests.append("v.original_id = $scope")
        else:
            tests.append(
                "(v.id = $scope OR EXISTS { MATCH (:Descent {ancestor_id: $scope, "
                "generation: v.generation, descendant_id: v.id}) })"
            )
    return " AND ".join(tests), parameters


def _source(query: SearchQuery, plan: Plan) -> tuple[str, dict[str, Any], list[str]]:
    """Cypher binding the candidates ``v``, its parameters, and the terms left to test."""
    if plan.strategy is Strategy.TEXT:
        rest = [term for term in query.terms if term != plan.driver]
        return (
            "MATCH (v:Video) USING TEXT INDEX v:Video(search_text) "
            "WHERE v.search_text CONTAINS $driver",
            {"driver": plan.driver},
            rest,
        )
    scope = query.scope
    assert plan.strategy is Strategy.SCOPE
    assert scope is not None
    if scope.original:
        source = (
            "MATCH (v:Video) USING INDEX SEEK v:Video(original_id, generation, id) "
            "WHERE v.original_id = $scope_root AND v.generation IS NOT NULL "
            "AND v.id IS NOT NULL"
        )
    else:
        source = (
            "CALL () { MATCH (v:Video {id: $scope_root}) RETURN v UNION ALL "
            "MATCH (d:Descent) USING INDEX SEEK d:Descent(ancestor_id, generation, descendant_id) "
            "WHERE d.ancestor_id = $scope_root AND d.generation IS NOT NULL "
            "AND d.descendant_id IS NOT NULL MATCH (v:Video {id: d.descendant_id}) RETURN v }"
        )
    return source, {"scope_root": scope.video_id}, list(query.terms)


def _records(records: list[neo4j.Record]) -> list[VideoRecord]:
    return [_record(row["v"], row["r"]) for row in records]


def read_page(query: SearchQuery, plan: Plan) -> _Read[list[VideoRecord]]:
    """A page of matches found through the text index or the scope, ranked."""
    source, parameters, rest = _source(query, plan)
    tests, more = _tests(query, rest)
    rank = RANK_PROPERTY[query.order]
    keyset = ""
    if query.after is not None:
        keyset = f" AND (v.{rank} > $rank OR v.{rank} = $rank AND v.id > $after_id)"
        more |= {"rank": rank_of(query.order, query.after[0]), "after_id": query.after[1]}
    return _Read(
        f"{source} WITH v WHERE {tests}{keyset} WITH v ORDER BY v.{rank}, v.id LIMIT $limit "
        f"OPTIONAL MATCH (v)-[r:REMIX_OF]->() RETURN {_VIDEO}",
        {**parameters, **more, "limit": query.limit},
        _records,
    )


def read_count(query: SearchQuery, plan: Plan) -> _Read[int]:
    """Every match, counted through the text index or the scope."""
    source, parameters, rest = _source(query, plan)
    tests, more = _tests(query, rest)
    return _Read(
        f"{source} WITH v WHERE {tests} RETURN count(v) AS n",
        {**parameters, **more},
        lambda records: int(records[0]["n"]),
    )


def read_estimates(terms: Sequence[str], cap: int) -> _Read[SearchEstimates]:
    """The store's size (its count store) and each term's videos, counted up to ``cap + 1``."""

    def answer(records: list[neo4j.Record]) -> SearchEstimates:
        found = {row["term"]: int(row["n"]) for row in records}
        return SearchEstimates(store_size=int(records[0]["size"]), terms=found)

    return _Read(
        "MATCH (each:Video) WITH count(each) AS size UNWIND $terms AS term "
        "CALL (term) { MATCH (v:Video) USING TEXT INDEX v:Video(search_text) "
        "WHERE v.search_text CONTAINS term WITH v LIMIT $cap RETURN count(v) AS n } "
        "RETURN size, term, n",
        {"terms": list(terms), "cap": cap + 1},
        answer,
    )


def _ranked_chunk(rank: str, condition: str, hint: str) -> str:
    return (
        f"MATCH (v:Video) {hint} v:Video({rank}, id) WHERE {condition} "
        f"AND v.{rank} IS NOT NULL AND v.id IS NOT NULL "
        f"RETURN v ORDER BY v.{rank}, v.id LIMIT $chunk"
    )


def walk_chunk(
    query: SearchQuery, key: tuple[int, str] | None, chunk: int
) -> _Read[list[tuple[int, str, VideoRecord | None]]]:
    """The next ``chunk`` videos of the ranking after ``key`` (a rank key and id):
    (rank key, id, the video if it matches) each, in ranking order."""
    rank = RANK_PROPERTY[query.order]
    tests, parameters = _tests(query, query.terms)
    parameters["chunk"] = chunk
    if key is None:
        page = _ranked_chunk(rank, "true", "USING INDEX")
    else:
        parameters |= {"rank": key[0], "after_id": key[1]}
        tie = _ranked_chunk(rank, f"v.{rank} = $rank AND v.id > $after_id", "USING INDEX SEEK")
        below = _ranked_chunk(rank, f"v.{rank} > $rank", "USING INDEX SEEK")
        page = f"{tie} UNION ALL {below}"

    def answer(records: list[neo4j.Record]) -> list[tuple[int, str, VideoRecord | None]]:
        rows = [
            (row["rank"], row["id"], _record(row["v"], row["r"]) if row["hit"] else None)
            for row in records
        ]
        rows.sort(key=lambda row: (row[0], row[1]))
        return rows

    return _Read(
        f"CALL () {{ {page} }} WITH v ORDER BY v.{rank}, v.id LIMIT $chunk "
        f"WITH v, coalesce({tests}, false) AS hit "
        "OPTIONAL MATCH (v)-[r:REMIX_OF]->() WHERE hit "
        f"RETURN v.{rank} AS rank, v.id AS id, hit, "
        "CASE WHEN hit THEN v {.*, search_text: null} END AS v, r {.*} AS r",
        parameters,
        answer,
    )


def walk(read: Any, query: SearchQuery, budget: int) -> list[VideoRecord] | None:
    """Walk the order's ranking from ``query.after`` in chunks (each one read), until
    ``query.limit`` videos match or the ranking ends; None past ``budget`` videos."""
    key = None if query.after is None else (rank_of(query.order, query.after[0]), query.after[1])
    hits: list[VideoRecord] = []
    walked = 0
    chunk = _WALK_FIRST_CHUNK
    while True:
        rows: list[tuple[int, str, VideoRecord | None]] = read(walk_chunk(query, key, chunk))
        walked += len(rows)
        hits.extend(video for _, _, video in rows if video is not None)
        if len(hits) >= query.limit or len(rows) < chunk:
            return hits[: query.limit]
        if walked >= budget:
            return None
        key = rows[-1][0], rows[-1][1]
        chunk = min(chunk * 4, _WALK_MAX_CHUNK, max(budget - walked, 1))


# -- migration and check ------------------------------------------------------------------
_LOCK_ONE_TREE = f"WITH $original_id AS original_id {LOCK_TREE}RETURN original_id"


def backfill(driver: neo4j.Driver, database: str) -> int:
    """Give every video without ``search_text`` its text, a tree at a time, each tree
    in one transaction that holds the tree's lock. Returns the videos written."""

    def one_tree(tx: neo4j.ManagedTransaction, original_id: str) -> int:
        tx.run(_LOCK_ONE_TREE, original_id=original_id).consume()
        rows = [
            [row["id"], searchable_text(row["prompt"], row["title"], row["creator"])]
            for row in tx.run(
                "MATCH (v:Video) USING INDEX SEEK v:Video(original_id, generation, id) "
                "WHERE v.original_id = $original_id AND v.generation IS NOT NULL "
                "AND v.id IS NOT NULL AND v.search_text IS NULL "
                "RETURN v.id AS id, v.prompt AS prompt, v.title AS title, v.creator AS creator",
                original_id=original_id,
            )
        ]
        for start in range(0, len(rows), 5000):
            tx.run(
                "UNWIND $rows AS row MATCH (v:Video {id: row[0]}) SET v.search_text = row[1]",
                rows=rows[start : start + 5000],
            ).consume()
        return len(rows)

    written = 0
    with driver.session(database=database) as session:
        originals = [
            row["id"]
            for row in session.run(
                "MATCH (v:Video) WHERE v.search_text IS NULL "
                "RETURN DISTINCT v.original_id AS id ORDER BY id"
            )
        ]
        for original_id in originals:
            written += session.execute_write(one_tree, original_id)
    return written


def iter_search_texts(session: Any) -> Iterator[tuple[str, str]]:
    for row in session.run("MATCH (v:Video) RETURN v.id AS id, v.search_text AS text"):
        yield row["id"], row["text"]


def index_mismatches(session: Any) -> Iterator[tuple[str, str, object, object]]:
    """The text index must be online and hold every video's text."""
    states = [
        row["state"]
        for row in session.run("SHOW INDEXES YIELD name, state WHERE name = $name", name=_INDEX)
    ]
    if states != ["ONLINE"]:
        yield _INDEX, "text index", states[0] if states else None, "ONLINE"
        return
    indexed = session.run(
        "MATCH (v:Video) USING TEXT INDEX v:Video(search_text) WHERE v.search_text CONTAINS '' "
        "RETURN count(v) AS n"
    ).single(strict=True)["n"]
    stored = session.run("MATCH (v:Video) RETURN count(v) AS n").single(strict=True)["n"]
    if indexed != stored:
        yield _INDEX, "videos in the text index", indexed, stored
