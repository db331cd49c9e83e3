"""Export lineages: JSONL and CSV streamed page by page, GraphML and GEXF via networkx.

A lineage is the subtree under a video (the video included) or, without an
id, the whole store. Videos come parents first, so a JSONL export imports
back in order (and in any other order, as every import does).

JSONL lines carry the contract's fields plus the computed ones
(``generation``, ``original_id``, ``derivative_count``,
``direct_remix_count``, ``tree_depth`` and, for remixes, ``prompt_diff``).
CSV writes files whose headers ``neo4j-admin database import full`` reads
directly (see the README), with the same property names as the Neo4j store.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any, Literal, TypeVar

import networkx as nx
import orjson

from lineage.models import VideoRecord, epoch_micros, format_timestamp, from_epoch_micros
from lineage.over_time.engagement import ORIGINAL_PARENT_KEY
from lineage.progress import progress_bar
from lineage.rights.policy import DEFAULT_RIGHTS, REMOVED, VideoRights
from lineage.store import LineageStore, VideoOrder, VideoRow
from lineage.tree.queries import require_video

__all__ = [
    "CSV_GROUP_HEADER",
    "CSV_HEADERS",
    "CSV_HOUR_HEADER",
    "CSV_REMIX_HEADER",
    "CSV_VIDEO_HEADER",
    "EXPORT_FORMATS",
    "csv_paths",
    "csv_remix_row",
    "csv_video_row",
    "export_lineage",
    "generation_count_list",
    "iter_csv_rows",
    "iter_jsonl_lines",
    "iter_lineage",
    "jsonl_line",
    "jsonl_line_from_row",
    "lineage_size",
    "to_networkx",
]

ExportFormat = Literal["jsonl", "csv", "graphml", "gexf"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("jsonl", "csv", "graphml", "gexf")
PAGE_SIZE = 2000
T = TypeVar("T")

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


# -- reading a lineage in pages ---------------------------------------------------------
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


# -- JSONL ----------------------------------------------------------------------------------
def _add_rights(record: dict[str, Any], rights: VideoRights | None) -> None:
    """The rights fields: ``status``, ``removed_reason``, ``removed_at``, ``c2pa_manifest``."""
    rights = rights or DEFAULT_RIGHTS
    record["status"] = rights.status
    record["removed_reason"] = rights.removed_reason
    record["removed_at"] = format_timestamp(rights.removed_at)
    record["c2pa_manifest"] = rights.c2pa_manifest


def hide_removed_text(record: dict[str, Any]) -> None:
    """Blank what a removed video says (for callers below ``admin``).

    The prompt reads as an empty string, ``title`` and ``creator`` as null, and
    its prompt diff keeps its variant key and similarity but loses the words
    (summary and ops). The lineage fields stay: the tree is whole.
    """
    record["prompt"] = ""
    record["title"] = None
    record["creator"] = None
    diff = record.get("prompt_diff")
    if diff is not None:
        diff["summary"] = ""
        diff["ops"] = []


def export_record(video: VideoRecord, rights: VideoRights | None = None) -> dict[str, Any]:
    """A video as the contract's export object (``rights``: its rights state, if any)."""
    record: dict[str, Any] = {
        "id": video.id,
        "prompt": video.prompt,
        "parent_id": video.parent_id,
        "title": video.title,
        "creator": video.creator,
        "created_at": format_timestamp(video.created_at),
        "likes": video.likes,
        "views": video.views,
        "generation": video.generation,
        "original_id": video.original_id,
        "derivative_count": video.derivative_count,
        "direct_remix_count": video.direct_remix_count,
        "tree_depth": video.tree_depth,
    }
    _add_rights(record, rights)
    diff = video.prompt_diff
    if diff is not None:
        record["prompt_diff"] = {
            "summary": diff.summary,
            "variant_key": diff.variant_key,
            "similarity": diff.similarity,
            "ops": [{"op": op.op, "before": op.before, "after": op.after} for op in diff.ops],
        }
    return record


def jsonl_line(
    video: VideoRecord, rights: VideoRights | None = None, *, hide_removed: bool = False
) -> bytes:
    """One JSONL line (with its newline), UTF-8; ``hide_removed``: see
    :func:`hide_removed_text`."""
    record = export_record(video, rights)
    if hide_removed and record["status"] == REMOVED:
        hide_removed_text(record)
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


