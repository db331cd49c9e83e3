"""The CSV export: files that ``neo4j-admin database import full`` reads directly.

A lineage becomes four files beside the name given (:func:`csv_paths`):
videos (nodes), remixes (``REMIX_OF`` relationships), variant groups and
remixes per hour, with headers (:data:`CSV_HEADERS`) that use the Neo4j
store's property names and types (see the README). :func:`iter_csv_rows`
streams the rows page by page (the API serves one part at a time);
:func:`write_csv` writes the files.
"""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from lineage.access.tokens import Role
from lineage.export.walk import iter_lineage, lineage_size, pages
from lineage.models import VideoRecord, epoch_micros
from lineage.over_time.engagement import ORIGINAL_PARENT_KEY
from lineage.progress import progress_bar
from lineage.rights.policy import DEFAULT_RIGHTS, VideoRights
from lineage.rights.visibility import FULL, mask_rights, mask_video, visibility
from lineage.store import LineageStore

__all__ = [
    "CSV_GROUP_HEADER",
    "CSV_HEADERS",
    "CSV_HOUR_HEADER",
    "CSV_REMIX_HEADER",
    "CSV_VIDEO_HEADER",
    "csv_paths",
    "csv_remix_row",
    "csv_video_row",
    "generation_count_list",
    "iter_csv_rows",
    "write_csv",
]

CSV_VIDEO_HEADER = [
    "id:ID",
    "prompt",
    "parent_id",
    "title",
    "creator",
    "created_us:long",
    "likes:long",
    "views:long",
    "generation:long",
    "original_id",
    "derivative_count:long",
    "direct_remix_count:long",
    "tree_depth:long",
    "generation_counts:long[]",
    "generation_views:long[]",
    "status",
    "removed_reason",
    "removed_us:long",
    "removed_by",
    "removed_derivative_count:long",
    "c2pa_manifest",
    "subtree_likes:long",
    "subtree_views:long",
    ":LABEL",
]
CSV_REMIX_HEADER = [
    ":START_ID",
    ":END_ID",
    "summary",
    "variant_key",
    "similarity:double",
    "ops",
    ":TYPE",
]
CSV_GROUP_HEADER = ["parent_id", "key", "remix_count:long", "reach:long", ":LABEL"]
# Remixes per UTC hour (an original's parent_key: ORIGINAL_PARENT_KEY).
CSV_HOUR_HEADER = ["video_id", "hour:long", "parent_key", "count:long", ":LABEL"]
# The header of each file, by part (the file name's infix: csv_paths).
CSV_HEADERS = {
    "videos": CSV_VIDEO_HEADER,
    "remixes": CSV_REMIX_HEADER,
    "variant_groups": CSV_GROUP_HEADER,
    "remix_hours": CSV_HOUR_HEADER,
}


def csv_paths(base: Path) -> dict[str, Path]:
    """The files a CSV export writes beside ``base`` (``x.csv`` -> ``x.videos.csv``, ...)."""
    stem = base.name[: -len(".csv")] if base.name.endswith(".csv") else base.name
    return {
        part: base.with_name(f"{stem}.{part}.csv")
        for part in ("videos", "remixes", "variant_groups", "remix_hours")
    }


def csv_video_row(
    video: VideoRecord,
    generation_counts: list[int],
    generation_views: Sequence[int] = (),
    rights: VideoRights | None = None,
) -> list[object]:
    rights = rights or DEFAULT_RIGHTS
    return [
        video.id,
        video.prompt,
        video.parent_id or "",
        video.title or "",
        video.creator or "",
        "" if video.created_at is None else epoch_micros(video.created_at),
        video.likes,
        video.views,
        video.generation,
        video.original_id,
        video.derivative_count,
        video.direct_remix_count,
        video.tree_depth,
        ";".join(str(count) for count in generation_counts),
        ";".join(str(views) for views in generation_views),
        rights.status,
        rights.removed_reason or "",
        "" if rights.removed_at is None else epoch_micros(rights.removed_at),
        rights.removed_by or "",
        rights.removed_derivative_count,
        rights.c2pa_manifest or "",
        video.subtree_likes,
        video.subtree_views,
        "Video" if video.parent_id else "Video;Original",
    ]


