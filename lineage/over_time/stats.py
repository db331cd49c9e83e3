"""What ``lineage stats`` adds over time: subtree totals and the busiest day's trending remixes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from lineage.models import VideoRecord
from lineage.over_time.trending import Window, busiest_day, end_of_day, window_hours
from lineage.store import LineageStore
from lineage.text import pad, plural

__all__ = ["TimeStats", "time_stats"]


@dataclass(frozen=True, slots=True)
class TimeStats:
    """A video's subtree totals, its busiest UTC day and that day's trending remixes."""

    video: VideoRecord
    busiest_day: date | None
    busiest_day_remixes: int
    trending: list[tuple[str, int]]

    def as_json(self) -> dict[str, Any]:
        """The keys ``lineage stats --json`` adds after the contract's."""
        return {
            "subtree_likes": self.video.subtree_likes,
            "subtree_views": self.video.subtree_views,
            "busiest_day": None if self.busiest_day is None else self.busiest_day.isoformat(),
            "busiest_day_remixes": self.busiest_day_remixes,
            "trending_variants": [
                {"id": video_id, "remixes_in": count} for video_id, count in self.trending
            ],
        }

    def lines(self) -> list[str]:
        """The lines ``lineage stats`` prints after the contract's."""
        video = self.video
        lines = [
            f"  subtree likes       {video.subtree_likes:,}",
            f"  subtree views       {video.subtree_views:,}",
        ]
        if self.busiest_day is not None:
            lines.append(
                f"  busiest day         {self.busiest_day.isoformat()} "
                f"({plural(self.busiest_day_remixes, 'remix', 'remixes')} below it)"
            )
        if self.trending:
            lines.append("  trending variants that day (by their remixes that day)")
            for rank, (video_id, count) in enumerate(self.trending, start=1):
                number, _, noun = plural(count, "remix", "remixes").rpartition(" ")
                lines.append(f"    {rank:>2}. {pad(video_id, 20)} {number:>10} {noun}")
        return lines


def time_stats(store: LineageStore, video: VideoRecord, limit: int) -> TimeStats:
    """The over-time part of a video's stats (three store reads)."""
    busiest = busiest_day(store, video.id)
    if busiest is None:
        return TimeStats(video, None, 0, [])
    day, count = busiest
    trending = store.trending(video.id, *window_hours(Window.DAY, end_of_day(day)), limit)
    return TimeStats(video, day, count, trending)
