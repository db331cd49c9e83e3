"""Lineage queries over any :class:`~lineage.store.LineageStore`.

Counts and depths come from the aggregates the store maintains; only
:func:`descendants` and :func:`ancestors` walk the graph, and each touches
only the videos it returns.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lineage.errors import InvalidInput, LimitExceeded, VideoNotFound
from lineage.models import GenerationCount, VideoRecord, epoch_micros, format_timestamp
from lineage.store import LineageStore, VideoOrder

__all__ = [
    "MAX_PAGE_SIZE",
    "NULL_TIME",
    "LineageStats",
    "VariantGroup",
    "ancestors",
    "check_page_size",
    "descendants",
    "generation_counts",
    "lineage_stats",
    "measure_of",
    "originals",
    "require_video",
    "top_variants",
    "variant_groups",
]

MAX_PAGE_SIZE = 100
# Where NEWEST ranks a video without a creation time: after all others.
NULL_TIME = -(2**63)


@dataclass(frozen=True, slots=True)
class VariantGroup:
    """Direct remixes that made the same change, with their total reach."""

    key: str
    remix_count: int
    reach: int
    top: VideoRecord


def check_page_size(value: int, name: str = "first", maximum: int = MAX_PAGE_SIZE) -> int:
    """Refuse page sizes outside 0..maximum (the contract caps them at 100)."""
    if value < 0:
        raise InvalidInput(f"{name} must not be negative, got {value}")
    if value > maximum:
        raise LimitExceeded(f"{name} must be at most {maximum}, got {value}")
    return value


def measure_of(video: VideoRecord, order: VideoOrder) -> int:
    """The value a video is ranked by under ``order`` (the keyset cursor's first part)."""
    if order is VideoOrder.DERIVATIVES:
        return video.derivative_count
    if order is VideoOrder.DIRECT_REMIXES:
        return video.direct_remix_count
    if order is VideoOrder.LIKES:
        return video.likes
    if order is VideoOrder.VIEWS:
        return video.views
    if order is VideoOrder.SUBTREE_LIKES:
        return video.subtree_likes
    if order is VideoOrder.SUBTREE_VIEWS:
        return video.subtree_views
    return NULL_TIME if video.created_at is None else epoch_micros(video.created_at)


def require_video(store: LineageStore, video_id: str) -> VideoRecord:
    """The stored video, or :class:`~lineage.errors.VideoNotFound` naming the id."""
    video = store.get_video(video_id)
    if video is None:
        raise VideoNotFound(video_id)
    return video


def ancestors(store: LineageStore, video_id: str) -> list[VideoRecord]:
    """The video's ancestors, its parent first and its original last."""
    path = store.lineage_path(video_id)
    if not path:
        raise VideoNotFound(video_id)
    found = store.get_videos([node.id for node in path[1:]])
    return [found[node.id] for node in path[1:]]


def generation_counts(store: LineageStore, video_id: str) -> list[GenerationCount]:
    """How many derivatives sit in each generation below the video (absolute generations)."""
    require_video(store, video_id)
    return store.generation_counts(video_id)


def top_variants(
    store: LineageStore,
    video_id: str,
    by: VideoOrder = VideoOrder.DERIVATIVES,
    limit: int = 10,
) -> list[VideoRecord]:
    """The video's direct remixes ranked by ``by``, highest first, ties by id."""
    check_page_size(limit, "limit")
    require_video(store, video_id)
    return store.children(video_id, by, limit)


def variant_groups(store: LineageStore, video_id: str, limit: int = 10) -> list[VariantGroup]:
    """The video's direct remixes grouped by variant key, by reach then key."""
    check_page_size(limit, "limit")
    require_video(store, video_id)
    groups = []
    for row, top in store.variant_groups_with_tops(video_id, limit):
        if top is None:  # the group and its remixes are written together
            raise RuntimeError(f"variant group {row.key!r} of {video_id!r} has no remix")
        groups.append(VariantGroup(row.key, row.remix_count, row.reach, top))
    return groups


def originals(
    store: LineageStore,
    order: VideoOrder = VideoOrder.DERIVATIVES,
    first: int = 20,
    after: tuple[int, str] | None = None,
) -> list[VideoRecord]:
    """Originals ranked by ``order``, highest first, ties by id; keyset-paged by ``after``."""
    check_page_size(first)
    return store.children(None, order, first, after)


def descendants(
    store: LineageStore, video_id: str, page_size: int = 1000
) -> Iterator[list[VideoRecord]]:
    """All derivatives of a video, breadth first (by generation, then id), in pages.

    Notes
    -----
    One query per generation for ids and one per page for the videos; memory
    holds the ids of one generation.
    """
    if page_size < 1:
        raise InvalidInput(f"page_size must be positive, got {page_size}")
    require_video(store, video_id)
    level = [video_id]
    while level:
        level = sorted(store.children_ids(level))
        for start in range(0, len(level), page_size):
            chunk = level[start : start + page_size]
            found = store.get_videos(chunk)
            yield [found[child] for child in chunk]


@dataclass(slots=True)
class LineageStats:
    """Everything ``lineage stats`` reports on one video."""

    video: VideoRecord
    generation_counts: list[GenerationCount]
    top_variants: list[VideoRecord]
    variant_groups: list[VariantGroup] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The contract's ``lineage stats --json`` object."""
        video = self.video
        return {
            "id": video.id,
            "generation": video.generation,
            "original_id": video.original_id,
            "derivative_count": video.derivative_count,
            "direct_remix_count": video.direct_remix_count,
            "tree_depth": video.tree_depth,
            "generation_counts": [
                {"generation": item.generation, "count": item.count}
                for item in self.generation_counts
            ],
            "top_variants": [
                {
                    "id": remix.id,
                    "derivative_count": remix.derivative_count,
                    "variant_key": remix.prompt_diff.variant_key if remix.prompt_diff else None,
                }
                for remix in self.top_variants
            ],
            "variant_groups": [
                {"key": group.key, "remix_count": group.remix_count, "reach": group.reach}
                for group in self.variant_groups
            ],
            # Beyond the contract's keys: handy for people reading the output.
            "title": video.title,
            "created_at": format_timestamp(video.created_at),
        }


def lineage_stats(store: LineageStore, video_id: str, limit: int = 10) -> LineageStats:
    """Gather a video's lineage statistics (the ``lineage stats`` command)."""
    video = require_video(store, video_id)
    return LineageStats(
        video=video,
        generation_counts=store.generation_counts(video_id),
        top_variants=top_variants(store, video_id, VideoOrder.DERIVATIVES, limit),
        variant_groups=variant_groups(store, video_id, limit),
    )