def csv_remix_row(video: VideoRecord) -> list[object]:
    diff = video.prompt_diff
    assert diff is not None
    assert video.parent_id is not None
    ops = [[op.op, op.before, op.after] for op in diff.ops]
    return [
        video.id,
        video.parent_id,
        diff.summary,
        diff.variant_key,
        diff.similarity,
        json.dumps(ops, ensure_ascii=False),
        "REMIX_OF",
    ]


def generation_count_list(store: LineageStore, video: VideoRecord) -> list[int]:
    if not video.derivative_count:
        return []
    counts = store.generation_counts(video.id)
    values = [0] * video.tree_depth
    for entry in counts:
        values[entry.generation - video.generation - 1] = entry.count
    return values


def iter_csv_rows(
    store: LineageStore,
    video_id: str | None,
    parts: Sequence[str] = tuple(CSV_HEADERS),
    *,
    viewer: Role | None = Role.ADMIN,
) -> Iterator[tuple[str, list[object]]]:
    """(file part, row) of the CSV export, video by video, as a caller of role
    ``viewer`` sees them (:func:`~lineage.rights.visibility.visibility`: below
    ``admin``, a removed video's words and who removed it are blank); only the
    parts asked for are read from the store."""
    admin = visibility(viewer, DEFAULT_RIGHTS) == FULL
    for page in pages(iter_lineage(store, video_id)):
        rights: dict[str, VideoRights] = {}
        views: dict[str, list[tuple[int, int]]] = {}
        if "videos" in parts or (not admin and "remixes" in parts):
            rights = store.video_rights([video.id for video in page])
        if "videos" in parts:
            views = store.generation_views_many([v.id for v in page if v.derivative_count])
        for video in page:
            own = rights.get(video.id, DEFAULT_RIGHTS)
            seen = visibility(viewer, own)
            rights[video.id] = mask_rights(own, seen)
            yield from _csv_rows_of(store, mask_video(video, seen), parts, rights, views)


def _csv_rows_of(
    store: LineageStore,
    video: VideoRecord,
    parts: Sequence[str],
    rights: dict[str, VideoRights],
    views: dict[str, list[tuple[int, int]]],
) -> Iterator[tuple[str, list[object]]]:
    if "videos" in parts:
        view_list = [0] * video.tree_depth
        for level, total in views.get(video.id, ()):
            view_list[level - video.generation - 1] = total
        yield (
            "videos",
            csv_video_row(
                video, generation_count_list(store, video), view_list, rights.get(video.id)
            ),
        )
    if "remixes" in parts and video.parent_id is not None:
        yield "remixes", csv_remix_row(video)
    if "variant_groups" in parts and video.direct_remix_count:
        for group in store.variant_groups(video.id, video.direct_remix_count):
            yield (
                "variant_groups",
                [video.id, group.key, group.remix_count, group.reach, "VariantGroup"],
            )
    if "remix_hours" in parts and video.derivative_count:
        parent_key = video.parent_id or ORIGINAL_PARENT_KEY
        for hour, count in store.remix_hours(video.id):
            yield "remix_hours", [video.id, hour, parent_key, count, "RemixHour"]


def write_csv(
    store: LineageStore, video_id: str | None, base: Path, *, progress: bool = False
) -> dict[str, Path]:
    """Write the lineage as neo4j-admin import CSV files; returns their paths."""
    paths = csv_paths(base)
    with contextlib.ExitStack() as stack:
        writers = {}
        for part, path in paths.items():
            stream = stack.enter_context(path.open("w", encoding="utf-8", newline=""))
            writers[part] = csv.writer(stream)
            writers[part].writerow(CSV_HEADERS[part])
        bar = stack.enter_context(
            progress_bar(lineage_size(store, video_id), "exporting", enabled=progress)
        )
        for part, row in iter_csv_rows(store, video_id):
            writers[part].writerow(row)
            if part == "videos":  # one per video
                bar.update(1)
    return paths
