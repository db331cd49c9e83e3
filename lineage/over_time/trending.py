"""Trending by the hour: windows of UTC hours and the reads that rank by them.

Time is bucketed by the UTC hour of each remix's ``created_at`` (hours since
the Unix epoch). A :class:`Window` is the hour that holds ``as_of`` and the
0, 23 or 167 hours before it. Stores keep, for every video, its derivatives
per hour, so every read here costs O(hours in the window).
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, timedelta

from lineage.models import hour_of
from lineage.over_time import clock
from lineage.store import LineageStore
from lineage.tree.queries import check_page_size, require_video

__all__ = [
    "Window",
    "busiest_day",
    "end_of_day",
    "remixes_in",
    "trending_originals",
    "trending_variants",
    "window_hours",
]

_EPOCH_DAY = datetime(1970, 1, 1, tzinfo=UTC)


class Window(enum.Enum):
    """A span of UTC hours ending with the hour that holds ``asOf``."""

    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"


_HOURS_BEFORE = {Window.HOUR: 0, Window.DAY: 23, Window.WEEK: 167}


def window_hours(window: Window, as_of: datetime | None = None) -> tuple[int, int]:
    """The first and last hour (inclusive, hours since the epoch) of a window."""
    moment = clock.now() if as_of is None else as_of
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    last = hour_of(moment)
    return last - _HOURS_BEFORE[window], last


def remixes_in(
    store: LineageStore, video_id: str, window: Window, as_of: datetime | None = None
) -> int:
    """The video's derivatives (all generations) created in the window."""
    require_video(store, video_id)
    return store.remixes_in(video_id, *window_hours(window, as_of))


def trending_variants(
    store: LineageStore,
    video_id: str,
    window: Window,
    as_of: datetime | None = None,
    limit: int = 10,
) -> list[tuple[str, int]]:
    """Its direct remixes by their own ``remixes_in``, highest first, ties by id, no zeros."""
    check_page_size(limit, "limit")
    require_video(store, video_id)
    return store.trending(video_id, *window_hours(window, as_of), limit)


def trending_originals(
    store: LineageStore, window: Window, as_of: datetime | None = None, first: int = 20
) -> list[tuple[str, int]]:
    """Originals by their ``remixes_in``, highest first, ties by id, no zeros."""
    check_page_size(first)
    return store.trending(None, *window_hours(window, as_of), first)


def busiest_day(store: LineageStore, video_id: str) -> tuple[date, int] | None:
    """The UTC calendar day with the most remixes below a video, and how many (None if
    none has a time). Ties go to the earliest day."""
    per_day: dict[int, int] = {}
    for hour, count in store.remix_hours(video_id):
        per_day[hour // 24] = per_day.get(hour // 24, 0) + count
    if not per_day:
        return None
    day = min(per_day, key=lambda number: (-per_day[number], number))
    return (_EPOCH_DAY + timedelta(days=day)).date(), per_day[day]


def end_of_day(day: date) -> datetime:
    """The last microsecond of a UTC day: a DAY window ending there covers that day."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1, microseconds=-1)
