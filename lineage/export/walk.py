"""Reading a lineage for export: its videos, parents first, page by page.

A lineage is the subtree under a video (the video included) or, without an
id, the whole store. :func:`iter_lineage` walks it with one keyset page of
remixes per parent on a stack, so memory stays O(depth x page size);
:func:`lineage_size` counts it for progress bars, and :func:`pages` groups
any stream of videos or rows into store-sized pages (one rights lookup each).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from lineage.models import VideoRecord
from lineage.store import LineageStore, VideoOrder
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
    A subtree is walked depth first with one keyset page of remixes per
    parent on a stack: memory is O(depth x page_size), whatever the size of
    the lineage; the whole store is one paged scan.

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
    # Each stack entry: a parent whose remixes are still being listed, and the
    # keyset position after the last one already handed out.
    stack: list[tuple[str, tuple[int, str] | None]] = []
    if top.direct_remix_count:
        stack.append((top.id, None))
    while stack:
        parent_id, after = stack.pop()
        page = store.children(parent_id, VideoOrder.DERIVATIVES, page_size, after)
        if len(page) == page_size:
            last = page[-1]
            stack.append((parent_id, (last.derivative_count, last.id)))
        # Parents first: every remix of this page is yielded before any of
        # their own remixes, which go on the stack after the page.
        for video in page:
            yield video
        for video in reversed(page):
            if video.direct_remix_count:
                stack.append((video.id, None))


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
