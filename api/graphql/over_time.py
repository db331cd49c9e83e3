"""GraphQL over time: engagement deltas, remixes per hour and trending lists.

The contract's "Over time" names: ``recordEngagement``, ``Window``,
``Video.remixesIn``, ``Video.trendingVariants``, ``Query.trendingOriginals``,
``TrendingRemix`` and ``TrendingVideo``. Every read costs O(hours in the
window) in the store; videos load through the request's DataLoader.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from lineage.errors import LimitExceeded, VideoNotFound
from lineage.models import hour_of
from lineage.over_time import clock
from lineage.over_time.engagement import MAX_EVENTS_PER_CALL, EngagementEvent
from lineage.over_time.trending import Window as DomainWindow
from lineage.over_time.trending import window_hours
from lineage.store import ANY_TREE
from lineage.tree import queries

if TYPE_CHECKING:
    from api.graphql.pages import LineageInfo
    from api.graphql.types import Remix, Video

__all__ = [
    "EngagementInput",
    "TrendingRemix",
    "TrendingVideo",
    "Window",
    "record_engagement",
    "remixes_in",
    "trending_originals",
    "trending_variants",
]

Window = strawberry.enum(
    DomainWindow,
    name="Window",
    description="The UTC hour that holds asOf and the 0 (HOUR), 23 (DAY) or 167 (WEEK) "
    "hours before it.",
)


@strawberry.input(description="A change of one video's likes and views (deltas).")
class EngagementInput:
    video_id: strawberry.ID
    likes: int | None = 0
    views: int | None = 0


@strawberry.type(description="A direct remix and its own remixes in the window.")
class TrendingRemix:
    remix: Annotated[Remix, strawberry.lazy("api.graphql.types")]
    remixes_in: int


@strawberry.type(description="A video and its remixes in the window.")
class TrendingVideo:
    video: Annotated[Video, strawberry.lazy("api.graphql.types")]
    remixes_in: int


def _window(info: LineageInfo, window: DomainWindow, as_of: datetime | None) -> tuple[int, int]:
    """The window's hours; without ``asOf`` it ends now, and the context notes the hour read."""
    if as_of is None:
        as_of = clock.now()
        # The answer holds only while this hour lasts: the response cache
        # keeps it for this hour alone (api/cache.py).
        info.context.hours.add(hour_of(as_of))
    return window_hours(window, as_of)


async def remixes_in(
    info: LineageInfo, video_id: str, window: DomainWindow, as_of: datetime | None
) -> int:
    """The video's derivatives created in the window."""
    context = info.context
    first, last = _window(info, window, as_of)
    return await context.read(context.store.remixes_in, video_id, first, last)


async def _ranked(
    info: LineageInfo,
    parent_id: str | None,
    window: DomainWindow,
    as_of: datetime | None,
    size: int,
) -> list[tuple[Video, int]]:
    from api.graphql.types import Video

    context = info.context
    first, last = _window(info, window, as_of)
    ranked = await context.read(context.store.trending, parent_id, first, last, size)
    records = await context.videos.load_many([video_id for video_id, _ in ranked])
    found = []
    for (video_id, count), record in zip(ranked, records, strict=True):
        if record is None:  # buckets and videos are written together
            raise VideoNotFound(video_id)
        found.append((Video.from_record(record), count))
    return found


async def trending_variants(
    info: LineageInfo,
    video_id: str,
    window: DomainWindow,
    as_of: datetime | None,
    limit: int | None,
) -> list[TrendingRemix]:
    """Direct remixes by their own remixes in the window, highest first, ties by id."""
    from api.graphql.types import Remix

    size = queries.check_page_size(
        10 if limit is None else limit, "limit", info.context.settings.max_page_size
    )
    ranked = await _ranked(info, video_id, window, as_of, size)
    return [
        TrendingRemix(remix=Remix.of(video.record), remixes_in=count) for video, count in ranked
    ]


async def trending_originals(
    info: LineageInfo, window: DomainWindow, as_of: datetime | None, first: int | None
) -> list[TrendingVideo]:
    """Originals by their remixes in the window, highest first, ties by id."""
    size = queries.check_page_size(
        20 if first is None else first, "first", info.context.settings.max_page_size
    )
    info.context.trees.add(ANY_TREE)  # the ranking changes with a write into any tree
    ranked = await _ranked(info, None, window, as_of, size)
    return [TrendingVideo(video=video, remixes_in=count) for video, count in ranked]


async def record_engagement(info: LineageInfo, events: list[EngagementInput]) -> int:
    """Apply likes/views deltas (at most 1,000 a call), refused whole if any total
    would go below 0."""
    if len(events) > MAX_EVENTS_PER_CALL:
        raise LimitExceeded(
            f"events must hold at most {MAX_EVENTS_PER_CALL:,} events a call, got {len(events):,}"
        )
    batch = [
        EngagementEvent(str(event.video_id), event.likes or 0, event.views or 0) for event in events
    ]
    context = info.context
    return await context.write(context.store.record_engagement, batch)
