"""Whole-store scans of the Neo4j store: what ``lineage check`` recomputes from and
what whole-store exports stream (mixed into ``Neo4jStore``).

Each scan is one read transaction consumed as it arrives, or keyset pages by
(generation, id), so memory stays flat whatever the store's size.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import neo4j

from lineage.models import VideoRecord
from lineage.over_time.engagement import ORIGINAL_PARENT_KEY
from lineage.store import VIDEO_ROW_COLUMNS, LineageRow
from lineage.stores.neo4j.bookmarks import RoutedSessions
from lineage.stores.neo4j.descendants import read_closure_rows
from lineage.stores.neo4j.ranks import rank_key_mismatches
from lineage.stores.neo4j.reads import _VIDEO, T, _Read, _record, export_row

__all__ = ["Neo4jScans"]


class Neo4jScans(RoutedSessions):
    """The whole-store scans of the Neo4j store (mixed into ``Neo4jStore``)."""

    def _read(self, read: _Read[T]) -> T:
        raise NotImplementedError

    def _stream(self, cypher: str) -> Iterator[neo4j.Record]:
        # One read transaction, consumed as it arrives: memory stays flat.
        with (
            self._read_session(fetch_size=10_000) as session,
            session.begin_transaction() as tx,
        ):
            yield from tx.run(cypher)

    def iter_lineage_rows(self) -> Iterator[LineageRow]:
        for row in self._stream(
            "MATCH (v:Video) OPTIONAL MATCH (v)-[r:REMIX_OF]->(p) "
            "RETURN v.id, p.id, v.generation, v.original_id, v.derivative_count, "
            "v.direct_remix_count, v.tree_depth, r.variant_key"
        ):
            yield LineageRow(*row.values())

    def _video_pages(self, page_size: int) -> Iterator[list[neo4j.Record]]:
        # Generation by generation (parents before remixes), keyset pages by id
        # within one: the (generation, id) index answers each page in order.
        # A generation with no video ends the scan: the next one is empty too.
        generation, after = 0, ""
        while True:
            page: list[neo4j.Record] = self._read(
                _Read(
                    "MATCH (v:Video) WHERE v.generation = $generation AND v.id > $id "
                    "WITH v ORDER BY v.id LIMIT $size "
                    f"OPTIONAL MATCH (v)-[r:REMIX_OF]->() RETURN {_VIDEO}",
                    {"generation": generation, "id": after, "size": page_size},
                    lambda records: records,
                )
            )
            if page:
                yield page
            if len(page) == page_size:
                after = page[-1]["v"]["id"]
            elif page or after:
                generation, after = generation + 1, ""
            else:
                return

    def iter_video_rows(self, page_size: int = 2000) -> Iterator[tuple[Any, ...]]:
        width = len(VIDEO_ROW_COLUMNS)  # the export row less its subtree totals
        for page in self._video_pages(page_size):
            for row in page:
                yield export_row(row["v"], row["r"])[:width]

    def iter_videos(self, page_size: int = 2000) -> Iterator[VideoRecord]:
        for page in self._video_pages(page_size):
            for row in page:
                yield _record(row["v"], row["r"])

    def iter_generation_counts(self) -> Iterator[tuple[str, int, int]]:
        for row in self._stream(
            "MATCH (v:Video) WHERE v.generation_counts IS NOT NULL "
            "RETURN v.id, v.generation, v.generation_counts"
        ):
            video_id, generation, counts = row.values()
            for offset, count in enumerate(counts):
                if count:
                    yield video_id, generation + 1 + offset, count

    def iter_variant_groups(self) -> Iterator[tuple[str, str, int, int]]:
        for row in self._stream(
            "MATCH (g:VariantGroup) RETURN g.parent_id, g.key, g.remix_count, g.reach"
        ):
            parent_id, key, remix_count, reach = row.values()
            yield parent_id, key, remix_count, reach

    def rank_key_mismatches(self) -> Iterator[tuple[str, str, object, object]]:
        """Rank keys that differ from the measures they mirror (``lineage check``)."""
        with self._read_session() as session:
            yield from rank_key_mismatches(session)

    def iter_engagement_rows(
        self,
    ) -> Iterator[tuple[str, str | None, int, int, int | None, int, int]]:
        for row in self._stream(
            "MATCH (v:Video) RETURN v.id, v.parent_id, coalesce(v.likes, 0), "
            "coalesce(v.views, 0), v.created_us, coalesce(v.subtree_likes, 0), "
            "coalesce(v.subtree_views, 0)"
        ):
            video_id, parent_id, likes, views, created_us, subtree_likes, subtree_views = (
                row.values()
            )
            yield video_id, parent_id, likes, views, created_us, subtree_likes, subtree_views

    def iter_remix_hours(self) -> Iterator[tuple[str, int, str, int]]:
        for row in self._stream(
            "MATCH (h:RemixHour) RETURN h.video_id, h.hour, h.parent_key, h.count"
        ):
            video_id, hour, parent_key, count = row.values()
            yield video_id, hour, "" if parent_key == ORIGINAL_PARENT_KEY else parent_key, count

    def iter_closure_rows(self) -> Iterator[tuple[str, int, str]]:
        for row in self._stream(read_closure_rows()):
            yield row[0], row[1], row[2]

    def count_videos(self) -> int:
        return self._read(
            _Read("MATCH (v:Video) RETURN count(v) AS n", {}, lambda r: int(r[0]["n"]))
        )
