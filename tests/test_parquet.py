"""Parquet export: read back with pyarrow and DuckDB, compared with the store and the
JSONL export, on every backend; the CLI and ``GET /export?format=parquet``."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from api.core.config import ApiSettings
from api.main import create_app
from lineage.access.tokens import Role, token_store_for
from lineage.cli.main import main as lineage_main
from lineage.export.jsonl import iter_jsonl_lines
from lineage.export.parquet import (
    PARQUET_SCHEMA,
    iter_parquet_batches,
    iter_parquet_chunks,
    write_parquet,
)
from lineage.models import epoch_micros
from lineage.rights import policy as rights
from lineage.store import EXPORT_ROW_COLUMNS, LineageStore
from tests.api.conftest import SMALL_TREE, load
from tests.forests import Shape, build_forest

FOREST = build_forest([Shape("tree", 60), Shape("chain", 8), Shape("star", 20)], seed=30)
# A removed video (with remixes below it) and a manifest: the rights columns.
REMOVED_ID = "c0-1"


def _loaded(store: LineageStore) -> LineageStore:
    load(store, [*FOREST, {**FOREST[-1], "id": "signed", "c2pa_manifest": "urn:c2pa:test"}])
    rights.takedown(store, REMOVED_ID, "DMCA notice #1", "tester")
    return store


def _jsonl(
    store: LineageStore, video_id: str | None, *, viewer: Role | None = Role.ADMIN
) -> list[Any]:
    return [json.loads(line) for line in iter_jsonl_lines(store, video_id, viewer=viewer)]


def _as_jsonl(row: dict[str, Any]) -> dict[str, Any]:
    """A Parquet row in the JSONL export's shape (the diff columns folded back)."""
    record = dict(row)
    for column in ("created_at", "removed_at"):
        moment = record[column]
        record[column] = None if moment is None else moment.isoformat().replace("+00:00", "Z")
    record.pop("subtree_likes")
    record.pop("subtree_views")
    summary, key = record.pop("diff_summary"), record.pop("variant_key")
    similarity, ops = record.pop("similarity"), record.pop("diff_ops")
    if record["parent_id"] is not None:
        record["prompt_diff"] = {
            "summary": summary,
            "variant_key": key,
            "similarity": similarity,
            "ops": ops,
        }
    else:
        assert (summary, key, similarity, ops) == (None, None, None, None)
    return record


def _same_timestamps(record: dict[str, Any]) -> dict[str, Any]:
    """JSONL writes microseconds only when there are some; compare as instants."""
    out = dict(record)
    for column in ("created_at", "removed_at"):
        if out[column] is not None:
            out[column] = datetime.fromisoformat(out[column].replace("Z", "+00:00"))
    return out


