"""Engagement that flows up: likes and views deltas and the subtree totals they change.

Every video keeps ``subtree_likes`` and ``subtree_views``: its own likes and
views plus those of all its derivatives. A batch of engagement events (deltas,
positive or negative) changes the event videos' own counters and the subtree
totals of every ancestor. :func:`plan_engagement` works the batch out once
for each *distinct* video and ancestor the batch touches: it climbs the tree
one level at a time, reading only parents not seen yet, then sums the deltas
bottom-up, so a batch costs O(distinct ancestors), not O(events x depth).

The planner is backend-independent: a store hands it a function that reads
the (parent id, generation, likes, views) of some ids inside its write
transaction, and writes the increments it returns in that transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

import orjson

from lineage.errors import InvalidInput, VideoNotFound
from lineage.models import from_epoch_micros, hour_of
from lineage.text import json_error

__all__ = [
    "MAX_EVENTS_PER_CALL",
    "ORIGINAL_PARENT_KEY",
    "EngagementEvent",
    "EngagementNode",
    "EngagementRow",
    "iter_engagement_jsonl",
    "plan_engagement",
    "plan_engagement_with_views",
    "recompute_time_aggregates",
]

# The parent_key of an original's remix-hour buckets in Neo4j and in the CSV
# export: never an id, and not an empty string (which neo4j-admin is told to skip).
ORIGINAL_PARENT_KEY = "/"

# recordEngagement takes at most this many events a call; the CLI sends batches of it.
MAX_EVENTS_PER_CALL = 1000


@dataclass(frozen=True, slots=True)
class EngagementEvent:
    """A change of one video's likes and views (deltas, positive or negative)."""

    video_id: str
    likes: int = 0
    views: int = 0


@dataclass(frozen=True, slots=True)
class EngagementNode:
    """What the planner reads of a stored video."""

    parent_id: str | None
    generation: int
    likes: int
    views: int


# (own likes increment, own views increment, subtree likes increment,
#  subtree views increment, video id)
EngagementRow = tuple[int, int, int, int, str]

ReadNodes = Callable[[Sequence[str]], Mapping[str, EngagementNode]]


def plan_engagement(
    events: Iterable[EngagementEvent], read_nodes: ReadNodes
) -> list[EngagementRow]:
    """The increments of a batch (see :func:`plan_engagement_with_views`)."""
    return plan_engagement_with_views(events, read_nodes)[0]


def plan_engagement_with_views(
    events: Iterable[EngagementEvent], read_nodes: ReadNodes
) -> tuple[list[EngagementRow], dict[str, dict[int, int]]]:
    """The increments a batch of events makes, for every video and ancestor it touches.

    Parameters
    ----------
    events : iterable of EngagementEvent
        Deltas; several events of one video add up.
    read_nodes : callable
        Reads stored videos by id (unknown ids are simply absent), inside
        the write transaction that will apply the rows.

    Returns
    -------
    list of EngagementRow
        One row per video whose own counters or subtree totals change.
    dict
        Ancestor id -> {generation: views increment}: the per-generation view
        totals below each ancestor (lineage.rights.plan) that the batch changes.

    Raises
    ------
    VideoNotFound
        An event names a video that is not stored.
    InvalidInput
        The batch would take a video's likes or views below zero; the
        message names the video. Nothing is written then.

    Notes
    -----
    O(a) reads and time for the a distinct videos and ancestors of the
    batch, in as many read rounds as the deepest event video's generation.
    """
    own: dict[str, list[int]] = {}
    for event in events:
        totals = own.setdefault(event.video_id, [0, 0])
        totals[0] += event.likes
        totals[1] += event.views
    if not own:
        return [], {}
    nodes: dict[str, EngagementNode] = dict(read_nodes(list(own)))
    for video_id, (likes, views) in own.items():
        node = nodes.get(video_id)
        if node is None:
            raise VideoNotFound(video_id)
        for name, stored, delta in (("likes", node.likes, likes), ("views", node.views, views)):
            if stored + delta < 0:
                raise InvalidInput(
                    f"video {video_id!r} would have {stored + delta} {name} "
                    f"({stored} stored, {delta:+d} recorded); totals cannot go below 0",
                    video_id=video_id,
                )
    frontier = {node.parent_id for node in nodes.values() if node.parent_id is not None}
    frontier -= nodes.keys()
    while frontier:
        found = read_nodes(sorted(frontier))
        nodes.update(found)
        frontier = {
            node.parent_id
            for node in found.values()
            if node.parent_id is not None and node.parent_id not in nodes
        }
    # One bottom-up pass (deepest first): each video hands its subtree sums and
    # its views by generation below it to its parent, once.
    subtree: dict[str, list[int]] = {video_id: list(totals) for video_id, totals in own.items()}
    below: dict[str, dict[int, int]] = {}
    for video_id in sorted(nodes, key=lambda known: -nodes[known].generation):
        node = nodes[video_id]
        parent_id = node.parent_id
        if parent_id is None:
            continue
        sums = subtree.get(video_id)
        if sums is None:
            continue
        parent_sums = subtree.get(parent_id)
        if parent_sums is None:
            subtree[parent_id] = list(sums)
        else:
            parent_sums[0] += sums[0]
            parent_sums[1] += sums[1]
        levels = below.get(parent_id)
        if levels is None:
            levels = below[parent_id] = {}
        views = own[video_id][1] if video_id in own else 0
        if views:
            levels[node.generation] = levels.get(node.generation, 0) + views
        deeper_levels = below.get(video_id)
        if deeper_levels:
            for level, deeper in deeper_levels.items():
                levels[level] = levels.get(level, 0) + deeper
    rows: list[EngagementRow] = []
    for video_id, (likes, views) in subtree.items():
        mine = own.get(video_id, (0, 0))
        if likes or views or mine[0] or mine[1]:
            rows.append((mine[0], mine[1], likes, views, video_id))
    generation_views: dict[str, dict[int, int]] = {}
    for video_id, levels in below.items():
        nonzero = {level: views for level, views in levels.items() if views}
        if nonzero:
            generation_views[video_id] = nonzero
    return rows, generation_views


