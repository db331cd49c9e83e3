"""Reading a lineage for export: its videos, parents first, page by page.

A lineage is the subtree under a video (the video included) or, without an
id, the whole store. :func:`iter_lineage` reads it in keyset pages on keys
that never change (a subtree by generation then id, the store by write
order), so memory stays O(page size) and an export taken while others
remix into the lineage still holds every video that was there when it
started; :func:`lineage_size` counts it for progress bars, and
:func:`pages` groups any stream of videos or rows into store-sized pages
(one rights lookup each).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from lineage.models import VideoRecord
from lineage.store import LineageStore
from lineage.tree.queries import require_video

__all__ = ["PAGE_SIZE", "iter_lineage", "lineage_size", "pages"]

PAGE_SIZE = 2000
T = TypeVar("T")


def iter_lineage(
    store: LineageStore, video_id: str | None = None, *, page_size: int = PAGE_SIZE
) -> Iterator[VideoRecord]:
    """The videos of a lineage, parents first, read page by page.

    Parameters
    ----------
    store : LineageStore
    video_id : str, optional
        The subtree's top (included); the whole store when None.
    page_size : int
        Videos per store read.

    Raises
    ------
    VideoNotFound
        If ``video_id`` is not stored.

    Notes
    -----
    A subtree is read breadth first, by generation then id (the descendant
    pages of :mod:`lineage.tree.descendants`), parents before their remixes;
    the whole store by write order, parents first too. Both keys never
    change, so a video stored when the walk started is yielded exactly once
    however many remixes land meanwhile (a ranking such as the derivative
    count would move it behind the cursor). One index range read per page;
    memory O(page_size).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from lineage.importing.records import SourcedRecord
    >>> from lineage.stores.sqlite import SQLiteStore
    >>> store = SQLiteStore(pathlib.Path(tempfile.mkdtemp()) / "doc.db")
    >>> _ = store.import_videos([SourcedRecord({"id": "a", "prompt": "a cat"}),
    ...                         SourcedRecord({"id": "b", "prompt": "a dog", "parent_id": "a"})])
    >>> [video.id for video in iter_lineage(store, "a")]
    ['a', 'b']
    """
    if video_id is None:
        yield from store.iter_videos(page_size)
        return
    top = require_video(store, video_id)
    yield top
    if not top.derivative_count:
        return
    after: tuple[int, str] | None = None
    while True:
        page = store.descendant_page(top.id, top.parent_id is None, page_size, after)
        yield from page
        if len(page) < page_size:
            return
        last = page[-1]
        after = (last.generation, last.id)


def lineage_size(store: LineageStore, video_id: str | None) -> int:
    """How many videos :func:`iter_lineage` yields (for progress bars)."""
    if video_id is None:
        return store.count_videos()
    return require_video(store, video_id).derivative_count + 1


def pages(items: Iterator[T]) -> Iterator[list[T]]:
    """``items`` in lists of :data:`PAGE_SIZE` (the last one shorter)."""
    page: list[T] = []
    for item in items:
        page.append(item)
        if len(page) == PAGE_SIZE:
            yield page
            page = []
    if page:
        yield page
