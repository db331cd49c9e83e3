"""The GraphQL object types of the contract, built from domain records.

Scalar fields are plain attributes copied from the stored record, so they
resolve without resolver calls; every count and depth is one of the store's
maintained aggregates. Relations (parent, original, ancestors, remixes...)
resolve through the per-request loaders in :mod:`api.graphql.context`,
except on an in-process store (SQLite) for a video reached through no list:
there a loader could batch nothing, and the resolver reads the store at
once and waits for nothing (graphql-core then completes the field without a
task of its own). Remote stores (Neo4j) always read through the loaders.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from api.graphql import descendants as descendant_fields
from api.graphql import rights as rights_fields
from api.graphql.context import LineageContext
from api.graphql.dependencies import asks_fixed_only
from api.graphql.diffs import DiffOp, PromptDiff
from api.graphql.over_time import Window as _Window  # noqa: F401  (registers the enum)
from api.graphql.pages import (
    LineageInfo,
    PageInfo,
    asks_words,
    first_page_now,
    later,
    ranked_page,
    ranked_page_now,
    reads_now,
    rights_now,
    selects,
)
from lineage.errors import VideoNotFound
from lineage.models import VideoRecord
from lineage.over_time.trending import Window as DomainWindow
from lineage.store import ANY_TREE
from lineage.store import VideoOrder as DomainVideoOrder
from lineage.tree import queries

if TYPE_CHECKING:
    from api.graphql.over_time import TrendingRemix

__all__ = [
    "DiffOp",
    "GenerationCount",
    "PageInfo",
    "PromptDiff",
    "Remix",
    "RemixConnection",
    "RemixEdge",
    "VariantGroup",
    "Video",
    "VideoConnection",
    "VideoEdge",
    "VideoInput",
    "VideoOrder",
]


VideoOrder = strawberry.enum(
    DomainVideoOrder,
    name="VideoOrder",
    description="How lists of videos are ranked: highest first, ties by id ascending.",
)


@strawberry.type(description="How many derivatives sit in one (absolute) generation.")
class GenerationCount:
    generation: int
    count: int


def _video_now(info: LineageInfo, video_id: str) -> Video:
    # Reached by a fixed edge (original, parent): noted only if asked what changes.
    record = info.context.video_now(video_id, noted=not asks_fixed_only(info))
    if record is None:  # edges and videos are written together; a miss is a bug
        raise VideoNotFound(video_id)
    return Video.from_record(record)


async def _load_video(info: LineageInfo, video_id: str) -> Video:
    record = await info.context.video(video_id, fixed=asks_fixed_only(info))
    if record is None:  # edges and videos are written together; a miss is a bug
        raise VideoNotFound(video_id)
    return Video.from_record(record)


async def _remix_parent(root: Remix, info: LineageInfo) -> Video:
    return await _load_video(info, root.parent_id)


@strawberry.type(description="A remix edge: from the remix (child) to its parent.")
class Remix:
    child: Video
    parent_id: strawberry.Private[str]
    parent: Video = strawberry.field(resolver=_remix_parent)
    # A plain attribute (no resolver call): built with the edge from the stored diff.
    prompt_diff: PromptDiff

    @classmethod
    def of(cls, record: VideoRecord) -> Remix:
        return cls.to(Video.from_record(record))

    @classmethod
    def to(cls, child: Video) -> Remix:
        """The edge from ``child`` (a remix) to its parent."""
        record = child.record
        assert record.parent_id is not None
        assert record.prompt_diff is not None  # every remix carries its diff
        return cls(
            child=child,
            parent_id=record.parent_id,
            prompt_diff=PromptDiff.from_model(record.prompt_diff, record.id),
        )


@strawberry.type(description="Direct remixes that made the same change (same variant key).")
class VariantGroup:
    key: str
    remix_count: int = strawberry.field(description="Direct remixes in the group.")
    reach: int = strawberry.field(description="The group's remixes plus all their derivatives.")
    parent_id: strawberry.Private[str]
    # Read with the groups (one store read) when the query asks for it.
    top_record: strawberry.Private[VideoRecord | None] = None

    @strawberry.field(description="The group's remix with the most derivatives (ties by id).")
    def top(self) -> Remix:
        if self.top_record is None:  # a group and its remixes are written together
            raise VideoNotFound(self.parent_id, f"variant group {self.key!r} has no remix")
        return Remix.of(self.top_record)


@strawberry.type
class RemixEdge:
    cursor: str
    node: Remix


@strawberry.type
class RemixConnection:
    edges: list[RemixEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class VideoEdge:
    cursor: str
    node: Video


@strawberry.type
class VideoConnection:
    edges: list[VideoEdge]
    page_info: PageInfo
    total_count: int


def _counts(counts: Any) -> list[GenerationCount]:
    return [GenerationCount(generation=c.generation, count=c.count) for c in counts]


@strawberry.type(description="A video: an original (no parent) or a remix of one parent.")
class Video:
    record: strawberry.Private[VideoRecord]
    id: strawberry.ID
    # A removed video's prompt, title and creator are hidden below admin.
    prompt: str = strawberry.field(resolver=rights_fields.resolve_prompt)
    title: str | None = strawberry.field(resolver=rights_fields.resolve_title)
    creator: str | None = strawberry.field(resolver=rights_fields.resolve_creator)
    created_at: datetime | None
    likes: int
    views: int
    generation: int
    is_original: bool
    derivative_count: int = strawberry.field(
        description="All transitive remixes below this video, not counting itself."
    )
    direct_remix_count: int
    tree_depth: int = strawberry.field(
        description="Generations below this video (0 for a video with no remixes)."
    )
    subtree_likes: int = strawberry.field(
        description="Its own likes plus those of all its derivatives."
    )
    subtree_views: int = strawberry.field(
        description="Its own views plus those of all its derivatives."
    )
    # Rights (api/graphql/rights.py).
    status: rights_fields.VideoStatus = strawberry.field(resolver=rights_fields.resolve_status)
    removed_reason: str | None = strawberry.field(resolver=rights_fields.resolve_removed_reason)
    removed_at: datetime | None = strawberry.field(resolver=rights_fields.resolve_removed_at)
    removed_derivative_count: int = strawberry.field(
        resolver=rights_fields.resolve_removed_derivative_count,
        description="Removed videos below this one.",
    )
    derived_from_removed: bool = strawberry.field(
        resolver=rights_fields.resolve_derived_from_removed,
        description="Whether some ancestor is removed.",
    )
    c2pa_manifest: str | None = strawberry.field(
        resolver=rights_fields.resolve_c2pa_manifest,
        description="The label of the video's C2PA active manifest.",
    )
    attribution: list[rights_fields.Attribution] = strawberry.field(
        resolver=rights_fields.resolve_attribution,
        description="Each ancestor's share of this video's value, parent first.",
    )
    downstream_views: float = strawberry.field(
        resolver=rights_fields.resolve_downstream_views,
        description="Views attributed to this video from all its derivatives.",
    )
    descendants: RemixConnection = strawberry.field(
        resolver=descendant_fields.resolve_descendants,
        description="All derivatives, breadth first (by generation, then id), in keyset-cursor "
        "pages; totalCount counts what the arguments select.",
    )

    @classmethod
    def from_record(cls, record: VideoRecord) -> Video:
        return cls(
            record=record,
            id=strawberry.ID(record.id),
            created_at=record.created_at,
            likes=record.likes,
            views=record.views,
            generation=record.generation,
            is_original=record.parent_id is None,
            derivative_count=record.derivative_count,
            direct_remix_count=record.direct_remix_count,
            tree_depth=record.tree_depth,
            subtree_likes=record.subtree_likes,
            subtree_views=record.subtree_views,
        )

    @strawberry.field(description="The generation-0 ancestor (itself for an original).")
    def original(self, info: LineageInfo) -> Video:
        if self.record.parent_id is None:
            return self
        if reads_now(info):
            return _video_now(info, self.record.original_id)
        return later(_load_video(info, self.record.original_id))

    @strawberry.field
    def parent(self, info: LineageInfo) -> Video | None:
        if self.record.parent_id is None:
            return None
        if reads_now(info):
            return _video_now(info, self.record.parent_id)
        return later(_load_video(info, self.record.parent_id))

    @strawberry.field(description="The edge to the parent, with its prompt diff.")
    def remix_of(self) -> Remix | None:
        if self.record.parent_id is None:
            return None
        return Remix.to(self)

    @strawberry.field(description="Derivatives per generation below this video, by generation.")
    def generation_counts(self, info: LineageInfo) -> list[GenerationCount]:
        if self.record.derivative_count == 0:
            return []
        if reads_now(info):
            context = info.context
            found = context.read_now(context.store.generation_counts_many, [self.record.id])
            return _counts(found.get(self.record.id, []))
        return later(self._generation_counts(info))

    async def _generation_counts(self, info: LineageInfo) -> list[GenerationCount]:
        return _counts(await info.context.generation_counts.load(self.record.id))

    @strawberry.field(description="Parent first, original last.")
    def ancestors(self, info: LineageInfo) -> list[Video]:
        if self.record.parent_id is None:
            return []
        if reads_now(info):
            context = info.context
            # The path never changes: the answer depends only on what it asks of them.
            path = context.read_now(context.store.lineage_path, self.record.id, noted=False)
            ids = [node.id for node in path[1:]]
            found = context.read_now(context.store.get_videos, ids, noted=not asks_fixed_only(info))
            if len(found) < len(set(ids)):
                context.trees.add(ANY_TREE)
            context.prime(list(found.values()))
            return [Video.from_record(found[i]) for i in ids if i in found]
        return later(self._ancestors(info))

    async def _ancestors(self, info: LineageInfo) -> list[Video]:
        context = info.context
        path = await context.read(context.store.lineage_path, self.record.id, noted=False)
        ids = [node.id for node in path[1:]]
        loader = context.videos
        fixed = asks_fixed_only(info)
        records = await (loader.load_many_fixed(ids) if fixed else loader.load_many(ids))
        await context.turn()
        return [Video.from_record(r) for r in records if r is not None]

    @strawberry.field(description="Direct remixes, ranked by orderBy, in keyset-cursor pages.")
    def remixes(
        self,
        info: LineageInfo,
        first: int | None = 20,
        after: str | None = None,
        order_by: DomainVideoOrder | None = DomainVideoOrder.DERIVATIVES,
    ) -> RemixConnection:
        if reads_now(info):
            page = ranked_page_now(info.context, self.record.id, first, after, order_by)
            if asks_words(info):
                rights_now(info.context, [record for _, record in page[0]])
            return self._connection(*page)
        return later(self._remixes(info, first, after, order_by))

    async def _remixes(
        self,
        info: LineageInfo,
        first: int | None,
        after: str | None,
        order_by: DomainVideoOrder | None,
    ) -> RemixConnection:
        page = await ranked_page(info.context, self.record.id, first, after, order_by)
        return self._connection(*page)

    def _connection(
        self, page: list[tuple[str, VideoRecord]], page_info: PageInfo
    ) -> RemixConnection:
        return RemixConnection(
            edges=[RemixEdge(cursor=cursor, node=Remix.of(r)) for cursor, r in page],
            page_info=page_info,
            total_count=self.record.direct_remix_count,
        )

    @strawberry.field(description="Direct remixes ranked by a measure, highest first, ties by id.")
    def top_variants(
        self,
        info: LineageInfo,
        limit: int | None = 10,
        by: DomainVideoOrder | None = DomainVideoOrder.DERIVATIVES,
    ) -> list[Remix]:
        context = info.context
        limit = queries.check_page_size(
            10 if limit is None else limit, "limit", context.settings.max_page_size
        )
        by = by or DomainVideoOrder.DERIVATIVES
        if self.record.direct_remix_count == 0:
            return []
        if reads_now(info):
            records = first_page_now(context, self.record.id, by, limit)
            if asks_words(info):
                rights_now(context, records)
            return [Remix.of(r) for r in records]
        return later(self._top_variants(context, by, limit))

    async def _top_variants(
        self, context: LineageContext, by: DomainVideoOrder, limit: int
    ) -> list[Remix]:
        records = await context.remix_pages.load((self.record.id, by, limit))
        await context.turn()
        return [Remix.of(r) for r in records]

    @strawberry.field(
        description="Its derivatives (all generations) created in the window; asOf defaults to now."
    )
    async def remixes_in(
        self, info: LineageInfo, window: DomainWindow, as_of: datetime | None = None
    ) -> int:
        from api.graphql import over_time

        if self.record.derivative_count == 0:
            return 0
        return await over_time.remixes_in(info, self.record.id, window, as_of)

    @strawberry.field(
        description="Direct remixes ranked by their own remixesIn, highest first, ties by "
        "id, zeros left out."
    )
    async def trending_variants(
        self,
        info: LineageInfo,
        window: DomainWindow,
        as_of: datetime | None = None,
        limit: int | None = 10,
    ) -> list[Annotated[TrendingRemix, strawberry.lazy("api.graphql.over_time")]]:
        from api.graphql import over_time

        return await over_time.trending_variants(info, self.record.id, window, as_of, limit)

    @strawberry.field(description="Direct remixes grouped by variant key, by reach, ties by key.")
    def variant_groups(self, info: LineageInfo, limit: int | None = 10) -> list[VariantGroup]:
        context = info.context
        limit = queries.check_page_size(
            10 if limit is None else limit, "limit", context.settings.max_page_size
        )
        if self.record.direct_remix_count == 0:
            return []
        with_tops = selects(info, "top")
        # One read per video whatever the path (no loader batches groups).
        if context.reads_now:
            if with_tops:  # one read for the groups and their tops
                pairs = context.read_now(
                    context.store.variant_groups_with_tops, self.record.id, limit
                )
                context.prime([top for _, top in pairs if top is not None])
            else:
                rows = context.read_now(context.store.variant_groups, self.record.id, limit)
                pairs = [(row, None) for row in rows]
            return self._groups(pairs)
        return later(self._variant_groups(context, limit, with_tops))

    async def _variant_groups(
        self, context: LineageContext, limit: int, with_tops: bool
    ) -> list[VariantGroup]:
        if with_tops:
            pairs = await context.read(
                context.store.variant_groups_with_tops, self.record.id, limit
            )
            context.prime([top for _, top in pairs if top is not None])
        else:
            rows = await context.read(context.store.variant_groups, self.record.id, limit)
            pairs = [(row, None) for row in rows]
        return self._groups(pairs)

    def _groups(self, pairs: Any) -> list[VariantGroup]:
        return [
            VariantGroup(
                key=row.key,
                remix_count=row.remix_count,
                reach=row.reach,
                parent_id=self.record.id,
                top_record=top,
            )
            for row, top in pairs
        ]


@strawberry.input(description="A new video. Without an id, the service assigns one.")
class VideoInput:
    id: strawberry.ID | None = None
    prompt: str
    title: str | None = None
    creator: str | None = None
    likes: int | None = None
    views: int | None = None
    created_at: datetime | None = strawberry.field(
        default=None, description="When the video was made; the time of the request if absent."
    )