def _event_of(data: object, where: str) -> EngagementEvent:
    if not isinstance(data, dict):
        raise InvalidInput(f"{where}: an engagement event must be a JSON object")
    video_id = data.get("video_id")
    if not isinstance(video_id, str) or not video_id:
        raise InvalidInput(f"{where}: video_id is required (a string)")
    counters: list[int] = []
    for name in ("likes", "views"):
        value = data.get(name, 0)
        if value is None:
            value = 0
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{where}: {name} must be an integer delta, got {value!r}")
        counters.append(value)
    return EngagementEvent(video_id, counters[0], counters[1])


def iter_engagement_jsonl(stream: IO[bytes], source: str) -> Iterator[EngagementEvent]:
    """Events from JSONL lines ``{"video_id", "likes", "views"}`` (deltas; blank lines skipped).

    Raises
    ------
    InvalidInput
        A line that is not such an object; the message names ``source:line``.
    """
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            data = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            raise InvalidInput(f"{where}: invalid JSON: {json_error(str(error))}") from error
        yield _event_of(data, where)


def recompute_time_aggregates(
    rows_deepest_first: Iterable[tuple[str, str | None, int, int, int | None]],
) -> tuple[dict[str, list[int]], dict[tuple[str, int], int]]:
    """Subtree totals and remix-hour buckets recomputed from the videos alone.

    Parameters
    ----------
    rows_deepest_first : iterable of (id, parent_id, likes, views, created_us)
        Every video of the trees, each after all of its derivatives.

    Returns
    -------
    totals : dict
        ``[subtree_likes, subtree_views]`` by video id.
    hours : dict
        ``(ancestor id, UTC hour) -> derivatives created in that hour``.

    Examples
    --------
    >>> totals, hours = recompute_time_aggregates(
    ...     [("b", "a", 1, 10, 3_600_000_000), ("a", None, 2, 20, None)]
    ... )
    >>> totals["a"], hours
    ([3, 30], {('a', 1): 1})

    Notes
    -----
    O(n + sum of the timed remixes' depths) time for n videos.
    """
    rows = list(rows_deepest_first)
    totals = {row[0]: [row[2], row[3]] for row in rows}
    parent_of = {row[0]: row[1] for row in rows}
    hours: dict[tuple[str, int], int] = {}
    for video_id, parent_id, _, _, created_us in rows:
        if parent_id is None or parent_id not in totals:
            continue
        totals[parent_id][0] += totals[video_id][0]
        totals[parent_id][1] += totals[video_id][1]
        if created_us is not None:
            hour = hour_of(from_epoch_micros(created_us))
            ancestor: str | None = parent_id
            while ancestor is not None:
                hours[(ancestor, hour)] = hours.get((ancestor, hour), 0) + 1
                ancestor = parent_of.get(ancestor)
    return totals, hours
