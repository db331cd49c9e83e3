"""Every derivative of a video, in keyset pages: breadth first, by generation, then id.

A page is one index range read of about ``first`` entries, whatever the
video's fan-out and however deep into its derivatives the page starts:

- an original's derivatives are the videos of its tree below generation 0,
  read through the index ``(original_id, generation, id)`` of the videos;
- any other video's derivatives are read through the **descendant
  closure**: one row ``(ancestor_id, generation, descendant_id)`` for each
  ancestor of a video that is not an original (the original is served by
  the index above, so direct remixes of an original add no rows, and a
  video of generation g adds g - 1 rows).

The closure rows of new videos are planned here (:func:`closure_rows`) and
written by each store in the transaction of the import; ``lineage check``
verifies them (:func:`check_closure`). The cursor key is the
``(generation, id)`` of the last derivative seen, so remixes written while a
client pages are never seen twice and never push one past the client.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import repeat
from typing import TYPE_CHECKING

from lineage.errors import InvalidInput
from lineage.models import VideoRecord
from lineage.tree.queries import check_page_size, require_video

if TYPE_CHECKING:
    from lineage.importing.plan import ImportPlan
    from lineage.store import LineageRow, LineageStore
    from lineage.tree.check import Mismatch

__all__ = [
    "check_closure",
    "check_generation",
    "closure_rows",
    "descendant_page",
    "descendant_total",
]

_EXTERNAL = -2  # EXTERNAL of lineage.importing.plan: the parent is already stored


def check_generation(generation: int | None) -> None:
    """Refuse a negative ``generation`` filter (generations start at 0)."""
    if generation is not None and generation < 0:
        raise InvalidInput(f"generation must not be negative, got {generation}")


def descendant_total(
    video: VideoRecord, counts: Iterable[tuple[int, int]], generation: int | None
) -> int:
    """How many derivatives the arguments select, from the maintained counts.

    ``counts`` are the video's (generation, count) pairs; without a
    ``generation`` the total is the derivative count.
    """
    if generation is None:
        return video.derivative_count
    return next((count for level, count in counts if level == generation), 0)


def descendant_page(
    store: LineageStore,
    video_id: str,
    first: int = 20,
    after: tuple[int, str] | None = None,
    generation: int | None = None,
) -> list[VideoRecord]:
    """One page of a video's derivatives, by generation then id, strictly after ``after``.

    Parameters
    ----------
    store : LineageStore
        Where the video is stored.
    video_id : str
        The video; :class:`~lineage.errors.VideoNotFound` if it is not stored.
    first : int
        Page size, 0 to 100.
    after : tuple of (int, str), optional
        The (generation, id) of the last derivative already seen.
    generation : int, optional
        Only derivatives of this absolute generation (none if it is not greater
        than the video's own); negative is :class:`~lineage.errors.InvalidInput`.
    """
    check_page_size(first)
    check_generation(generation)
    video = require_video(store, video_id)
    if not first or video.derivative_count == 0:
        return []
    if generation is not None and generation <= video.generation:
        return []
    return store.descendant_page(video.id, video.parent_id is None, first, after, generation)


def closure_rows(plan: ImportPlan) -> Iterator[tuple[str, int, str]]:
    """(ancestor id, generation, descendant id) of every new video's non-original ancestors.

    New ancestors come from the plan; the stored ancestors of a new subtree
    from the lineage path of its stored parent, which the planner read.

    Notes
    -----
    O(rows) time: each new parent's chain of non-original ancestors is built
    once (the plan's order puts parents first) and each row is one step of a
    ``zip`` over it. The chains of new parents are held until the last row.
    """
    fields, parent_index, generation = plan.fields, plan.parent_index, plan.generation
    paths = plan.ancestor_paths
    parents = set(parent_index)
    # A new parent's id and the ids of its non-original ancestors, top down.
    chains: dict[int, tuple[str, ...]] = {}
    stored_chains: dict[str, tuple[str, ...]] = {}
    for position in plan.order:
        level = generation[position]
        if level < 1:
            continue
        video_id = fields[position][0]
        parent = parent_index[position]
        if level == 1:
            above: tuple[str, ...] = ()
        elif parent >= 0:
            above = chains[parent]
        else:
            parent_id = fields[position][1]
            assert parent_id is not None  # a stored parent (_EXTERNAL)
            stored = stored_chains.get(parent_id)
            if stored is None:
                stored = tuple(node.id for node in paths[parent_id] if node.generation >= 1)
                stored_chains[parent_id] = stored
            above = stored
        if level >= 2:
            yield from zip(above, repeat(level), repeat(video_id))
        if position in parents:
            chains[position] = (*above, video_id)


def _is_closure_row(
    index: int, ancestor: int, level: int, parent: Sequence[int], generation: Sequence[int]
) -> bool:
    """Whether ``ancestor`` is a non-original ancestor of ``index``, of generation ``level``."""
    if level != generation[index] or generation[ancestor] < 1:
        return False
    up, steps = index, generation[index] - generation[ancestor]
    while steps > 0 and up >= 0:
        up, steps = parent[up], steps - 1
    return steps == 0 and up == ancestor


def check_closure(
    store: LineageStore,
    rows: Sequence[LineageRow],
    parent: Sequence[int],
    generation: Sequence[int],
) -> list[Mismatch]:
    """Mismatches between the stored descendant closure and the videos' ancestors.

    Every stored row must name a non-original ancestor of its descendant and
    the descendant's generation; each video of generation g must have g - 1
    rows, one per ancestor generation 1..g-1 (so none is missing or twice).

    Notes
    -----
    O(r x depth) time for r rows, O(n) memory.
    """
    from lineage.tree.check import Mismatch

    position = {row.id: index for index, row in enumerate(rows)}
    seen: dict[int, list[int]] = {}  # descendant -> [rows, bit mask of ancestor generations]
    mismatches: list[Mismatch] = []
    for ancestor_id, level, descendant_id in store.iter_closure_rows():
        index = position.get(descendant_id)
        ancestor = position.get(ancestor_id)
        if (
            index is None
            or ancestor is None
            or not _is_closure_row(index, ancestor, level, parent, generation)
        ):
            mismatches.append(
                Mismatch(
                    ancestor_id,
                    f"descendant_closure[{descendant_id!r}]",
                    (ancestor_id, level, descendant_id),
                    "no such row",
                )
            )
            continue
        entry = seen.setdefault(index, [0, 0])
        entry[0] += 1
        entry[1] |= 1 << generation[ancestor]
    for index, row in enumerate(rows):
        expected_rows = max(0, generation[index] - 1)
        count, mask = seen.get(index, (0, 0))
        if count != expected_rows or (mask != (1 << generation[index]) - 2 and expected_rows):
            mismatches.append(
                Mismatch(
                    row.id,
                    "descendant_closure (rows naming it)",
                    count,
                    expected_rows,
                )
            )
    return mismatches
