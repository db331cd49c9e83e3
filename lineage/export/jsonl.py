"""The JSONL export: one export record a line, UTF-8, parents first.

Each line is :func:`~lineage.export.records.export_record` of a video
(:func:`jsonl_line`), or the same object built straight from a stored row
(:func:`jsonl_line_from_row`, for the whole store). A JSONL export imports
back in order (and in any other order, as every import does).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import orjson

from lineage.access.tokens import Role
from lineage.export.records import add_rights, export_record
from lineage.export.walk import PAGE_SIZE, iter_lineage, pages
from lineage.models import VideoRecord, format_timestamp, from_epoch_micros
from lineage.rights.policy import DEFAULT_RIGHTS, VideoRights
from lineage.rights.visibility import mask_export_record, visibility
from lineage.store import LineageStore, VideoRow

__all__ = ["iter_jsonl_lines", "jsonl_line", "jsonl_line_from_row"]


def jsonl_line(
    video: VideoRecord, rights: VideoRights | None = None, *, viewer: Role | None = Role.ADMIN
) -> bytes:
    """One JSONL line (with its newline), UTF-8, as a caller of role ``viewer`` sees it
    (:func:`~lineage.rights.visibility.visibility`)."""
    record = export_record(video, rights)
    mask_export_record(record, visibility(viewer, rights or DEFAULT_RIGHTS))
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


@functools.lru_cache(maxsize=1 << 16)
def _timestamp(micros: int) -> str | None:
    return format_timestamp(from_epoch_micros(micros))


def jsonl_line_from_row(
    row: VideoRow, rights: VideoRights | None = None, *, viewer: Role | None = Role.ADMIN
) -> bytes:
    """:func:`jsonl_line` of a stored row, without building model objects."""
    (
        video_id,
        parent_id,
        prompt,
        title,
        creator,
        created_us,
        likes,
        views,
        generation,
        original_id,
        derivative_count,
        direct_remix_count,
        tree_depth,
        summary,
        variant_key,
        similarity,
        ops,
    ) = row
    record: dict[str, Any] = {
        "id": video_id,
        "prompt": prompt,
        "parent_id": parent_id,
        "title": title,
        "creator": creator,
        "created_at": None if created_us is None else _timestamp(created_us),
        "likes": likes,
        "views": views,
        "generation": generation,
        "original_id": original_id,
        "derivative_count": derivative_count,
        "direct_remix_count": direct_remix_count,
        "tree_depth": tree_depth,
    }
    add_rights(record, rights)
    if parent_id is not None:
        record["prompt_diff"] = {
            "summary": summary,
            "variant_key": variant_key,
            "similarity": similarity,
            "ops": [
                {"op": op, "before": before, "after": after}
                for op, before, after in orjson.loads(ops)
            ],
        }
    mask_export_record(record, visibility(viewer, rights or DEFAULT_RIGHTS))
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


def iter_jsonl_lines(
    store: LineageStore, video_id: str | None = None, *, viewer: Role | None = Role.ADMIN
) -> Iterator[bytes]:
    """The JSONL export of a lineage, line by line (the whole store from plain rows),
    as a caller of role ``viewer`` sees it (the command line: ``admin``)."""
    # Rights are sparse: one lookup per page of videos.
    if video_id is None:
        for rows in pages(store.iter_video_rows(PAGE_SIZE)):
            rights = store.video_rights([row[0] for row in rows])
            for row in rows:
                yield jsonl_line_from_row(row, rights.get(row[0]), viewer=viewer)
    else:
        for videos in pages(iter_lineage(store, video_id)):
            rights = store.video_rights([video.id for video in videos])
            for video in videos:
                yield jsonl_line(video, rights.get(video.id), viewer=viewer)
