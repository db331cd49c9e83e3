"""The import plan: everything a backend writes for one import, aggregates included.

:class:`ImportPlan` holds the new videos as compact :data:`VideoFields`
tuples indexed by position, parents first in ``order``, with their
aggregates, and the increments the new subtrees and the updated counters
add to stored videos (:class:`ExistingVideoDelta`). Its row iterators yield
what a backend writes, in the order it must write them; the stages of
:mod:`lineage.importing.planner` fill it in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from lineage.diff import diff_fields
from lineage.models import epoch_micros
from lineage.rights.plan import RightsPlan
from lineage.store import PathNode

__all__ = [
    "EXTERNAL",
    "NEW_VIDEO_COLUMNS",
    "ROOT",
    "ExistingVideoDelta",
    "ImportPlan",
    "NewVideoRow",
    "VideoFields",
]

# (id, parent_id, prompt, title, creator, created_at, likes, views)
VideoFields = tuple[str, str | None, str, str | None, str | None, datetime | None, int, int]

# The columns of a new video row, in the order ImportPlan.video_rows yields them.
NEW_VIDEO_COLUMNS = (
    "id",
    "parent_id",
    "prompt",
    "title",
    "creator",
    "created_us",  # microseconds since the epoch (models.epoch_micros), as both stores keep it
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
    "diff_ops",
    "subtree_likes",
    "subtree_views",
)
NewVideoRow = tuple[
    str,
    str | None,
    str,
    str | None,
    str | None,
    int | None,
    int,
    int,
    int,
    str,
    int,
    int,
    int,
    str | None,
    str | None,
    float | None,
    str | None,
    int,
    int,
]

ROOT = -1  # in ImportPlan.parent_index: an original
EXTERNAL = -2  # in ImportPlan.parent_index: the parent is already stored


@dataclass(slots=True)
class ExistingVideoDelta:
    """What one import adds to a stored video: counts, depth, engagement, hours."""

    derivative_count: int = 0
    direct_remix_count: int = 0
    tree_depth_floor: int = 0
    generation_counts: dict[int, int] = field(default_factory=dict)
    # Increments of its own likes/views and of its subtree totals.
    likes: int = 0
    views: int = 0
    subtree_likes: int = 0
    subtree_views: int = 0
    # Remixes per UTC hour below it: {hour: increment}; its parent's id ('' for an original).
    hours: dict[int, int] = field(default_factory=dict)
    parent_key: str = ""

    @property
    def lineage_changed(self) -> bool:
        """Whether the counts, depth or per-generation counts change (not only engagement)."""
        return bool(
            self.derivative_count
            or self.direct_remix_count
            or self.tree_depth_floor
            or self.generation_counts
        )


@dataclass(slots=True)
class ImportPlan:
    """Everything a backend writes for one import, aggregates included.

    New videos are kept as compact tuples and indexed by position; ``order``
    lists them parents first, which is the order they must be written in.
    """

    fields: list[VideoFields] = field(default_factory=list)
    parent_index: list[int] = field(default_factory=list)
    order: list[int] = field(default_factory=list)
    generation: list[int] = field(default_factory=list)
    original_id: list[str] = field(default_factory=list)
    derivative_count: list[int] = field(default_factory=list)
    direct_remix_count: list[int] = field(default_factory=list)
    tree_depth: list[int] = field(default_factory=list)
    # Only videos with derivatives have an entry: {generation: count}.
    generation_counts: dict[int, dict[int, int]] = field(default_factory=dict)
    # The same videos' derivatives' views: {generation: views} (lineage.rights.plan).
    generation_views: dict[int, dict[int, int]] = field(default_factory=dict)
    # Stored parents that receive new remixes: id -> prompt.
    external_prompts: dict[str, str] = field(default_factory=dict)
    existing: dict[str, ExistingVideoDelta] = field(default_factory=dict)
    # (parent id, variant key) -> [remix count, reach] increments.
    variant_groups: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    metadata_updates: dict[str, VideoFields] = field(default_factory=dict)
    # Takedown state, removed-derivative counts and per-generation views (lineage.rights.plan).
    rights: RightsPlan = field(default_factory=RightsPlan)
    # New videos' own plus derivatives' likes and views, by position.
    subtree_likes: list[int] = field(default_factory=list)
    subtree_views: list[int] = field(default_factory=list)
    # New videos with timed derivatives: position -> {UTC hour: remixes}.
    hour_counts: dict[int, dict[int, int]] = field(default_factory=dict)
    # Stored videos named by the input: id -> (likes, views, created_at) as stored.
    stored_counters: dict[str, tuple[int, int, datetime | None]] = field(default_factory=dict)
    # Stored parents of new remixes: id -> its lineage path (lineage.tree.descendants reads it).
    ancestor_paths: dict[str, list[PathNode]] = field(default_factory=dict)

    @property
    def new_video_count(self) -> int:
        return len(self.order)

    @property
    def is_empty(self) -> bool:
        return not self.order and not self.metadata_updates

    def video_rows(self, batch_size: int = 5000) -> Iterator[list[NewVideoRow]]:
        """Yield the new videos' rows, parents first, with their prompt diffs.

        Diffs are computed here, batch by batch, so they are never all held
        in memory; the variant-group increments of the new remixes are
        collected on the way, so write :meth:`variant_group_rows` after this
        generator is exhausted.
        """
        fields, parent_index = self.fields, self.parent_index
        groups = self.variant_groups
        batch: list[NewVideoRow] = []
        for index in self.order:
            video_id, parent_id, prompt, title, creator, created_at, likes, views = fields[index]
            parent = parent_index[index]
            summary = key = ops = None
            similarity = None
            if parent_id is not None:
                parent_prompt = (
                    fields[parent][2] if parent >= 0 else self.external_prompts[parent_id]
                )
                summary, key, similarity, diff_ops = diff_fields(parent_prompt, prompt)
                ops = orjson.dumps(diff_ops).decode()
                group = groups.get((parent_id, key))
                if group is None:
                    groups[(parent_id, key)] = [1, 1 + self.derivative_count[index]]
                else:
                    group[0] += 1
                    group[1] += 1 + self.derivative_count[index]
            batch.append(
                (
                    video_id,
                    parent_id,
                    prompt,
                    title,
                    creator,
                    None if created_at is None else epoch_micros(created_at),
                    likes,
                    views,
                    self.generation[index],
                    self.original_id[index],
                    self.derivative_count[index],
                    self.direct_remix_count[index],
                    self.tree_depth[index],
                    summary,
                    key,
                    similarity,
                    ops,
                    self.subtree_likes[index],
                    self.subtree_views[index],
                )
            )
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def generation_count_rows(self) -> Iterator[tuple[str, int, int]]:
        """(video id, generation, increment) for new and stored videos alike."""
        fields = self.fields
        for index, counts in self.generation_counts.items():
            video_id = fields[index][0]
            for generation, count in counts.items():
                yield video_id, generation, count
        for video_id, delta in self.existing.items():
            for generation, count in delta.generation_counts.items():
                yield video_id, generation, count

    def existing_video_deltas(self) -> Iterator[tuple[int, int, int, str]]:
        """(derivative increment, direct remix increment, tree depth floor, id)."""
        for video_id, delta in self.existing.items():
            if not delta.lineage_changed:
                continue
            yield (
                delta.derivative_count,
                delta.direct_remix_count,
                delta.tree_depth_floor,
                video_id,
            )

    def engagement_rows(self) -> Iterator[tuple[int, int, int, int, str]]:
        """Stored videos' (likes, views, subtree likes, subtree views) increments, and id."""
        for video_id, delta in self.existing.items():
            if delta.likes or delta.views or delta.subtree_likes or delta.subtree_views:
                yield delta.likes, delta.views, delta.subtree_likes, delta.subtree_views, video_id

    def new_hour_rows(self) -> Iterator[tuple[str, int, str, int]]:
        """(video id, UTC hour, parent id or '', remix count) of new videos only."""
        fields = self.fields
        for index, hours in self.hour_counts.items():
            video_id, parent_id = fields[index][0], fields[index][1] or ""
            for hour, count in hours.items():
                yield video_id, hour, parent_id, count

    def hour_rows(self) -> Iterator[tuple[str, int, str, int]]:
        """(video id, UTC hour, parent id or '', remix count increment), new and stored."""
        yield from self.new_hour_rows()
        for video_id, delta in self.existing.items():
            for hour, count in delta.hours.items():
                if count:
                    yield video_id, hour, delta.parent_key, count

    def variant_group_rows(self) -> Iterator[tuple[str, str, int, int]]:
        """(parent id, variant key, remix count increment, reach increment)."""
        for (parent_id, key), (remix_count, reach) in self.variant_groups.items():
            yield parent_id, key, remix_count, reach