@functools.lru_cache(maxsize=1 << 16)
def _timestamp(micros: int) -> str | None:
    return format_timestamp(from_epoch_micros(micros))


def jsonl_line_from_row(
    row: VideoRow, rights: VideoRights | None = None, *, hide_removed: bool = False
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
    _add_rights(record, rights)
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
    if hide_removed and record["status"] == REMOVED:
        hide_removed_text(record)
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


def iter_jsonl_lines(
    store: LineageStore, video_id: str | None = None, *, hide_removed: bool = False
) -> Iterator[bytes]:
    """The JSONL export of a lineage, line by line (the whole store from plain rows).

    ``hide_removed``: blank the text of removed videos (:func:`hide_removed_text`),
    as for a caller below ``admin``.
    """
    # Rights are sparse: one lookup per page of videos.
    if video_id is None:
        for rows in _pages(store.iter_video_rows(PAGE_SIZE)):
            rights = store.video_rights([row[0] for row in rows])
            for row in rows:
                yield jsonl_line_from_row(row, rights.get(row[0]), hide_removed=hide_removed)
    else:
        for videos in _pages(iter_lineage(store, video_id)):
            rights = store.video_rights([video.id for video in videos])
            for video in videos:
                yield jsonl_line(video, rights.get(video.id), hide_removed=hide_removed)


def _pages(items: Iterator[T]) -> Iterator[list[T]]:
    page: list[T] = []
    for item in items:
        page.append(item)
        if len(page) == PAGE_SIZE:
            yield page
            page = []
    if page:
        yield page


# -- CSV for neo4j-admin ---------------------------------------------------------------------
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


CSV_HEADERS = {
    "videos": CSV_VIDEO_HEADER,
    "remixes": CSV_REMIX_HEADER,
    "variant_groups": CSV_GROUP_HEADER,
    "remix_hours": CSV_HOUR_HEADER,
}


def iter_csv_rows(
    store: LineageStore,
    video_id: str | None,
    parts: Sequence[str] = tuple(CSV_HEADERS),
    *,
    hide_removed: bool = False,
) -> Iterator[tuple[str, list[object]]]:
    """(file part, row) of the CSV export, video by video; only the parts asked for
    are read from the store. ``hide_removed``: blank the text of removed videos
    (prompt, title, creator; the summary and ops of their prompt diffs)."""
    for page in _pages(iter_lineage(store, video_id)):
        rights: dict[str, VideoRights] = {}
        views: dict[str, list[tuple[int, int]]] = {}
        if "videos" in parts or (hide_removed and "remixes" in parts):
            rights = store.video_rights([video.id for video in page])
        if "videos" in parts:
            views = store.generation_views_many([v.id for v in page if v.derivative_count])
        for video in page:
            rows = _csv_rows_of(store, video, parts, rights, views)
            if hide_removed and rights.get(video.id, DEFAULT_RIGHTS).status == REMOVED:
                rows = (_hide_removed_row(part, row) for part, row in rows)
            yield from rows


def _hide_removed_row(part: str, row: list[object]) -> tuple[str, list[object]]:
    if part == "videos":  # prompt, title, creator (see CSV_VIDEO_HEADER)
        row[1], row[3], row[4] = "", "", ""
    elif part == "remixes":  # summary, ops (see CSV_REMIX_HEADER)
        row[2], row[5] = "", "[]"
    return part, row


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


# -- networkx, GraphML, GEXF ----------------------------------------------------------------
def _node_attributes(video: VideoRecord, *, flat: bool) -> dict[str, Any]:
    attributes = export_record(video)
    attributes.pop("id")
    diff = attributes.pop("prompt_diff", None)
    if flat:
        # GraphML and GEXF take scalars only, and no missing values.
        attributes = {key: value for key, value in attributes.items() if value is not None}
        if diff is not None:
            attributes["variant_key"] = diff["variant_key"]
    return attributes


def _edge_attributes(video: VideoRecord, *, flat: bool) -> dict[str, Any]:
    diff = video.prompt_diff
    assert diff is not None
    ops: Any = [{"op": op.op, "before": op.before, "after": op.after} for op in diff.ops]
    if flat:
        ops = json.dumps(ops, ensure_ascii=False)
    return {
        "summary": diff.summary,
        "variant_key": diff.variant_key,
        "similarity": diff.similarity,
        "ops": ops,
    }


def _graph(store: LineageStore, video_id: str | None, *, flat: bool, progress: bool) -> nx.DiGraph:
    graph = nx.DiGraph()
    with progress_bar(lineage_size(store, video_id), "reading", enabled=progress) as bar:
        for video in iter_lineage(store, video_id):
            graph.add_node(video.id, **_node_attributes(video, flat=flat))
            # Parents come first, except above the subtree's top: no edge there.
            if video.parent_id is not None and video.parent_id in graph:
                graph.add_edge(video.id, video.parent_id, **_edge_attributes(video, flat=flat))
            bar.update(1)
    return graph


def to_networkx(store: LineageStore, original_id: str | None = None) -> nx.DiGraph:
    """The lineage as a networkx ``DiGraph``, every attribute included.

    Nodes are video ids with the export fields as attributes (``prompt``,
    ``generation``, ``derivative_count``, ...); each edge goes from a remix to
    its parent and carries the prompt diff (``summary``, ``variant_key``,
    ``similarity``, ``ops``).

    Parameters
    ----------
    store : LineageStore
    original_id : str, optional
        The top of the subtree (any video; usually an original). The whole
        store when None.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from lineage.importing.records import SourcedRecord
    >>> from lineage.stores.sqlite import SQLiteStore
    >>> store = SQLiteStore(pathlib.Path(tempfile.mkdtemp()) / "doc.db")
    >>> _ = store.import_videos([
    ...     SourcedRecord({"id": "a", "prompt": "a crocodile in the yard"}),
    ...     SourcedRecord({"id": "b", "prompt": "a hippo in the yard", "parent_id": "a"})])
    >>> graph = to_networkx(store, "a")
    >>> graph.nodes["a"]["derivative_count"], graph.edges["b", "a"]["variant_key"]
    (1, 'crocodile→hippo')

    Notes
    -----
    O(n) time and memory for a lineage of n videos.
    """
    return _graph(store, original_id, flat=False, progress=False)


def write_networkx(
    store: LineageStore,
    video_id: str | None,
    stream: IO[bytes],
    file_format: Literal["graphml", "gexf"],
    *,
    progress: bool = False,
) -> None:
    graph = _graph(store, video_id, flat=True, progress=progress)
    if file_format == "graphml":
        nx.write_graphml(graph, stream, encoding="utf-8")
    else:
        nx.write_gexf(graph, stream, encoding="utf-8")


# -- one entry point ------------------------------------------------------------------------
def export_lineage(
    store: LineageStore,
    video_id: str | None,
    file_format: ExportFormat,
    output: Path | None,
    *,
    binary_stream: IO[bytes] | None = None,
    progress: bool = False,
) -> list[Path]:
    """Export a lineage to ``output`` (or the given stream); returns the files written.

    CSV needs ``output``: it writes several files named after it.
    """
    if file_format not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {file_format!r}: use one of {EXPORT_FORMATS}")
    if file_format == "csv":
        if output is None:
            raise ValueError("CSV export writes several files: give -o BASE.csv")
        return list(write_csv(store, video_id, output, progress=progress).values())
    if file_format == "jsonl":
        total = lineage_size(store, video_id)
        with (
            output.open("wb") if output else _borrowed(binary_stream) as stream,
            progress_bar(total, "exporting", enabled=progress) as bar,
        ):
            # Written in chunks of lines: one write call per few hundred.
            chunk: list[bytes] = []
            for line in iter_jsonl_lines(store, video_id):
                chunk.append(line)
                if len(chunk) == 512:
                    stream.write(b"".join(chunk))
                    bar.update(len(chunk))
                    chunk.clear()
            stream.write(b"".join(chunk))
            bar.update(len(chunk))
        return [output] if output else []
    with output.open("wb") if output else _borrowed(binary_stream) as stream:
        write_networkx(store, video_id, stream, file_format, progress=progress)
    return [output] if output else []


class _borrowed:  # noqa: N801 - used like open()
    """A stream handed in by the caller: used in a with block, never closed."""

    def __init__(self, stream: Any) -> None:
        if stream is None:
            raise ValueError("no output: give a file or a stream")
        self.stream = stream

    def __enter__(self) -> Any:
        return self.stream

    def __exit__(self, *exc_info: object) -> None:
        self.stream.flush()
