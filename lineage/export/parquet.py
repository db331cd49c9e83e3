"""Parquet export for analysts: one row per video, typed columns, row group by row group.

The file holds the JSONL export's fields (the prompt diff flattened into
``diff_summary``, ``variant_key``, ``similarity`` and ``diff_ops``) and the
lineage columns, typed so that pandas, DuckDB or Spark read them without
parsing: ``created_at`` and ``removed_at`` are ``timestamp[us, tz=UTC]``,
every count is ``int64``, ``similarity`` is ``double`` and ``diff_ops`` a
list of ``struct<op, before, after>``. Originals have null diff columns.

The lineage is read page by page, as the JSONL export reads it, and written
one row group at a time (:data:`ROW_GROUP_SIZE` videos): memory holds one
row group, whatever the size of the store. Below ``admin`` a removed video's
text is blanked exactly as in the JSONL export
(the one masking rule, :mod:`lineage.rights.visibility`).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import accumulate, islice
from operator import attrgetter
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from lineage.access.tokens import Role
from lineage.export.walk import iter_lineage, lineage_size
from lineage.models import VideoRecord, epoch_micros
from lineage.progress import progress_bar
from lineage.rights.policy import DEFAULT_RIGHTS, VideoRights
from lineage.rights.visibility import Visibility, mask_export_record, visibility
from lineage.store import EXPORT_ROW_COLUMNS, LineageStore
from lineage.stores.sqlite import SQLiteStore
from lineage.tree.queries import require_video

__all__ = [
    "PARQUET_SCHEMA",
    "ROW_GROUP_SIZE",
    "iter_parquet_batches",
    "iter_parquet_chunks",
    "write_parquet",
]

# Videos per row group: a few tens of MiB in memory for the longest prompts.
ROW_GROUP_SIZE = 20_000
# Columns with few distinct values, dictionary-encoded (the others would only
# pay for a dictionary that Parquet drops when it grows too large).
_DICTIONARY_COLUMNS = ["parent_id", "original_id", "creator", "status", "variant_key"]
# Videos per rights lookup (as the JSONL export).
_PAGE_SIZE = 2000

_UTC_MICROS = pa.timestamp("us", tz="UTC")
DIFF_OP = pa.struct(
    [
        pa.field("op", pa.string(), nullable=False),
        pa.field("before", pa.string(), nullable=False),
        pa.field("after", pa.string(), nullable=False),
    ]
)

PARQUET_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("prompt", pa.string(), nullable=False),
        pa.field("parent_id", pa.string()),
        pa.field("title", pa.string()),
        pa.field("creator", pa.string()),
        pa.field("created_at", _UTC_MICROS),
        pa.field("likes", pa.int64(), nullable=False),
        pa.field("views", pa.int64(), nullable=False),
        pa.field("generation", pa.int64(), nullable=False),
        pa.field("original_id", pa.string(), nullable=False),
        pa.field("derivative_count", pa.int64(), nullable=False),
        pa.field("direct_remix_count", pa.int64(), nullable=False),
        pa.field("tree_depth", pa.int64(), nullable=False),
        pa.field("subtree_likes", pa.int64(), nullable=False),
        pa.field("subtree_views", pa.int64(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("removed_reason", pa.string()),
        pa.field("removed_at", _UTC_MICROS),
        pa.field("c2pa_manifest", pa.string()),
        pa.field("diff_summary", pa.string()),
        pa.field("variant_key", pa.string()),
        pa.field("similarity", pa.float64()),
        pa.field("diff_ops", pa.list_(pa.field("item", DIFF_OP, nullable=False))),
    ],
    metadata={"remix-lineage": "export; see docs/cli.md (lineage export --format parquet)"},
)

# The columns as the export collects them: the store's export rows (the diff
# ops as their JSON text, or as (op, before, after) triples from a record).
# Subtrees, and the whole SQLite store, are read as such rows.
_ROW_COLUMNS = EXPORT_ROW_COLUMNS
_SQLITE_ROW_SQL = ", ".join(_ROW_COLUMNS)
_ID, _GENERATION, _PROMPT, _TITLE, _CREATOR, _CREATED_US, _SUMMARY, _KEY, _SIMILARITY, _OPS = (
    _ROW_COLUMNS.index(name)
    for name in (
        "id",
        "generation",
        "prompt",
        "title",
        "creator",
        "created_us",
        "diff_summary",
        "variant_key",
        "similarity",
        "diff_ops",
    )
)
# Columns that are a collected column of the same name.
_FROM_ROW = [
    (name, _ROW_COLUMNS.index(name), PARQUET_SCHEMA.field(name).type)
    for name in PARQUET_SCHEMA.names
    if name in _ROW_COLUMNS and name not in {"created_at", "diff_summary", "diff_ops"}
]
# The collected columns that a VideoRecord has under the same name, then its
# created_at and prompt_diff, read in one attrgetter call per record.
_FROM_RECORD = [
    index
    for index, name in enumerate(_ROW_COLUMNS)
    if name in VideoRecord.model_fields and name != "created_at"
]
_RECORD_FIELDS = attrgetter(
    *(_ROW_COLUMNS[index] for index in _FROM_RECORD), "created_at", "prompt_diff"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_DIFF_FIELDS = attrgetter("summary", "variant_key", "similarity", "ops")
_OP_FIELDS = attrgetter("op", "before", "after")
_NO_DIFF = SimpleNamespace(summary=None, variant_key=None, similarity=None, ops=None)


def _iter_pages(
    store: LineageStore, video_id: str | None
) -> Iterator[list[tuple[Any, ...]] | list[VideoRecord]]:
    """The lineage in pages of at most :data:`_PAGE_SIZE`, parents first.

    A subtree is its top (one record) then its descendant pages as plain rows
    (:meth:`~lineage.store.LineageStore.descendant_rows`: the same keyset walk
    as :func:`~lineage.export.walk.iter_lineage`, no model object per video);
    the whole SQLite store is plain rows too (as the JSONL export reads it);
    the whole store of another backend, records.
    """
    if video_id is not None:
        top = require_video(store, video_id)
        yield [top]
        if not top.derivative_count:
            return
        after: tuple[int, str] | None = None
        while True:
            rows = store.descendant_rows(top.id, top.parent_id is None, _PAGE_SIZE, after)
            if rows:
                yield rows
            if len(rows) < _PAGE_SIZE:
                return
            after = (rows[-1][_GENERATION], rows[-1][_ID])
    page: list[Any] = []
    if isinstance(store, SQLiteStore):
        items: Iterator[Any] = store.iter_video_rows(_PAGE_SIZE, columns=_SQLITE_ROW_SQL)
    else:
        items = iter_lineage(store, None, page_size=_PAGE_SIZE)
    for item in items:
        page.append(item)
        if len(page) == _PAGE_SIZE:
            yield page
            page = []
    if page:
        yield page


class _Columns:
    """The columns of one row group, extended a page at a time.

    Only the column lists live between pages (not a tuple per row), so the
    garbage collector has little to walk however large the row group.
    """

    def __init__(self) -> None:
        self.values: list[list[Any]] = [[] for _ in _ROW_COLUMNS]
        self.rights: list[tuple[int, VideoRights]] = []  # (row, state) of the few with any
        # diff_ops as flat struct fields plus list offsets (no dict per op).
        self.ops: tuple[list[str], list[str], list[str]] = ([], [], [])
        self.op_offsets: list[int] = [0]
        self.rows = 0

    def add_rows(self, rows: list[tuple[Any, ...]]) -> None:
        """A page of plain rows (:data:`_ROW_COLUMNS`, the ops as JSON text)."""
        start = len(self.values[_ID])
        for values, column in zip(self.values, zip(*rows, strict=True), strict=True):
            values.extend(column)
        self._add_ops(
            [None if ops is None else orjson.loads(ops) for ops in self.values[_OPS][start:]]
        )

    def add_records(self, videos: list[VideoRecord]) -> None:
        """A page of records."""
        values = self.values
        # One C-level pass reads every field of every record, one more makes columns.
        columns = list(zip(*map(_RECORD_FIELDS, videos), strict=True))
        for index, column in zip(_FROM_RECORD, columns, strict=False):
            values[index].extend(column)
        values[_CREATED_US].extend(
            None if moment is None else (moment - _EPOCH) // _MICROSECOND for moment in columns[-2]
        )
        diffs = columns[-1]
        # An original (in a subtree, only its top) has no diff. Compared by
        # identity: "None in diffs" would call the models' __eq__.
        if any(diff is None for diff in diffs):
            diffs = tuple(_NO_DIFF if diff is None else diff for diff in diffs)
        summaries, keys, similarities, ops = zip(*map(_DIFF_FIELDS, diffs), strict=True)
        values[_SUMMARY].extend(summaries)
        values[_KEY].extend(keys)
        values[_SIMILARITY].extend(similarities)
        values[_OPS].extend(ops)
        self._add_ops([None if group is None else list(map(_OP_FIELDS, group)) for group in ops])

    def _add_ops(self, groups: list[Any]) -> None:
        """Each row's ops (a list of (op, before, after), or None), flattened."""
        sizes = (len(group) if group else 0 for group in groups)
        self.op_offsets.extend(islice(accumulate(sizes, initial=self.op_offsets[-1]), 1, None))
        flat = [op for group in groups if group for op in group]
        if flat:
            for field, column in zip(self.ops, zip(*flat, strict=True), strict=True):
                field.extend(column)

    def add_page(
        self,
        page: list[tuple[Any, ...]] | list[VideoRecord],
        video_rights: Callable[[Sequence[str]], dict[str, VideoRights]],
        viewer: Role | None,
    ) -> None:
        """Add a page of rows or records, with the rights of its videos (one
        ``video_rights`` lookup per page, as the JSONL export makes)."""
        start = self.rows
        if isinstance(page[0], tuple):
            self.add_rows(page)
        else:
            self.add_records(page)
        self.rows += len(page)
        ids = self.values[_ID]
        rights = video_rights(ids[start:])
        for index in range(start, self.rows) if rights else ():
            state = rights.get(ids[index])
            if state is not None:
                self.rights.append((index, state))
                seen = visibility(viewer, state)
                if not seen.text:
                    self._hide(index, seen)

    def _hide(self, index: int, seen: Visibility) -> None:
        """Blank a removed video's text as the JSONL export does for a caller below
        ``admin``: its rule (:func:`~lineage.rights.visibility.mask_export_record`) is
        applied to the same fields of row ``index``."""
        values = self.values
        record: dict[str, Any] = {
            "prompt": values[_PROMPT][index],
            "title": values[_TITLE][index],
            "creator": values[_CREATOR][index],
        }
        start, end = self.op_offsets[index], self.op_offsets[index + 1]
        ops = list(zip(*(field[start:end] for field in self.ops), strict=True))
        remix = values[_KEY][index] is not None
        if remix:
            record["prompt_diff"] = {"summary": values[_SUMMARY][index], "ops": list(ops)}
        mask_export_record(record, seen)
        values[_PROMPT][index] = record["prompt"]
        values[_TITLE][index] = record["title"]
        values[_CREATOR][index] = record["creator"]
        if remix:
            values[_SUMMARY][index] = record["prompt_diff"]["summary"]
            if record["prompt_diff"]["ops"] != ops:
                self._replace_ops(index, record["prompt_diff"]["ops"])

    def _replace_ops(self, index: int, ops: list[tuple[str, str, str]]) -> None:
        """Row ``index``'s ops become ``ops`` (the lists after it move)."""
        offsets = self.op_offsets
        start, end = offsets[index], offsets[index + 1]
        for field, new in zip(
            self.ops, zip(*ops, strict=True) if ops else ((), (), ()), strict=True
        ):
            field[start:end] = new
        shift = len(ops) - (end - start)
        for position in range(index + 1, len(offsets)):
            offsets[position] += shift

    def batch(self) -> pa.RecordBatch:
        """The row group as one record batch of :data:`PARQUET_SCHEMA`."""
        values = self.values
        arrays: dict[str, pa.Array] = {
            name: _array(values[index], kind) for name, index, kind in _FROM_ROW
        }
        arrays["created_at"] = _array(values[_CREATED_US], _UTC_MICROS)
        arrays["diff_summary"] = _array(values[_SUMMARY], pa.string())
        structs = pa.StructArray.from_arrays(
            [_array(field, pa.string()) for field in self.ops], fields=list(DIFF_OP)
        )
        arrays["diff_ops"] = pa.ListArray.from_arrays(
            _array(self.op_offsets, pa.int32()),
            structs,
            type=PARQUET_SCHEMA.field("diff_ops").type,
            mask=_array([ops is None for ops in values[_OPS]], pa.bool_()),
        )
        # Rights are sparse: defaults, then the videos that have any.
        status: list[str] = [DEFAULT_RIGHTS.status] * self.rows
        reasons: list[str | None] = [None] * self.rows
        removed_at: list[int | None] = [None] * self.rows
        manifests: list[str | None] = [None] * self.rows
        for index, state in self.rights:
            status[index] = state.status
            reasons[index] = state.removed_reason
            if state.removed_at is not None:
                removed_at[index] = epoch_micros(state.removed_at)
            manifests[index] = state.c2pa_manifest
        arrays["status"] = _array(status, pa.string())
        arrays["removed_reason"] = _array(reasons, pa.string())
        arrays["removed_at"] = _array(removed_at, _UTC_MICROS)
        arrays["c2pa_manifest"] = _array(manifests, pa.string())
        return pa.RecordBatch.from_arrays(
            [arrays[name] for name in PARQUET_SCHEMA.names], schema=PARQUET_SCHEMA
        )


