"""Streamed lineage export for batch jobs: ``GET /export`` and ``GET /export/{id}``.

JSONL (``application/x-ndjson``), one of the CSV files of
:mod:`lineage.export.neo4j_csv` (``part=videos|remixes|variant_groups|remix_hours``) or
Parquet (:mod:`lineage.export.parquet`, ``application/vnd.apache.parquet``, sent
row group by row group), written as the store is read, page by page. An
export reads whole lineages: it always needs a ``reader`` token (401 without a
live one, 403 below reader). As in GraphQL, a removed video's text (prompt,
title, creator, the words of its prompt diff) and who removed it reach
``admin`` tokens only; other readers get them blanked, by the rule every
output applies (:mod:`lineage.rights.visibility`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.deps import StoreDep
from api.security import require_role
from lineage.access.tokens import Role, TokenInfo
from lineage.errors import VideoNotFound
from lineage.export.jsonl import iter_jsonl_lines
from lineage.export.neo4j_csv import CSV_HEADERS, iter_csv_rows
from lineage.store import LineageStore
from lineage.tree.queries import require_video

__all__ = ["router"]

router = APIRouter(tags=["export"])

Reader = Annotated[TokenInfo, Depends(require_role(Role.READER))]

# Lines are sent in chunks of about this many bytes: one write per chunk.
_CHUNK_BYTES = 64 * 1024


def _chunks(lines: Iterator[bytes]) -> Iterator[bytes]:
    buffer: list[bytes] = []
    size = 0
    for line in lines:
        buffer.append(line)
        size += len(line)
        if size >= _CHUNK_BYTES:
            yield b"".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield b"".join(buffer)


def _csv_lines(
    store: LineageStore, video_id: str | None, part: str, viewer: Role
) -> Iterator[bytes]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADERS[part])
    for _, row in iter_csv_rows(store, video_id, (part,), viewer=viewer):
        writer.writerow(row)
        yield out.getvalue().encode("utf-8")
        out.seek(0)
        out.truncate()
    if out.tell():
        yield out.getvalue().encode("utf-8")


async def _export(
    store: LineageStore, caller: TokenInfo, video_id: str | None, file_format: str, part: str
) -> StreamingResponse:
    if video_id is not None:
        try:
            await run_in_threadpool(require_video, store, video_id)
        except VideoNotFound as error:
            raise HTTPException(status_code=404, detail=error.message) from error
    name = video_id or "lineage"
    if file_format == "parquet":
        from lineage.export.parquet import iter_parquet_chunks

        return StreamingResponse(
            iter_parquet_chunks(store, video_id, viewer=caller.role),
            media_type="application/vnd.apache.parquet",
            headers={"content-disposition": f'attachment; filename="{name}.parquet"'},
        )
    if file_format == "jsonl":
        return StreamingResponse(
            _chunks(iter_jsonl_lines(store, video_id, viewer=caller.role)),
            media_type="application/x-ndjson",
            headers={"content-disposition": f'attachment; filename="{name}.jsonl"'},
        )
    return StreamingResponse(
        _chunks(_csv_lines(store, video_id, part, caller.role)),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}.{part}.csv"'},
    )


FormatQuery = Annotated[Literal["jsonl", "csv", "parquet"], Query(alias="format")]
PartQuery = Annotated[
    Literal["videos", "remixes", "variant_groups", "remix_hours"],
    Query(description="which CSV file (format=csv)"),
]


@router.get("/export", response_class=StreamingResponse)
async def export_everything(
    store: StoreDep,
    caller: Reader,
    file_format: FormatQuery = "jsonl",
    part: PartQuery = "videos",
) -> StreamingResponse:
    """Every stored video, parents first."""
    return await _export(store, caller, None, file_format, part)


@router.get("/export/{video_id}", response_class=StreamingResponse)
async def export_subtree(
    video_id: str,
    store: StoreDep,
    caller: Reader,
    file_format: FormatQuery = "jsonl",
    part: PartQuery = "videos",
) -> StreamingResponse:
    """The subtree under ``video_id`` (included), parents first."""
    return await _export(store, caller, video_id, file_format, part)
