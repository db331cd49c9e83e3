"""The GraphQL schema: queries, mutations and the extensions that guard them.

``build_schema(settings)`` makes the schema with the configured limits;
``python -m api.graphql.schema`` prints its SDL (committed as
``schema/lineage.graphql``).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncGenerator, Callable
from datetime import UTC, datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from api.cache import MarkCacheable
from api.core.config import ApiSettings
from api.graphql import over_time
from api.graphql.chain import chain
from api.graphql.context import LineageContext, deepest_generation
from api.graphql.dependencies import asks_fixed_only
from api.graphql.document_cache import CachedParse, CachedValidation, DocumentCache
from api.graphql.errors import ErrorCodes
from api.graphql.guards import DirectiveLimit, FieldRepeatLimit, QueryCostLimit
from api.graphql.limits import QueryLimits, limit_extensions
from api.graphql.over_time import EngagementInput, TrendingVideo
from api.graphql.pages import LineageInfo, later, ranked_page
from api.graphql.permissions import ADMIN, READ, SUBSCRIBE, WRITE
from api.graphql.rights import restore_video, takedown_video
from api.graphql.search import resolve_search
from api.graphql.subscriptions import video_updates
from api.graphql.types import (
    Remix,
    Video,
    VideoConnection,
    VideoEdge,
    VideoInput,
)
from api.live_feed import PublishTreeVersions
from api.metrics import IMPORTED_VIDEOS, GraphQLMetrics
from lineage.config import read_settings
from lineage.errors import (
    ConflictError,
    CycleError,
    ErrorCode,
    Forbidden,
    InvalidInput,
    LineageError,
    VideoNotFound,
)
from lineage.importing.records import Rejection, SourcedRecord
from lineage.models import VideoRecord
from lineage.over_time.trending import Window as DomainWindow
from lineage.store import ANY_TREE, VideoOrder

__all__ = ["LineageSchema", "build_schema", "print_sdl"]

_ERRORS_BY_CODE: dict[str, type[LineageError]] = {
    ErrorCode.INVALID_INPUT: InvalidInput,
    ErrorCode.CYCLE: CycleError,
    ErrorCode.CONFLICT: ConflictError,
    ErrorCode.FORBIDDEN: Forbidden,
}


def _raise_rejection(rejection: Rejection) -> None:
    if rejection.code == ErrorCode.NOT_FOUND:
        raise VideoNotFound(rejection.video_id or "", rejection.reason)
    error_type = _ERRORS_BY_CODE.get(rejection.code, InvalidInput)
    raise error_type(rejection.reason, video_id=rejection.video_id)


async def _video_by_id(context: LineageContext, video_id: str, fixed: bool) -> Video | None:
    record = await context.video(video_id, fixed=fixed)
    return Video.from_record(record) if record is not None else None


@strawberry.type
class Query:
    @strawberry.field(
        description="A video by id; null when there is no such video.", permission_classes=READ
    )
    def video(self, info: LineageInfo, id: strawberry.ID) -> Video | None:
        context = info.context
        # Asked only what never changes (say its ancestors' ids), it needs no version.
        fixed = asks_fixed_only(info)
        if context.reads_now:  # in process: read at once, nothing to wait for
            record = context.video_now(str(id), noted=not fixed)
            return Video.from_record(record) if record is not None else None
        return later(_video_by_id(context, str(id), fixed))

    @strawberry.field(
        description="Originals (generation 0), ranked by orderBy, in pages.",
        permission_classes=READ,
    )
    async def originals(
        self,
        info: LineageInfo,
        first: int | None = 20,
        after: str | None = None,
        order_by: VideoOrder | None = VideoOrder.DERIVATIVES,
    ) -> VideoConnection:
        context = info.context
        context.trees.add(ANY_TREE)  # the ranking changes with a write into any tree
        page, page_info = await ranked_page(context, None, first, after, order_by)
        total = await context.read(context.store.count_children, None)
        return VideoConnection(
            edges=[VideoEdge(cursor=cursor, node=Video.from_record(r)) for cursor, r in page],
            page_info=page_info,
            total_count=total,
        )

    search: VideoConnection = strawberry.field(
        resolver=resolve_search,
        description="Videos whose prompt, title or creator holds every term of the text, "
        "ranked by orderBy (ties by id), in keyset-cursor pages; totalCount is the exact "
        "number of matches. within: only that video and its derivatives. Below admin a "
        "removed video's text is blank, so it matches no term.",
        permission_classes=READ,
    )

    @strawberry.field(
        description="Originals ranked by their remixesIn over the window, highest first, "
        "ties by id, zeros left out.",
        permission_classes=READ,
    )
    async def trending_originals(
        self,
        info: LineageInfo,
        window: DomainWindow,
        as_of: datetime | None = None,
        first: int | None = 20,
    ) -> list[TrendingVideo]:
        return await over_time.trending_originals(info, window, as_of, first)


def _record_of(video: VideoInput, parent_id: str | None) -> dict[str, Any]:
    created_at = video.created_at or datetime.now(UTC)
    record: dict[str, Any] = {
        "id": str(video.id) if video.id is not None else f"v-{uuid.uuid4().hex}",
        "parent_id": parent_id,
        "prompt": video.prompt,
        "title": video.title,
        "creator": video.creator,
        "created_at": created_at,
    }
    # Absent counters default to 0; present ones are validated (non-negative).
    if video.likes is not None:
        record["likes"] = video.likes
    if video.views is not None:
        record["views"] = video.views
    return record


async def _write(info: LineageInfo, record: dict[str, Any], tree: str | None = None) -> VideoRecord:
    """Import one video (idempotent) and return it as stored.

    A remix into ``tree`` goes through the group committer when it is on.
    """
    context = info.context
    source = "remixVideo" if record["parent_id"] else "createOriginal"
    stored: VideoRecord | None = None
    parent: VideoRecord | None = None
    if tree is not None and context.committer is not None:
        # Read back with the rest of its batch, after the commit.
        report, stored, parent = await context.committer.remix(
            tree, SourcedRecord(record, source, 0)
        )
    elif (import_and_read := getattr(context.store, "import_and_read", None)) is not None:
        # Read back in the write's own transaction (Neo4j: its last statement).
        report, found = await context.write(
            import_and_read, [SourcedRecord(record, source, 0)], atomic=True
        )
        stored = found.get(record["id"])
        parent = found.get(record["parent_id"]) if record["parent_id"] else None
    else:
        report = await context.write(
            context.store.import_videos, [SourcedRecord(record, source, 0)], atomic=True
        )
    for outcome in ("added", "updated", "unchanged"):
        if getattr(report, outcome):
            IMPORTED_VIDEOS.labels(outcome).inc(getattr(report, outcome))
    if report.rejected:
        IMPORTED_VIDEOS.labels("rejected").inc(len(report.rejected))
        _raise_rejection(report.rejected[0])
    if stored is None:
        stored = await context.read(context.store.get_video, record["id"])
    else:
        context.note_videos(stored)
    if parent is not None:
        # Its parent as committed with it: the answer's parent field needs no read.
        context.prime([parent])
    if stored is None:  # written in the same call: a miss is a bug
        raise VideoNotFound(record["id"])
    return stored


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Add an original (a video with no parent).", permission_classes=WRITE
    )
    async def create_original(self, info: LineageInfo, input: VideoInput) -> Video:
        return Video.from_record(await _write(info, _record_of(input, None)))

    @strawberry.mutation(
        description="Remix a video: stores the new video, its edge and prompt diff, and "
        "updates every ancestor's aggregates in the same transaction.",
        permission_classes=WRITE,
    )
    async def remix_video(
        self, info: LineageInfo, parent_id: strawberry.ID, input: VideoInput
    ) -> Remix:
        context = info.context
        committer = context.committer
        # A parent seen before needs no read to find its tree (it never
        # changes); the import itself refuses a parent that is gone or removed.
        tree = committer.tree_of(str(parent_id)) if committer is not None else None
        if tree is None:
            parent = await context.read(context.store.get_video, str(parent_id))
            if parent is None:
                raise VideoNotFound(str(parent_id), f"unknown parent video id {str(parent_id)!r}")
            tree = parent.original_id
            if committer is not None:
                committer.remember(parent.id, tree)
        return Remix.of(await _write(info, _record_of(input, str(parent_id)), tree=tree))

    @strawberry.mutation(
        description="Take a video down (status REMOVED): its node and edges stay, so every "
        "lineage count is unchanged; it can no longer be remixed. Idempotent.",
        permission_classes=ADMIN,
    )
    async def takedown(self, info: LineageInfo, id: strawberry.ID, reason: str) -> Video:
        return await takedown_video(info, str(id), reason)

    @strawberry.mutation(
        description="Make a removed video ACTIVE again. Idempotent.", permission_classes=ADMIN
    )
    async def restore(self, info: LineageInfo, id: strawberry.ID) -> Video:
        return await restore_video(info, str(id))

    @strawberry.mutation(
        description="Add likes/views deltas (at most 1,000 events a call); every ancestor's "
        "subtree totals follow in the same transaction. Refused whole (INVALID_INPUT) "
        "when a total would go below 0. Returns the number of events applied.",
        permission_classes=WRITE,
    )
    async def record_engagement(self, info: LineageInfo, events: list[EngagementInput]) -> int:
        return await over_time.record_engagement(info, events)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The video as a query would show it to the subscriber: once when the "
        "subscription starts, then whenever its counters or rights state change (at most "
        "every 250 ms), whichever worker or process wrote the change. Ends with "
        "UNAUTHENTICATED when the subscriber's token is revoked.",
        permission_classes=SUBSCRIBE,
    )
    async def video_updated(
        self, info: LineageInfo, id: strawberry.ID
    ) -> AsyncGenerator[Video, None]:
        # Closed with this generator, so the watch ends when the client leaves.
        async with contextlib.aclosing(video_updates(info.context, str(id))) as pushes:
            async for video in pushes:
                yield video


class LineageSchema(strawberry.Schema):
    # Its parsed and validated documents (set by build_schema).
    documents: DocumentCache

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Refusals are answers, not server faults; ErrorCodes logs the faults.
        return


def build_schema(settings: ApiSettings | None = None) -> LineageSchema:
    """The schema, with the configured limits and caches."""
    settings = settings or read_settings(ApiSettings)
    # Factories: a fresh extension per request; the document caches belong to
    # the schema, shared by every request, bounded by bytes. They run as one
    # extension (api/graphql/chain.py), in this order.
    documents = DocumentCache()
    limits = limit_extensions(settings)
    chained: list[tuple[type[SchemaExtension], Callable[[], SchemaExtension]]] = [
        # First: it sees the result last, after ErrorCodes gave every error its code.
        (GraphQLMetrics, GraphQLMetrics),
        (ErrorCodes, ErrorCodes),
        (MarkCacheable, MarkCacheable),
        # Committed writes tell the other processes' live counts (with Redis).
        (PublishTreeVersions, PublishTreeVersions),
        *((QueryLimits, factory) for factory in limits),
        (CachedParse, lambda: CachedParse(documents)),
        # Before validation: the guards refuse what would make it expensive.
        (FieldRepeatLimit, lambda: FieldRepeatLimit(settings.max_field_repeats)),
        (DirectiveLimit, lambda: DirectiveLimit(settings.max_directives)),
        (CachedValidation, lambda: CachedValidation(documents)),
        (
            QueryCostLimit,
            lambda: QueryCostLimit(settings.max_query_cost, depth=deepest_generation),
        ),
    ]
    extensions = [chain([kind for kind, _ in chained], [factory for _, factory in chained])]
    schema = LineageSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True),
    )
    schema.documents = documents
    return schema


def print_sdl() -> str:
    """The schema's SDL, as committed in ``schema/lineage.graphql``."""
    return build_schema().as_str() + "\n"


if __name__ == "__main__":
    print(print_sdl(), end="")
