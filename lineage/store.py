"""The storage protocol every backend implements.

A store keeps videos, their remix edges (with the prompt diff) and the
lineage aggregates, and keeps the aggregates exact in the same transaction
as every write. Reads of a video's counters are single lookups.

Writes go through :meth:`LineageStore.import_videos`, which hands the
backend-independent planner in :mod:`lineage.importing.planner` a read view bound to
the write transaction, so the plan and the write see the same data.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from lineage.models import GenerationCount, VideoRecord

if TYPE_CHECKING:
    from datetime import datetime

    from lineage.importing.records import ImportReport, SourcedRecord
    from lineage.over_time.engagement import EngagementEvent
    from lineage.rights.policy import RightsChange, VideoRights
    from lineage.search.plan import Plan, SearchEstimates, SearchQuery

__all__ = [
    "ANY_TREE",
    "EXPORT_ROW_COLUMNS",
    "VIDEO_ROW_COLUMNS",
    "LineageRow",
    "LineageStore",
    "PathNode",
    "ReadView",
    "VariantGroupRow",
    "VideoOrder",
    "VideoRow",
]

# A stored video as a plain tuple, for whole-store scans that must be fast
# (export): no model objects, the diff ops as their stored JSON text.
VIDEO_ROW_COLUMNS = (
    "id",
    "parent_id",
    "prompt",
    "title",
    "creator",
    "created_us",  # microseconds since the epoch, UTC
    "likes",
    "views",
    "generation",
    "original_id",
    "derivative_count",
    "direct_remix_count",
    "tree_depth",
    "diff_summary",
    "variant_key",
    "similarity",
    "diff_ops",  # JSON text: [[op, before, after], ...]
)
VideoRow = tuple[Any, ...]
# A :data:`VideoRow` with the subtree totals: a descendant page read for export.
EXPORT_ROW_COLUMNS = (*VIDEO_ROW_COLUMNS, "subtree_likes", "subtree_views")

# The "tree" of answers that depend on every tree (the ranked originals, a
# video not stored yet): its version changes with any write.
ANY_TREE = "*"


class VideoOrder(enum.Enum):
    """How lists of videos are ranked: highest first, ties by id ascending."""

    DERIVATIVES = "DERIVATIVES"
    DIRECT_REMIXES = "DIRECT_REMIXES"
    LIKES = "LIKES"
    VIEWS = "VIEWS"
    NEWEST = "NEWEST"
    SUBTREE_LIKES = "SUBTREE_LIKES"
    SUBTREE_VIEWS = "SUBTREE_VIEWS"


@dataclass(frozen=True, slots=True)
class PathNode:
    """One step of a lineage path: a video, its generation and its variant key."""

    id: str
    generation: int
    original_id: str
    variant_key: str | None


@dataclass(frozen=True, slots=True)
class VariantGroupRow:
    """A maintained variant-group aggregate of one parent."""

    key: str
    remix_count: int
    reach: int


@dataclass(frozen=True, slots=True)
class LineageRow:
    """The lineage columns of one stored video, as ``lineage check`` reads them."""

    id: str
    parent_id: str | None
    generation: int
    original_id: str
    derivative_count: int
    direct_remix_count: int
    tree_depth: int
    variant_key: str | None


class ReadView(Protocol):
    """What the import planner reads, inside the write transaction."""

    def get_videos(self, video_ids: Sequence[str]) -> dict[str, VideoRecord]: ...

    def lineage_path(self, video_id: str) -> list[PathNode]:
        """The video and its ancestors, the video first and its original last."""
        ...

    def lineage_paths(self, video_ids: Sequence[str]) -> dict[str, list[PathNode]]:
        """:meth:`lineage_path` of several stored videos (the ones new remixes attach to).

        A backend that serializes writers per tree takes those trees' locks here.
        """
        ...

    def video_rights(self, video_ids: Sequence[str]) -> dict[str, VideoRights]:
        """The rights state of those videos that have any (others are active, with
        nothing removed below and no manifest)."""
        ...


@runtime_checkable
class LineageStore(Protocol):
    """A backend that stores the remix graph with exact aggregates."""

    # -- writes ---------------------------------------------------------------
    def import_videos(
        self, records: Iterable[SourcedRecord], *, atomic: bool = False, progress: bool = False
    ) -> ImportReport:
        """Validate, plan and write records (any order); see :mod:`lineage.importing.planner`."""
        ...

    def record_engagement(self, events: Sequence[EngagementEvent]) -> int:
        """Apply likes/views deltas and the subtree totals they change, in one transaction.

        Refused whole (nothing written) when an id is unknown or a total would
        go below zero; returns the number of events applied.
        """
        ...

    # -- over time --------------------------------------------------------------
    def remixes_in(self, video_id: str, first_hour: int, last_hour: int) -> int:
        """Derivatives created in the UTC hours ``first_hour..last_hour`` (since the epoch)."""
        ...

    def remixes_in_many(
        self, video_ids: Sequence[str], first_hour: int, last_hour: int
    ) -> dict[str, int]:
        """:meth:`remixes_in` of several videos (every id gets a count)."""
        ...

    def trending(
        self, parent_id: str | None, first_hour: int, last_hour: int, limit: int
    ) -> list[tuple[str, int]]:
        """Direct remixes of ``parent_id`` (originals for None) by their remixes in the
        hours: (id, count), highest first, ties by id, zeros left out."""
        ...

    def remix_hours(self, video_id: str) -> list[tuple[int, int]]:
        """Every (hour, remixes) bucket of a video, by hour."""
        ...

    def iter_engagement_rows(
        self,
    ) -> Iterator[tuple[str, str | None, int, int, int | None, int, int]]:
        """(id, parent id, likes, views, created_us, subtree likes, subtree views) of all."""
        ...

    def iter_remix_hours(self) -> Iterator[tuple[str, int, str, int]]:
        """Every stored (video id, hour, parent id or '', remix count) bucket."""
        ...

    # -- descendants (lineage.tree.descendants) --------------------------------------
    def descendant_page(
        self,
        video_id: str,
        original: bool,
        first: int,
        after: tuple[int, str] | None = None,
        generation: int | None = None,
    ) -> list[VideoRecord]:
        """Up to ``first`` derivatives of a stored video, by generation then id.

        Only those strictly after the (generation, id) key ``after``, and only
        the absolute ``generation`` if given. ``original`` says whether the
        video is an original. One index range read of about ``first`` entries.
        """
        ...

    def descendant_rows(
        self,
        video_id: str,
        original: bool,
        first: int,
        after: tuple[int, str] | None = None,
    ) -> list[VideoRow]:
        """:meth:`descendant_page` as plain rows of :data:`EXPORT_ROW_COLUMNS`.

        The same videos in the same order, with no model object per video
        (the export's columns are read straight from them).
        """
        ...

    def iter_closure_rows(self) -> Iterator[tuple[str, int, str]]:
        """Every stored descendant-closure row (ancestor id, generation, descendant id)."""
        ...

    # -- point reads ----------------------------------------------------------
    def get_video(self, video_id: str) -> VideoRecord | None: ...

    def get_videos(self, video_ids: Sequence[str]) -> dict[str, VideoRecord]: ...

    def lineage_path(self, video_id: str) -> list[PathNode]: ...

    def generation_counts(self, video_id: str) -> list[GenerationCount]:
        """The maintained per-generation counts below a video, by generation."""
        ...

    def generation_counts_many(self, video_ids: Sequence[str]) -> dict[str, list[GenerationCount]]:
        """:meth:`generation_counts` of many videos at once (every id gets a list)."""
        ...

    def variant_groups(self, video_id: str, limit: int) -> list[VariantGroupRow]:
        """The maintained variant groups of a video, by reach desc then key."""
        ...

    def group_tops(self, groups: Sequence[tuple[str, str]]) -> dict[tuple[str, str], VideoRecord]:
        """The remix with the most derivatives (ties by id) of each (parent id, key) group."""
        ...

    def variant_groups_with_tops(
        self, video_id: str, limit: int
    ) -> list[tuple[VariantGroupRow, VideoRecord | None]]:
        """:meth:`variant_groups` with each group's top (as :meth:`group_tops` gives
        it) in one read."""
        ...

    # -- ranked lists ---------------------------------------------------------
    def children(
        self,
        parent_id: str | None,
        order: VideoOrder,
        first: int,
        after: tuple[int, str] | None = None,
    ) -> list[VideoRecord]:
        """Direct remixes of ``parent_id`` (originals when None), ranked.

        ``after`` is the (measure, id) key of the last item already seen.
        """
        ...

    def children_many(
        self, parent_ids: Sequence[str], order: VideoOrder, first: int
    ) -> dict[str, list[VideoRecord]]:
        """The first page of :meth:`children` of many parents at once."""
        ...

    def count_children(self, parent_id: str | None) -> int: ...

    def children_ids(self, parent_ids: Sequence[str]) -> list[str]:
        """Ids of the direct remixes of all the given videos, unordered."""
        ...

    # -- whole-store scans (check, export) ------------------------------------
    def iter_lineage_rows(self) -> Iterator[LineageRow]: ...

    def iter_video_rows(self, page_size: int = 2000) -> Iterator[VideoRow]:
        """Every stored video as a :data:`VideoRow`, parents first, in pages."""
        ...

    def iter_videos(self, page_size: int = 2000) -> Iterator[VideoRecord]:
        """Every stored video, with its diff, read in pages of ``page_size``.

        Parents come before their remixes, so the stream can be imported
        back in order. Memory is bounded by one page.
        """
        ...

    def iter_generation_counts(self) -> Iterator[tuple[str, int, int]]: ...

    def iter_variant_groups(self) -> Iterator[tuple[str, str, int, int]]: ...

    def count_videos(self) -> int: ...

    # -- rights (lineage.rights.policy) ----------------------------------------------
    def set_status(
        self, video_id: str, status: str, reason: str | None, actor: str | None, at: datetime
    ) -> RightsChange | None:
        """Take a video down (``REMOVED``) or restore it (``ACTIVE``), keep every
        ancestor's ``removed_derivative_count`` exact and log the change with its
        actor, in one transaction. None if the video is not stored; a video
        already in that status is left as it is (``changed`` False)."""
        ...

    def video_rights(self, video_ids: Sequence[str]) -> dict[str, VideoRights]:
        """See :meth:`ReadView.video_rights`."""
        ...

    def derived_from_removed(self, video_ids: Sequence[str]) -> dict[str, bool]:
        """Whether some ancestor of each video is removed (a walk up its lineage path)."""
        ...

    def generation_views_many(self, video_ids: Sequence[str]) -> dict[str, list[tuple[int, int]]]:
        """The maintained (generation, views total) pairs below each video, by generation;
        generations whose total is 0 may be left out."""
        ...

    def rights_log(self, video_id: str) -> list[tuple[datetime, str, str | None, str | None]]:
        """(time, action, actor, reason) of every takedown and restore of a video, oldest first."""
        ...

    def find_by_manifest(self, manifest: str) -> list[str]:
        """Ids of the videos whose ``c2pa_manifest`` is ``manifest``."""
        ...

    def iter_rights_rows(self) -> Iterator[tuple[str, int, str, int]]:
        """(id, views, status, removed_derivative_count) of every video, for ``lineage check``."""
        ...

    def iter_generation_views(self) -> Iterator[tuple[str, int, int]]:
        """(video id, generation, views total) of every maintained nonzero total."""
        ...

    # -- search (lineage.search) ---------------------------------------------------------
    # The orders by which the store ranks every video (an index in that order):
    # a search ranked by one of them can walk the ranking (Strategy.RANKING).
    search_rankings: frozenset[VideoOrder]

    def search_estimates(self, terms: Sequence[str], cap: int) -> SearchEstimates:
        """The store's size and, for each normalised term, about how many videos hold it.

        Each estimate is an upper bound of the videos whose searchable text holds
        the term (0: none does), exact or close up to ``cap``; any value above
        ``cap`` means "at least ``cap``". Costs about ``cap`` index entries at most.
        """
        ...

    def search_page(self, query: SearchQuery, plan: Plan) -> list[VideoRecord] | None:
        """Up to ``query.limit`` matches of the query after its key, ranked, found the
        way ``plan`` says; None when a ``RANKING`` walk used up its budget of rows
        before the page was full (another plan must answer)."""
        ...

    def search_count(self, query: SearchQuery, plan: Plan) -> int:
        """The number of matches of the query (every page; ``after`` and ``limit``
        ignored), read the way ``plan`` (``TEXT`` or ``SCOPE``) says."""
        ...

    def iter_search_texts(self) -> Iterator[tuple[str, str]]:
        """(video id, the normalised searchable text its index holds) of every
        indexed video (``lineage check``)."""
        ...

    def search_index_mismatches(self) -> Iterator[tuple[str, str, object, object]]:
        """(key, what, stored, expected) where the index's own bookkeeping is wrong."""
        ...

    def data_version(self) -> object | None:
        """A token that changes whenever any write commits (None: cannot tell).

        Caches of answers compare it to know they are still exact.
        """
        ...

    def tree_versions(self, original_ids: Sequence[str]) -> dict[str, object]:
        """The version of each tree (by original id; :data:`ANY_TREE` for the whole store).

        A tree's version changes in the same transaction as any write into
        it, so an answer computed from trees whose versions are unchanged is
        still exact. A tree never written has a version too.
        """
        ...

    def video_versions(
        self, video_ids: Sequence[str], original_ids: Sequence[str] = ()
    ) -> tuple[dict[str, object], dict[str, object]]:
        """The version of each video (None for one not stored) and of each tree asked
        for (:data:`ANY_TREE`: the whole store), in one read.

        A video's version changes in the same transaction as any change to its
        row or to anything under it (a remix below it, engagement, a takedown
        or restore of it or of a derivative, new metadata of it or of a
        derivative), so an answer computed from videos, and from lists owned
        by videos, whose versions are unchanged is still exact.
        """
        ...

    def max_generation(self) -> int:
        """The largest generation of any video (0 for an empty store): a bound on the
        length of every lineage path. Costs one index seek."""
        ...

    def ping(self) -> bool: ...

    def close(self) -> None: ...
