"""One entry point for every export format: :func:`export_lineage`.

It writes a lineage to a file or to a stream the caller hands in, in the
format asked for: JSONL (:mod:`~lineage.export.jsonl`), the neo4j-admin CSV
files (:mod:`~lineage.export.neo4j_csv`), or GraphML and GEXF
(:mod:`~lineage.export.graph`), with a progress bar on request.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any, Literal

from lineage.export.graph import write_networkx
from lineage.export.jsonl import iter_jsonl_lines
from lineage.export.neo4j_csv import write_csv
from lineage.export.walk import lineage_size
from lineage.progress import progress_bar
from lineage.store import LineageStore

__all__ = ["EXPORT_FORMATS", "ExportFormat", "export_lineage"]

ExportFormat = Literal["jsonl", "csv", "graphml", "gexf"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("jsonl", "csv", "graphml", "gexf")


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
