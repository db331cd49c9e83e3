"""Rights on the Neo4j store: takedowns, the rights part of imports, and their reads.

A video's rights are properties of its node: ``status`` (absent: active),
``removed_reason``, ``removed_us``, ``removed_by``, ``removed_derivative_count``
(absent: 0), ``c2pa_manifest``, and ``generation_views``, a list beside
``generation_counts`` (index i: generation ``v.generation + 1 + i``). Every
takedown and restore leaves a ``(:RightsLog)`` node. A takedown takes its
tree's ``TreeLock`` first, as imports do, so the two serialize within a tree.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import neo4j

from lineage.models import epoch_micros, from_epoch_micros
from lineage.rights.plan import RightsPlan
from lineage.rights.policy import ACTIVE, REMOVED, RightsChange, VideoRights
from lineage.stores.neo4j.bookmarks import RoutedSessions
from lineage.stores.neo4j.reads import T, _Read
from lineage.stores.neo4j.tree_lock import LOCK_TREE, per_tree
from lineage.stores.neo4j.versions import BUMP_VERSION

__all__ = [
    "Neo4jRights",
    "migrate_rights",
    "read_video_rights",
    "rights_plan_steps",
    "write_rights_plan",
]

_RIGHTS = (
    "v.id AS id, v.status AS status, v.removed_reason AS reason, v.removed_us AS removed_us, "
    "v.removed_by AS removed_by, v.removed_derivative_count AS removed_count, "
    "v.c2pa_manifest AS manifest"
)
_SET_STATES = (
    "UNWIND $rows AS row MATCH (v:Video {id: row[0]}) "
    "SET v.status = row[1], v.removed_reason = row[2], v.removed_us = row[3], "
    f"v.c2pa_manifest = row[4], {BUMP_VERSION}"
)
# A stored video's new manifest label also bumps its tree's cache version (write_seq).
_SET_MANIFESTS = (
    "UNWIND $rows AS row MATCH (v:Video {id: row[0]}) SET v.c2pa_manifest = row[1], "
    f"{BUMP_VERSION} "
    "WITH DISTINCT v.original_id AS original_id ORDER BY original_id "
    f"{LOCK_TREE}"
)
_ADD_REMOVED = (
    "UNWIND $rows AS row MATCH (v:Video {id: row[0]}) "
    "SET v.removed_derivative_count = coalesce(v.removed_derivative_count, 0) + row[1], "
    f"{BUMP_VERSION}"
)
# Increments come as [generation, views] pairs and land at index
# generation - v.generation - 1 of the list, which grows as needed.
_ADD_VIEWS = (
    "UNWIND $rows AS row MATCH (v:Video {id: row[0]}) "
    "WITH v, row, coalesce(v.generation_views, []) AS current "
    "WITH v, row, current, reduce(width = size(current), pair IN row[1] | "
    "CASE WHEN pair[0] - v.generation > width THEN pair[0] - v.generation ELSE width END"
    ") AS width "
    f"SET {BUMP_VERSION}, "
    "v.generation_views = [i IN range(0, width - 1) | coalesce(current[i], 0) + "
    "reduce(add = 0, pair IN row[1] | "
    "add + CASE WHEN pair[0] - v.generation - 1 = i THEN pair[1] ELSE 0 END)]"
)
_LOCK_AND_READ = (
    "MATCH (v:Video {id: $id}) WITH v, v.original_id AS original_id "
    f"{LOCK_TREE}RETURN coalesce(v.status, 'ACTIVE') AS status"
)
_SET_STATUS = (
    "MATCH (v:Video {id: $id}) "
    "SET v.status = $status, v.removed_reason = $reason, v.removed_us = $at_us, "
    f"v.removed_by = $actor, {BUMP_VERSION} "
    "WITH v OPTIONAL MATCH (v)-[:REMIX_OF*1..]->(a:Video) "
    "WITH v, collect(a) AS ancestors "
    "FOREACH (a IN ancestors | "
    "SET a.removed_derivative_count = coalesce(a.removed_derivative_count, 0) + $delta, "
    "a.version = coalesce(a.version, 0) + 1) "
    "CREATE (:RightsLog {video_id: $id, action: $action, actor: $log_actor, reason: $log_reason, "
    "at_us: $log_at_us, seq: $seq})"
)


def _rights(row: neo4j.Record) -> VideoRights:
    removed_us = row["removed_us"]
    return VideoRights(
        status=row["status"] or ACTIVE,
        removed_reason=row["reason"],
        removed_at=None if removed_us is None else from_epoch_micros(removed_us),
        removed_by=row["removed_by"],
        removed_derivative_count=row["removed_count"] or 0,
        c2pa_manifest=row["manifest"],
    )


def _has_rights(row: neo4j.Record) -> bool:
    return bool(row["status"] or row["removed_count"] or row["manifest"])


def read_video_rights(video_ids: Sequence[str]) -> _Read[dict[str, VideoRights]]:
    """The rights of those videos that have any."""
    return _Read(
        f"UNWIND $ids AS id MATCH (v:Video {{id: id}}) RETURN {_RIGHTS}",
        {"ids": list(dict.fromkeys(video_ids))},
        lambda records: {row["id"]: _rights(row) for row in records if _has_rights(row)},
    )


def _run_batches(tx: neo4j.ManagedTransaction, cypher: str, rows: Sequence[Any]) -> None:
    for start in range(0, len(rows), 5000):
        tx.run(cypher, rows=rows[start : start + 5000]).consume()


def rights_plan_steps(rights: RightsPlan) -> list[tuple[str, list[Any]]]:
    """The statements (each with its ``$rows``) of the rights part of an import, in order."""
    return [
        (_SET_STATES, [list(state) for state in rights.states]),
        (_SET_MANIFESTS, [list(item) for item in rights.manifests.items()]),
        (_ADD_REMOVED, [list(item) for item in rights.removed_counts.items()]),
        (
            _ADD_VIEWS,
            [
                [video_id, [[level, views] for level, views in levels.items()]]
                for video_id, levels in rights.generation_views.items()
            ],
        ),
    ]


def write_rights_plan(tx: neo4j.ManagedTransaction, rights: RightsPlan) -> None:
    """Write the rights part of an import (after the new videos)."""
    for cypher, rows in rights_plan_steps(rights):
        _run_batches(tx, cypher, rows)


# Per-generation view totals of videos stored before they existed: a video
# with derivatives and no list yet (imports always write one beside the
# generation counts, zeros included).
_BACKFILL_VIEWS = (
    "CALL (a) { "
    "MATCH (d:Video)-[:REMIX_OF*1..]->(a) "
    "WITH d.generation - a.generation - 1 AS offset, sum(coalesce(d.views, 0)) AS views "
    "RETURN collect([offset, views]) AS pairs "
    "} "
    "SET a.generation_views = [i IN range(0, a.tree_depth - 1) | "
    "reduce(total = 0, pair IN pairs | total + CASE WHEN pair[0] = i THEN pair[1] ELSE 0 END)]"
)


def migrate_rights(driver: neo4j.Driver, database: str) -> None:
    """Fill the view totals of a store made before they existed (once; marked by a
    ``(:StoreMeta {key: 'rights_version'})`` node)."""
    records, _, _ = driver.execute_query(
        "MATCH (m:StoreMeta {key: 'rights_version'}) RETURN m.value AS value", database_=database
    )
    if records:
        return
    # CALL ... IN TRANSACTIONS runs only in an auto-commit transaction.
    with driver.session(database=database) as session:
        session.run(
            per_tree(
                "MATCH (a:Video {original_id: o.id}) "
                "WHERE a.derivative_count > 0 AND a.generation_views IS NULL",
                "a",
                _BACKFILL_VIEWS,
            )
        ).consume()
    driver.execute_query(
        "MERGE (m:StoreMeta {key: 'rights_version'}) SET m.value = '1'", database_=database
    )


class Neo4jRights(RoutedSessions):
    """The rights methods of the Neo4j store (mixed into ``Neo4jStore``)."""

    def _read(self, read: _Read[T]) -> T:
        raise NotImplementedError

    def set_status(
        self, video_id: str, status: str, reason: str | None, actor: str | None, at: datetime
    ) -> RightsChange | None:
        removing = status == REMOVED
        at_us = epoch_micros(at)

        def work(tx: neo4j.ManagedTransaction) -> RightsChange | None:
            held = tx.run(_LOCK_AND_READ, id=video_id).single()
            if held is None:
                return None
            if held["status"] == status:
                return RightsChange(video_id, status, changed=False)
            tx.run(
                _SET_STATUS,
                id=video_id,
                status=status,
                reason=reason if removing else None,
                at_us=at_us if removing else None,
                actor=actor if removing else None,
                delta=1 if removing else -1,
                action="takedown" if removing else "restore",
                log_actor=actor,
                log_reason=reason,
                log_at_us=at_us,
                seq=at_us,
            ).consume()
            return RightsChange(video_id, status, changed=True)

        with self._write_session() as session:
            return session.execute_write(work)

    def video_rights(self, video_ids: Sequence[str]) -> dict[str, VideoRights]:
        return self._read(read_video_rights(video_ids))

    def derived_from_removed(self, video_ids: Sequence[str]) -> dict[str, bool]:
        return self._read(
            _Read(
                "UNWIND $ids AS id MATCH (v:Video {id: id}) "
                "OPTIONAL MATCH (v)-[:REMIX_OF*1..]->(a:Video {status: 'REMOVED'}) "
                "RETURN id, count(a) > 0 AS removed",
                {"ids": list(dict.fromkeys(video_ids))},
                lambda records: {row["id"]: bool(row["removed"]) for row in records},
            )
        )

    def generation_views_many(self, video_ids: Sequence[str]) -> dict[str, list[tuple[int, int]]]:
        def answer(records: list[neo4j.Record]) -> dict[str, list[tuple[int, int]]]:
            found: dict[str, list[tuple[int, int]]] = {video_id: [] for video_id in video_ids}
            for row in records:
                found[row["id"]] = [
                    (row["generation"] + 1 + offset, views)
                    for offset, views in enumerate(row["views"] or ())
                    if views
                ]
            return found

        return self._read(
            _Read(
                "UNWIND $ids AS id MATCH (v:Video {id: id}) "
                "RETURN v.id AS id, v.generation AS generation, v.generation_views AS views",
                {"ids": list(dict.fromkeys(video_ids))},
                answer,
            )
        )

    def rights_log(self, video_id: str) -> list[tuple[datetime, str, str | None, str | None]]:
        return self._read(
            _Read(
                "MATCH (log:RightsLog {video_id: $id}) "
                "RETURN log.at_us AS at_us, log.action AS action, log.actor AS actor, "
                "log.reason AS reason ORDER BY log.seq, log.action",
                {"id": video_id},
                lambda records: [
                    (from_epoch_micros(row["at_us"]), row["action"], row["actor"], row["reason"])
                    for row in records
                ],
            )
        )

    def find_by_manifest(self, manifest: str) -> list[str]:
        return self._read(
            _Read(
                "MATCH (v:Video {c2pa_manifest: $manifest}) RETURN v.id AS id ORDER BY id",
                {"manifest": manifest},
                lambda records: [row["id"] for row in records],
            )
        )

    def _scan(self, cypher: str) -> Iterator[neo4j.Record]:
        with (
            self._read_session(fetch_size=10_000) as session,
            session.begin_transaction() as tx,
        ):
            yield from tx.run(cypher)

    def iter_rights_rows(self) -> Iterator[tuple[str, int, str, int]]:
        for row in self._scan(
            "MATCH (v:Video) RETURN v.id, coalesce(v.views, 0), coalesce(v.status, 'ACTIVE'), "
            "coalesce(v.removed_derivative_count, 0)"
        ):
            video_id, views, status, removed_count = row.values()
            yield video_id, views, status, removed_count

    def iter_generation_views(self) -> Iterator[tuple[str, int, int]]:
        for row in self._scan(
            "MATCH (v:Video) WHERE v.generation_views IS NOT NULL "
            "RETURN v.id, v.generation, v.generation_views"
        ):
            video_id, generation, totals = row.values()
            for offset, views in enumerate(totals):
                if views:
                    yield video_id, generation + 1 + offset, views