# Arrow arrays are built with Arrow's string builder and from the buffers of
# Python arrays, not with pyarrow.array(): given a Python list, that one first
# imports pandas when it is installed (to ask whether the list is a pandas
# object), which took longer than a demo-sized export itself.
_TYPECODES: dict[pa.DataType, str] = {
    pa.int64(): "q",
    pa.int32(): "i",
    pa.float64(): "d",
    _UTC_MICROS: "q",
}


def _bitmap(flags: Sequence[bool]) -> pa.Buffer:
    """Arrow's bit-packed form of ``flags`` (least significant bit first)."""
    bits = "".join(map("01".__getitem__, reversed(flags)))
    return pa.py_buffer(int(bits or "0", 2).to_bytes((len(flags) + 7) // 8, "little"))


def _array(values: Sequence[Any], kind: pa.DataType) -> pa.Array:
    """An Arrow array of ``kind`` (string, bool, int64, int32, float64 or UTC
    microseconds) from Python values, None for null."""
    if values and values[0] is None and values.count(None) == len(values):
        # No removed video, no manifest, no title...
        return pa.nulls(len(values), kind)
    if kind == pa.string():
        builder = pa.lib.StringBuilder()
        builder.append_values(values)
        return builder.finish()
    if kind == pa.bool_():
        return pa.Array.from_buffers(kind, len(values), [None, _bitmap(values)])
    validity = None
    if None in values:
        validity = _bitmap([value is not None for value in values])
        values = [0 if value is None else value for value in values]
    data = array(_TYPECODES[kind], values)
    return pa.Array.from_buffers(kind, len(data), [validity, pa.py_buffer(data)])


def iter_parquet_batches(
    store: LineageStore,
    video_id: str | None = None,
    *,
    viewer: Role | None = Role.ADMIN,
    row_group_size: int = ROW_GROUP_SIZE,
) -> Iterator[pa.RecordBatch]:
    """The lineage as Arrow record batches of :data:`PARQUET_SCHEMA`, parents first.

    Parameters
    ----------
    store : LineageStore
    video_id : str, optional
        The subtree's top (included); the whole store when None.
    viewer : Role, optional
        Whose view (:mod:`lineage.rights.visibility`; the default, ``admin``,
        is the operator's).
    row_group_size : int
        Videos per batch (the last one may hold fewer).

    Raises
    ------
    VideoNotFound
        If ``video_id`` is not stored.
    """
    columns = _Columns()
    for page in _iter_pages(store, video_id):
        while page:
            # A page may straddle two row groups.
            room = row_group_size - columns.rows
            part, page = page[:room], page[room:]
            columns.add_page(part, store.video_rights, viewer)
            if columns.rows == row_group_size:
                yield columns.batch()
                columns = _Columns()
    if columns.rows:
        yield columns.batch()


def _writer(sink: Any) -> pq.ParquetWriter:
    return pq.ParquetWriter(
        sink, PARQUET_SCHEMA, compression="snappy", use_dictionary=_DICTIONARY_COLUMNS
    )


def write_parquet(
    store: LineageStore,
    video_id: str | None,
    output: Path | IO[bytes],
    *,
    viewer: Role | None = Role.ADMIN,
    progress: bool = False,
    row_group_size: int = ROW_GROUP_SIZE,
) -> int:
    """Write the lineage as a Parquet file (a path, or a binary stream); returns the rows.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pyarrow.parquet as pq
    >>> from lineage.importing.records import SourcedRecord
    >>> from lineage.stores.sqlite import SQLiteStore
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> store = SQLiteStore(folder / "doc.db")
    >>> _ = store.import_videos([
    ...     SourcedRecord({"id": "a", "prompt": "a crocodile in the yard"}),
    ...     SourcedRecord({"id": "b", "prompt": "a hippo in the yard", "parent_id": "a"})])
    >>> write_parquet(store, "a", folder / "a.parquet")
    2
    >>> table = pq.read_table(folder / "a.parquet")
    >>> table.column("variant_key").to_pylist(), table.column("derivative_count").to_pylist()
    ([None, 'crocodile→hippo'], [1, 0])
    """
    sink = str(output) if isinstance(output, Path) else output
    rows = 0
    with (
        progress_bar(lineage_size(store, video_id), "exporting", enabled=progress) as bar,
        _writer(sink) as writer,
    ):
        for batch in iter_parquet_batches(
            store, video_id, viewer=viewer, row_group_size=row_group_size
        ):
            writer.write_batch(batch, row_group_size=row_group_size)
            rows += batch.num_rows
            bar.update(batch.num_rows)
    return rows


class _Pending:
    """A write-only stream that keeps what was written until it is taken."""

    closed = False

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def iter_parquet_chunks(
    store: LineageStore,
    video_id: str | None = None,
    *,
    viewer: Role | None = Role.ADMIN,
    row_group_size: int = ROW_GROUP_SIZE,
) -> Iterator[bytes]:
    """The Parquet file's bytes as they are written: one chunk per row group, then
    the footer (for streamed HTTP answers)."""
    pending = _Pending()
    writer = _writer(pending)
    try:
        for batch in iter_parquet_batches(
            store, video_id, viewer=viewer, row_group_size=row_group_size
        ):
            writer.write_batch(batch, row_group_size=row_group_size)
            yield pending.take()
    finally:
        writer.close()
    yield pending.take()
