"""The "remixes per hour" panel of ``lineage plot``: one week of a video's tree, by UTC hour.

The counts come from the maintained remix-hour buckets (one store read of
the video's buckets), so each bar is exactly ``remixesIn(HOUR)`` at that
hour. The week drawn is 168 UTC hours from midnight of the first day with
remixes below the video or, when the busiest day comes later, from
midnight of the day before the busiest day: a viral tree's surge and its
run-up are in view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator, StrMethodFormatter

from lineage.store import LineageStore

__all__ = ["HOURS_IN_WEEK", "RemixWeek", "bar_gid", "draw_remixes_per_hour", "remix_week"]

HOURS_IN_WEEK = 168
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_BAR_COLOUR = "#1f77b4"
_BUSIEST_COLOUR = "#d62728"
_TEXT_COLOUR = "#222222"
_MUTED_COLOUR = "#6b6b6b"


@dataclass(frozen=True, slots=True)
class RemixWeek:
    """Remixes below a video in each of 168 consecutive UTC hours."""

    first_hour: int  # hours since the epoch
    counts: tuple[int, ...]  # HOURS_IN_WEEK of them
    total: int  # remixes with a creation time below the video, in any hour
    busiest_day: int  # days since the epoch

    @property
    def in_week(self) -> int:
        """The remixes drawn."""
        return sum(self.counts)

    def start(self) -> datetime:
        """The first moment of the week."""
        return _EPOCH + timedelta(hours=self.first_hour)


def remix_week(store: LineageStore, video_id: str) -> RemixWeek | None:
    """The week of a video's tree to draw (see the module), or None if no remix below
    it has a creation time. One read of the video's hour buckets."""
    buckets = [(hour, count) for hour, count in store.remix_hours(video_id) if count]
    if not buckets:
        return None
    per_day: dict[int, int] = {}
    for hour, count in buckets:
        per_day[hour // 24] = per_day.get(hour // 24, 0) + count
    busiest = min(per_day, key=lambda day: (-per_day[day], day))
    first_day = max(buckets[0][0] // 24, busiest - 1)
    first_hour = first_day * 24
    counts = [0] * HOURS_IN_WEEK
    for hour, count in buckets:
        if first_hour <= hour < first_hour + HOURS_IN_WEEK:
            counts[hour - first_hour] = count
    return RemixWeek(first_hour, tuple(counts), sum(count for _, count in buckets), busiest)


def bar_gid(hour: int, count: int) -> str:
    """The SVG id of the bar of one hour: the hour (since the epoch) and its count."""
    return f"remixes-hour-{hour}-{count}"


def draw_remixes_per_hour(axes: Axes, video_id: str, week: RemixWeek) -> None:
    """Draw the week's remixes per hour, one bar an hour, the busiest day in red."""
    start = week.start()
    end = start + timedelta(hours=HOURS_IN_WEEK - 1)
    outside = week.total - week.in_week
    axes.set_title(
        f"Remixes per hour below {video_id} (UTC), {start:%Y-%m-%d} to {end:%Y-%m-%d}: "
        f"{week.in_week:,} remixes" + (f" ({outside:,} more outside this week)" if outside else ""),
        fontsize=11,
        loc="left",
        color=_TEXT_COLOUR,
    )
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    hours = range(HOURS_IN_WEEK)
    colours = [
        _BUSIEST_COLOUR if (week.first_hour + hour) // 24 == week.busiest_day else _BAR_COLOUR
        for hour in hours
    ]
    bars = axes.bar(hours, week.counts, width=0.9, align="edge", color=colours, linewidth=0)
    for hour, (bar, count) in enumerate(zip(bars, week.counts, strict=True)):
        bar.set_gid(bar_gid(week.first_hour + hour, count))
    axes.set_xlim(0, HOURS_IN_WEEK)
    axes.set_xticks(range(0, HOURS_IN_WEEK, 24))
    axes.set_xticks(range(0, HOURS_IN_WEEK, 6), minor=True)
    axes.set_xticklabels(
        [f"{start + timedelta(days=day):%a %b %d}" for day in range(7)], fontsize=8.5, ha="left"
    )
    axes.tick_params(axis="y", labelsize=8.5)
    axes.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    axes.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    axes.set_ylim(0, max(max(week.counts), 1) * 1.08)
    axes.grid(axis="y", color="#e6e6e6", linewidth=0.8)
    axes.set_axisbelow(True)
    axes.set_ylabel("remixes that hour", fontsize=9)
    busiest = _EPOCH + timedelta(days=week.busiest_day)
    axes.text(
        1.0, 1.0, f"red: the busiest day, {busiest:%Y-%m-%d}", transform=axes.transAxes,
        ha="right", va="bottom", fontsize=8, color=_MUTED_COLOUR,
    )  # fmt: skip