# The whole store, an original's tree, and a subtree below a remix (closure rows).
@pytest.mark.parametrize("video_id", [None, "c0-0", REMOVED_ID])
def test_parquet_holds_the_jsonl_fields_and_the_lineage_columns(
    store: LineageStore, tmp_path: Path, video_id: str | None
) -> None:
    _loaded(store)
    path = tmp_path / "out.parquet"
    rows = write_parquet(store, video_id, path, row_group_size=16)
    table = pq.read_table(path)
    assert table.schema.equals(PARQUET_SCHEMA)
    assert table.schema.field("created_at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("derivative_count").type == pa.int64()
    ops_type = table.schema.field("diff_ops").type.value_type
    assert [(field.name, field.type) for field in ops_type] == [
        ("op", pa.string()),
        ("before", pa.string()),
        ("after", pa.string()),
    ]
    # Written row group by row group as the export streams.
    assert pq.ParquetFile(path).metadata.num_row_groups == -(-rows // 16)
    parquet_rows = table.to_pylist()
    expected = _jsonl(store, video_id)
    assert rows == len(expected) == len(parquet_rows)
    # Same videos, same order (parents first), every JSONL field equal.
    assert [_same_timestamps(_as_jsonl(row)) for row in parquet_rows] == [
        _same_timestamps(record) for record in expected
    ]
    stored = store.get_videos([row["id"] for row in parquet_rows])
    for row in parquet_rows:
        video = stored[row["id"]]
        assert (row["subtree_likes"], row["subtree_views"]) == (
            video.subtree_likes,
            video.subtree_views,
        )
        assert row["created_at"] == video.created_at
    removed = [row for row in parquet_rows if row["status"] == "REMOVED"]
    assert [row["id"] for row in removed] == [REMOVED_ID]
    assert removed[0]["removed_reason"] == "DMCA notice #1"
    assert removed[0]["prompt"]  # read straight from the store: not blanked
    if video_id is None:
        (signed,) = [row for row in parquet_rows if row["id"] == "signed"]
        assert signed["c2pa_manifest"] == "urn:c2pa:test"


@pytest.mark.parametrize("top", ["c0-0", REMOVED_ID])
def test_descendant_rows_are_the_descendant_pages_values(store: LineageStore, top: str) -> None:
    """The rows the Parquet export reads a subtree from: the same videos, in the same
    keyset pages, with the values of the records (small pages: several cursors)."""
    _loaded(store)
    video = store.get_video(top)
    assert video is not None
    original = video.parent_id is None
    records, rows = [], []
    after_record: tuple[int, str] | None = None
    after_row: tuple[int, str] | None = None
    while True:
        page = store.descendant_page(top, original, 7, after_record)
        part = store.descendant_rows(top, original, 7, after_row)
        records += page
        rows += part
        assert len(part) == len(page)
        if len(page) < 7:
            break
        after_record = (page[-1].generation, page[-1].id)
        after_row = (part[-1][EXPORT_ROW_COLUMNS.index("generation")], part[-1][0])
    assert len(records) == video.derivative_count > 7
    for record, row in zip(records, rows, strict=True):
        values = dict(zip(EXPORT_ROW_COLUMNS, row, strict=True))
        diff = record.prompt_diff
        assert diff is not None
        assert values == {
            **record.model_dump(include=set(EXPORT_ROW_COLUMNS)),
            "created_us": epoch_micros(record.created_at) if record.created_at else None,
            "diff_summary": diff.summary,
            "variant_key": diff.variant_key,
            "similarity": diff.similarity,
            "diff_ops": values["diff_ops"],
        }
        assert [tuple(op) for op in json.loads(values["diff_ops"])] == [
            (op.op, op.before, op.after) for op in diff.ops
        ]


def test_removed_text_is_blanked_as_in_the_jsonl_export(store: LineageStore) -> None:
    _loaded(store)
    batches = list(iter_parquet_batches(store, None, viewer=Role.READER, row_group_size=10))
    rows = pa.Table.from_batches(batches).to_pylist()
    jsonl = _jsonl(store, None, viewer=Role.READER)
    assert [_same_timestamps(_as_jsonl(row)) for row in rows] == [
        _same_timestamps(record) for record in jsonl
    ]
    (removed,) = [row for row in rows if row["id"] == REMOVED_ID]
    assert (removed["prompt"], removed["title"], removed["creator"]) == ("", None, None)
    assert (removed["diff_summary"], removed["diff_ops"]) == ("", [])
    assert removed["variant_key"]  # the tree stays whole: the key still groups it


def test_duckdb_reads_it_and_agrees_with_the_store(store: LineageStore, tmp_path: Path) -> None:
    _loaded(store)
    path = tmp_path / "forest.parquet"
    write_parquet(store, None, path, row_group_size=25)
    top = store.get_video("c0-0")
    assert top is not None
    db = duckdb.connect()
    db.read_parquet(str(path)).create_view("videos")
    types = dict(db.execute("SELECT column_name, column_type FROM (DESCRIBE videos)").fetchall())
    assert types["created_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["likes"] == "BIGINT"
    assert types["diff_ops"].startswith("STRUCT(")
    assert db.execute("SELECT count(*) FROM videos").fetchone() == (store.count_videos(),)
    per_generation = db.execute(
        "SELECT generation, count(*) FROM videos WHERE original_id = 'c0-0' AND generation > 0 "
        "GROUP BY generation ORDER BY generation"
    ).fetchall()
    assert per_generation == [
        (entry.generation, entry.count) for entry in store.generation_counts("c0-0")
    ]
    groups = db.execute(
        "SELECT variant_key, count(*) FROM videos WHERE parent_id = 'c0-0' GROUP BY variant_key"
    ).fetchall()
    assert sorted(groups) == sorted(
        (group.key, group.remix_count) for group in store.variant_groups("c0-0", 100)
    )
    (views,) = db.execute(  # type: ignore[misc]
        "SELECT sum(views) FROM videos WHERE original_id = 'c0-0'"
    ).fetchone()
    assert views == top.subtree_views
    assert db.execute(
        "SELECT subtree_likes, derivative_count, tree_depth FROM videos WHERE id = 'c0-0'"
    ).fetchone() == (top.subtree_likes, top.derivative_count, top.tree_depth)
    first_ops = db.execute(
        "SELECT id, diff_ops[1].op, diff_ops[1].before, diff_ops[1].after FROM videos "
        "WHERE parent_id IS NOT NULL AND len(diff_ops) > 0 ORDER BY id LIMIT 5"
    ).fetchall()
    stored = store.get_videos([row[0] for row in first_ops])
    for video_id, op, before, after in first_ops:
        diff = stored[video_id].prompt_diff
        assert diff is not None
        assert (op, before, after) == (diff.ops[0].op, diff.ops[0].before, diff.ops[0].after)
    assert db.execute(
        "SELECT min(created_at) FROM videos WHERE original_id = 'c0-0'"
    ).fetchone() == (
        min(
            video.created_at
            for video in store.iter_videos()
            if video.original_id == "c0-0" and video.created_at is not None
        ),
    )


def test_chunks_stream_row_group_by_row_group(store: LineageStore) -> None:
    _loaded(store)
    chunks = list(iter_parquet_chunks(store, None, row_group_size=20))
    total = store.count_videos()
    # The magic and a row group per chunk as they are written, then the footer.
    assert len(chunks) == -(-total // 20) + 1
    assert chunks[0].startswith(b"PAR1")
    table = pq.read_table(io.BytesIO(b"".join(chunks)))
    assert table.num_rows == total
    assert table.column("id").to_pylist() == [record["id"] for record in _jsonl(store, None)]


def test_an_empty_lineage_is_a_valid_file(store: LineageStore, tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    assert write_parquet(store, None, path) == 0
    table = pq.read_table(path)
    assert table.num_rows == 0
    assert table.schema.equals(PARQUET_SCHEMA)


def test_cli_export_parquet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "cli.db"
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in SMALL_TREE) + "\n")
    monkeypatch.setenv("LINEAGE_STORE", "sqlite")
    assert lineage_main(["import", str(source), "--db", str(database)]) == 0
    out = tmp_path / "grandma.parquet"
    argv = ["export", "grandma", "--format", "parquet", "-o", str(out), "--db", str(database)]
    assert lineage_main(argv) == 0
    table = pq.read_table(out)
    assert sorted(table.column("id").to_pylist()) == [
        "baby-hippo",
        "giraffe",
        "grandma",
        "hippo",
        "tank",
    ]
    assert table.column("id")[0].as_py() == "grandma"
    assert table.column("title")[0].as_py() == "我奶奶真实的脚步"
    capsys.readouterr()
    missing = tmp_path / "missing.parquet"
    argv = ["export", "nope", "--format", "parquet", "-o", str(missing), "--db", str(database)]
    assert lineage_main(argv) == 2
    assert "nope" in capsys.readouterr().err
    assert not missing.exists()


@pytest.mark.anyio
async def test_http_export_parquet(store: LineageStore) -> None:
    _loaded(store)
    app = create_app(ApiSettings(), store=store)
    tokens = token_store_for(store)
    reader = tokens.create("analyst", Role.READER)
    admin = tokens.create("lawyer", Role.ADMIN)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        reply = await http.get(
            "/export/c0-0",
            params={"format": "parquet"},
            headers={"authorization": f"Bearer {reader}"},
        )
        assert reply.status_code == 200
        assert reply.headers["content-type"] == "application/vnd.apache.parquet"
        assert 'filename="c0-0.parquet"' in reply.headers["content-disposition"]
        table = pq.read_table(io.BytesIO(reply.content))
        assert table.schema.equals(PARQUET_SCHEMA)
        rows = table.to_pylist()
        assert [row["id"] for row in rows] == [r["id"] for r in _jsonl(store, "c0-0")]
        (removed,) = [row for row in rows if row["id"] == REMOVED_ID]
        assert removed["prompt"] == ""  # below admin: blanked, as in JSONL
        as_admin = await http.get(
            "/export",
            params={"format": "parquet"},
            headers={"authorization": f"Bearer {admin}"},
        )
        whole = pq.read_table(io.BytesIO(as_admin.content)).to_pylist()
        assert len(whole) == store.count_videos()
        (removed,) = [row for row in whole if row["id"] == REMOVED_ID]
        assert removed["prompt"]
        refused = await http.get("/export", params={"format": "parquet"})
        assert refused.status_code == 401


def test_timestamps_are_utc_instants(store: LineageStore, tmp_path: Path) -> None:
    load(
        store,
        [
            {"id": "a", "prompt": "a cat", "created_at": "2025-10-02T10:00:00+02:00"},
            {"id": "b", "prompt": "a dog", "parent_id": "a"},
        ],
    )
    path = tmp_path / "t.parquet"
    write_parquet(store, "a", path)
    created = pq.read_table(path).column("created_at").to_pylist()
    assert created == [datetime(2025, 10, 2, 8, 0, tzinfo=UTC), None]
