"""The :class:`Neo4jStore`: lifecycle, import orchestration and point reads (its
whole-store scans are :mod:`lineage.stores.neo4j.scans`, its rights methods
:mod:`lineage.stores.neo4j.rights`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import neo4j
from neo4j.exceptions import (
    AuthError,
    ConstraintError,
    Neo4jError,
    ServiceUnavailable,
    TransientError,
)

from lineage.errors import LimitExceeded, StoreUnavailable
from lineage.importing.planner import plan_import, sort_rejections, split_by_lineage
from lineage.importing.records import ImportReport, SourcedRecord
from lineage.importing.validation import peek_ids
from lineage.models import (
    GenerationCount,
    VideoRecord,
)
from lineage.over_time.engagement import EngagementEvent
from lineage.progress import progress_bar
from lineage.search.plan import Plan, SearchEstimates, SearchQuery, Strategy
from lineage.store import (
    PathNode,
    VariantGroupRow,
    VideoOrder,
    VideoRow,
)
from lineage.stores.neo4j import search as neo4j_search
from lineage.stores.neo4j.async_reads import (
    AsyncNeo4jReads,
)
from lineage.stores.neo4j.batch_write import (
    AT_ONCE_MAX,
    PrefetchedView,
    StaleReads,
    fits_at_once,
    lock_and_read,
    read_named,
    write_at_once,
)
from lineage.stores.neo4j.bookmarks import BookmarkRelay
from lineage.stores.neo4j.depth import read_max_generation
from lineage.stores.neo4j.descendants import (
    read_descendant_page,
    read_descendant_rows,
)
from lineage.stores.neo4j.large_tree import import_large_tree
from lineage.stores.neo4j.migrations import migrate
from lineage.stores.neo4j.over_time import (
    read_remixes_in_many,
    read_trending,
    record_engagement,
)
from lineage.stores.neo4j.part_pipeline import PartObserver
from lineage.stores.neo4j.reads import (
    T,
    _Read,
    _read_children,
    _read_children_ids,
    _read_children_many,
    _read_count_children,
    _read_generation_counts_many,
    _read_group_tops,
    _read_lineage_path,
    _read_variant_groups,
    _read_variant_groups_with_tops,
    _read_videos,
)
from lineage.stores.neo4j.rights import Neo4jRights, migrate_rights
from lineage.stores.neo4j.scans import Neo4jScans
from lineage.stores.neo4j.schema import (
    apply_schema,
)
from lineage.stores.neo4j.tree_lock import lock_trees_first
from lineage.stores.neo4j.versions import read_tree_versions, read_versions
from lineage.stores.neo4j.writes import (
    _CONSTRAINT_RETRIES,
    _OUT_OF_TRANSACTION_MEMORY,
    BATCH_SIZE,
    GROUP_SIZE,
    PART_SIZE,
    _too_large,
    _TransactionView,
    _write_plan,
    counting,
)


def _accepted_ids(records: Sequence[SourcedRecord], report: ImportReport) -> list[str]:
    """The ids of the records the import did not refuse and of their parents."""
    refused = {(rejection.source, rejection.line) for rejection in report.rejected}
    ids = (
        video_id
        for record in records
        if (record.source, record.line) not in refused
        for video_id in peek_ids(record.data)
    )
    return list(dict.fromkeys(video_id for video_id in ids if video_id is not None))


# -- the store -----------------------------------------------------------------------------------
class Neo4jStore(Neo4jRights, Neo4jScans):
    """A :class:`~lineage.store.LineageStore` on a Neo4j server.

    Parameters
    ----------
    uri, user, password, database : str
        Where the server is and who we are (``NEO4J_*`` in the environment).
    batch_size : int
        Rows per ``UNWIND`` statement in imports.
    group_size : int
        Records in flight: a non-atomic import of up to this many records is
        one transaction; a larger one goes in transactions of whole lineages
        of about ``group_size / import_workers`` records (a larger lineage in
        parents-first parts).
    import_workers : int
        Transactions of one large import written at the same time: one is
        planned in this process while the server writes the others.
    pipeline_parts : bool
        A lineage larger than a group: plan each part in this process while
        the server writes the one before (else each part is planned against
        the store in its transaction, one after another).

    The schema (``schema/neo4j/*.cypher``) is applied when the store opens:
    constraints and indexes that exist are left as they are.
    """

    # Reads cross the network: the API runs them on its async driver.
    in_process = False
    # The API's group commit window by default (LINEAGE_API_GROUP_COMMIT_MS
    # unset), chosen from benchmarks/bench_viral.py (docs/performance.md): a
    # batch here costs three round trips whatever its size, so a short wait
    # that fills it pays under load and costs one client little.
    group_commit_ms = 2.0
    search_rankings = neo4j_search.RANKINGS

    def __init__(
        self,
        uri: str,
        user: str,
        password: str,
        database: str = "neo4j",
        *,
        batch_size: int = BATCH_SIZE,
        group_size: int = GROUP_SIZE,
        import_workers: int = 3,
        pipeline_parts: bool = True,
    ) -> None:
        self.uri = uri
        self.database = database
        self.batch_size = batch_size
        self.group_size = group_size
        self.import_workers = import_workers
        self.pipeline_parts = pipeline_parts
        # Told of each part of a large lineage as it is planned and written (tests).
        self.part_observer: PartObserver | None = None
        self._auth = (user, password)
        # Statements the write path sent (Bolt queries), for tests and benchmarks.
        self.write_queries_sent = 0
        # Small writes planned again locks first, their unlocked reads stale (batch_write).
        self.stale_replans = 0
        # Reads wait for the writes acknowledged before them (a cluster's
        # followers lag the leader); see lineage.stores.neo4j.bookmarks.
        self.bookmarks = BookmarkRelay()
        # Our queries are fixed; the server's hints (e.g. "relationship type
        # does not exist" on an empty database) would only fill the logs.
        self._driver = neo4j.GraphDatabase.driver(
            uri, auth=self._auth, notifications_min_severity="OFF"
        )
        try:
            self._driver.verify_connectivity()
            apply_schema(self._driver, database)
            migrate_rights(self._driver, database)
            migrate(self._driver, database)
        except (ServiceUnavailable, AuthError, Neo4jError, OSError, ValueError) as error:
            self._driver.close()
            raise StoreUnavailable(
                f"cannot open Neo4j store at {uri} ({database}): {error}"
            ) from error
        self.async_reads = AsyncNeo4jReads(uri, self._auth, database, bookmarks=self.bookmarks)

    def __repr__(self) -> str:
        return f"Neo4jStore({self.uri!r}, database={self.database!r})"

    def _read(self, read: _Read[T]) -> T:
        records, _, _ = self._driver.execute_query(
            read.cypher,
            read.parameters,
            database_=self.database,
            routing_=neo4j.RoutingControl.READ,
            bookmark_manager_=self.bookmarks.read,
        )
        return read.answer(records)

    # -- lifecycle ----------------------------------------------------------------
    @property
    def driver(self) -> neo4j.Driver:
        """The blocking driver (the token store shares it)."""
        return self._driver

    def close(self) -> None:
        self._driver.close()
        self.async_reads.close()

    def ping(self) -> bool:
        try:
            self._driver.execute_query(
                "RETURN 1",
                database_=self.database,
                routing_=neo4j.RoutingControl.READ,
                bookmark_manager_=None,
            )
        except (Neo4jError, ServiceUnavailable, OSError):
            return False
        return True

    def data_version(self) -> object | None:
        # A store-wide version would make every write lock one node and
        # serialize all trees; caches use per-tree versions instead.
        return None

    def tree_versions(self, original_ids: Sequence[str]) -> dict[str, object]:
        return self._read(read_tree_versions(original_ids))

    def video_versions(
        self, video_ids: Sequence[str], original_ids: Sequence[str] = ()
    ) -> tuple[dict[str, object], dict[str, object]]:
        return self._read(read_versions(video_ids, original_ids))

    def max_generation(self) -> int:
        return self._read(read_max_generation())

    # -- writes ---------------------------------------------------------------------
    def import_videos(
        self, records: Iterable[SourcedRecord], *, atomic: bool = False, progress: bool = False
    ) -> ImportReport:
        # The driver may run a transaction again: keep the input to replay it.
        materialized = list(records)
        if atomic or len(materialized) <= self.group_size:
            return self._import_in_one_transaction(materialized, atomic=atomic, progress=progress)[
                0
            ]

        # Large imports: one transaction per group of whole lineages (see
        # split_by_lineage; a lineage larger than a group goes in parts), so
        # a transaction's memory stays bounded. Each commit leaves the store
        # exact; if one fails, what was committed stays and importing the
        # same input again completes the rest.
        group_size = max(1, self.group_size // self.import_workers)

        def import_group(group: list[SourcedRecord]) -> ImportReport:
            if len(group) <= group_size:
                return self._import_in_one_transaction(group, atomic=False, progress=False)[0]
            return self._import_large_tree(group, group_size)

        total = ImportReport()
        groups = split_by_lineage(materialized, group_size)
        # Groups share no video, so they can be written side by side: one
        # plans in this process while the server writes the others (three
        # workers kept both cores of a 2-core host busier than two).
        with (
            progress_bar(len(materialized), "importing", enabled=progress) as bar,
            ThreadPoolExecutor(max_workers=self.import_workers) as pool,
        ):
            for group, report in zip(groups, pool.map(import_group, groups), strict=True):
                total.add(report)
                bar.update(len(group))
        sort_rejections(total.rejected, materialized)
        return total

    def _import_large_tree(self, records: list[SourcedRecord], group_size: int) -> ImportReport:
        """Import connected records too many for one transaction, in parents-first parts
        (:mod:`lineage.stores.neo4j.large_tree`)."""
        part_size = min(group_size, max(1, PART_SIZE // self.import_workers))
        return import_large_tree(self, records, part_size, pipeline=self.pipeline_parts)

    def import_and_read(
        self, records: Iterable[SourcedRecord], *, atomic: bool = False
    ) -> tuple[ImportReport, dict[str, VideoRecord]]:
        """Import records and read back the videos of those accepted and their parents,
        as stored at the commit; a small input costs two statements in one transaction
        (:mod:`lineage.stores.neo4j.batch_write`)."""
        materialized = list(records)
        if len(materialized) > AT_ONCE_MAX:
            report = self.import_videos(materialized, atomic=atomic)
            return report, self.get_videos(_accepted_ids(materialized, report))
        return self._import_in_one_transaction(
            materialized, atomic=atomic, progress=False, read_back=True
        )

    def _import_in_one_transaction(
        self,
        records: list[SourcedRecord],
        *,
        atomic: bool,
        progress: bool,
        vetted: bool = False,
        read_back: bool = False,
    ) -> tuple[ImportReport, dict[str, VideoRecord]]:
        """Import in one transaction: its report, and the accepted videos as stored
        when ``read_back`` (else none)."""

        def too_large() -> LimitExceeded:
            return _too_large(len(records), atomic=atomic, group_size=self.group_size)

        def work(tx: neo4j.ManagedTransaction) -> tuple[ImportReport, dict[str, VideoRecord]]:
            tx = counting(tx, self)
            try:
                if len(records) <= AT_ONCE_MAX:
                    return at_once(tx)
                locked = lock_trees_first(tx, records)
                view = _TransactionView(tx, vetted=vetted, locked=locked)
                # Trees locked first (all those the records name) are not locked again.
                view.lock_trees = not locked
                plan, report = plan_import(records, view)
                if atomic and report.rejected:
                    report.written = False
                    return report, {}
                _write_plan(tx, plan, self.batch_size, progress, view.locked)
            except TransientError as error:
                # Retrying cannot help a transaction the server has no room for.
                if error.code in _OUT_OF_TRANSACTION_MEMORY:
                    raise too_large() from error
                raise
            return report, {}

        # A small write first plans from reads taken without the trees' locks, which
        # its write statement takes (batch_write); if those reads cannot stand, it
        # starts again with the locks taken before the reads.
        locks_first = False

        def at_once(tx: neo4j.ManagedTransaction) -> tuple[ImportReport, dict[str, VideoRecord]]:
            # A small write: the planner's reads in one statement, the plan and the
            # read-back in the other.
            prefetched = (read_named if not locks_first else lock_and_read)(tx, records)
            view = PrefetchedView(tx, prefetched, vetted=vetted)
            plan, report = plan_import(records, view)
            if prefetched.unlocked and (view.misses or not fits_at_once(plan)):
                raise StaleReads("the plan needs more than the unlocked reads")
            if atomic and report.rejected:
                report.written = False
                return report, {}
            wanted = _accepted_ids(records, report) if read_back else []
            if fits_at_once(plan):
                checked = prefetched if prefetched.unlocked else None
                return report, write_at_once(tx, plan, view.locked, wanted, checked)
            # Many generations or deep ones: streamed, then read back.
            _write_plan(tx, plan, self.batch_size, progress, view.locked)
            # (read again: the view answers from what it read before the write)
            return report, (_TransactionView(tx).get_videos(wanted) if wanted else {})

        conflicts = 0
        while True:
            try:
                with self._write_session() as session:
                    return session.execute_write(work)
            except StaleReads:
                self.stale_replans += 1
                locks_first = True  # once: the locked path raises no StaleReads
            except TransientError as error:
                if error.code in _OUT_OF_TRANSACTION_MEMORY:  # refused at commit
                    raise too_large() from error
                raise
            except ConstraintError:
                # Another writer created one of these ids first; planning
                # again sees it and treats it as stored.
                conflicts += 1
                if conflicts == _CONSTRAINT_RETRIES:
                    raise

    # -- over time ----------------------------------------------------------------------
    def record_engagement(self, events: Sequence[EngagementEvent]) -> int:
        batch = list(events)
        with self._write_session() as session:
            return session.execute_write(record_engagement, batch)

    def remixes_in(self, video_id: str, first_hour: int, last_hour: int) -> int:
        return self._read(read_remixes_in_many([video_id], first_hour, last_hour))[video_id]

    def remixes_in_many(
        self, video_ids: Sequence[str], first_hour: int, last_hour: int
    ) -> dict[str, int]:
        return self._read(read_remixes_in_many(video_ids, first_hour, last_hour))

    def trending(
        self, parent_id: str | None, first_hour: int, last_hour: int, limit: int
    ) -> list[tuple[str, int]]:
        return self._read(read_trending(parent_id, first_hour, last_hour, limit))

    def remix_hours(self, video_id: str) -> list[tuple[int, int]]:
        return self._read(
            _Read(
                "MATCH (h:RemixHour {video_id: $id}) WHERE h.count > 0 "
                "RETURN h.hour AS hour, h.count AS count ORDER BY hour",
                {"id": video_id},
                lambda records: [(row["hour"], row["count"]) for row in records],
            )
        )

    # -- descendants (lineage.tree.descendants) -------------------------------------------------
    def descendant_page(
        self,
        video_id: str,
        original: bool,
        first: int,
        after: tuple[int, str] | None = None,
        generation: int | None = None,
    ) -> list[VideoRecord]:
        return self._read(read_descendant_page(video_id, original, first, after, generation))

    def descendant_rows(
        self,
        video_id: str,
        original: bool,
        first: int,
        after: tuple[int, str] | None = None,
    ) -> list[VideoRow]:
        return self._read(read_descendant_rows(video_id, original, first, after))

    # -- point reads ------------------------------------------------------------------
    def get_video(self, video_id: str) -> VideoRecord | None:
        return self._read(_read_videos([video_id])).get(video_id)

    def get_videos(self, video_ids: Sequence[str]) -> dict[str, VideoRecord]:
        return self._read(_read_videos(video_ids))

    def lineage_path(self, video_id: str) -> list[PathNode]:
        return self._read(_read_lineage_path(video_id))

    def generation_counts(self, video_id: str) -> list[GenerationCount]:
        return self._read(_read_generation_counts_many([video_id]))[video_id]

    def generation_counts_many(self, video_ids: Sequence[str]) -> dict[str, list[GenerationCount]]:
        return self._read(_read_generation_counts_many(video_ids))

    def variant_groups(self, video_id: str, limit: int) -> list[VariantGroupRow]:
        return self._read(_read_variant_groups(video_id, limit))

    def group_tops(self, groups: Sequence[tuple[str, str]]) -> dict[tuple[str, str], VideoRecord]:
        return self._read(_read_group_tops(groups))

    def variant_groups_with_tops(
        self, video_id: str, limit: int
    ) -> list[tuple[VariantGroupRow, VideoRecord | None]]:
        return self._read(_read_variant_groups_with_tops(video_id, limit))

    # -- ranked lists -------------------------------------------------------------------
    def children(
        self,
        parent_id: str | None,
        order: VideoOrder,
        first: int,
        after: tuple[int, str] | None = None,
    ) -> list[VideoRecord]:
        return self._read(_read_children(parent_id, order, first, after))

    def children_many(
        self, parent_ids: Sequence[str], order: VideoOrder, first: int
    ) -> dict[str, list[VideoRecord]]:
        return self._read(_read_children_many(parent_ids, order, first))

    def count_children(self, parent_id: str | None) -> int:
        return self._read(_read_count_children(parent_id))

    def children_ids(self, parent_ids: Sequence[str]) -> list[str]:
        return self._read(_read_children_ids(parent_ids))

    # -- search (lineage.search) -------------------------------------------------------
    def search_estimates(self, terms: Sequence[str], cap: int) -> SearchEstimates:
        return self._read(neo4j_search.read_estimates(terms, cap))

    def search_page(self, query: SearchQuery, plan: Plan) -> list[VideoRecord] | None:
        if plan.strategy is Strategy.RANKING:
            return neo4j_search.walk(self._read, query, plan.budget)
        return self._read(neo4j_search.read_page(query, plan))

    def search_count(self, query: SearchQuery, plan: Plan) -> int:
        return self._read(neo4j_search.read_count(query, plan))

    def iter_search_texts(self) -> Iterator[tuple[str, str]]:
        with self._read_session(fetch_size=10_000) as session:
            yield from neo4j_search.iter_search_texts(session)

    def search_index_mismatches(self) -> Iterator[tuple[str, str, object, object]]:
        with self._read_session() as session:
            yield from neo4j_search.index_mismatches(session)
