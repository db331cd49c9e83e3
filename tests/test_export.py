"""Export: JSONL round trips, CSV for neo4j-admin, GraphML/GEXF, networkx, HTTP."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import httpx
import networkx as nx
import pytest
from hypothesis import HealthCheck, example, given, settings

from api.core.config import ApiSettings
from api.main import create_app
from lineage.access.tokens import Role, token_store_for
from lineage.cli.main import main as lineage_main
from lineage.demo.tree import DEMO_ORIGINAL_ID, demo_records
from lineage.errors import VideoNotFound
from lineage.export.dispatch import export_lineage
from lineage.export.graph import to_networkx
from lineage.export.neo4j_csv import CSV_REMIX_HEADER, CSV_VIDEO_HEADER
from lineage.export.walk import iter_lineage
from lineage.importing.records import SourcedRecord, iter_jsonl
from lineage.store import LineageStore
from tests.api.conftest import SMALL_TREE, load
from tests.conftest import StoreFactory
from tests.forests import Record, Shape, build_forest, forests
from tests.lineage_snapshot import snapshot

QUIET = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


def export_jsonl(store: LineageStore, video_id: str | None = None) -> str:
    out = io.BytesIO()
    export_lineage(store, video_id, "jsonl", None, binary_stream=out)
    return out.getvalue().decode("utf-8")


def shuffled(records: list[Record], seed: int) -> list[Record]:
    copy = list(records)
    random.Random(seed).shuffle(copy)
    return copy


def round_trip(make_store: StoreFactory, records: list[Record]) -> None:
    source = make_store()
    load(source, shuffled(records, 1))
    before = snapshot(source)
    exported = export_jsonl(source)
    # An empty store (for Neo4j, the same database emptied) gets the export.
    target = make_store()
    report = target.import_videos(iter_jsonl(io.StringIO(exported), "export.jsonl"))
    assert report.rejected == []
    assert report.added == len(records)
    assert snapshot(target) == before
    assert sorted(export_jsonl(target).splitlines()) == sorted(exported.splitlines())


@settings(max_examples=8, deadline=None, suppress_health_check=QUIET)
@given(records=forests)
@example(records=build_forest([Shape("chain", 60), Shape("star", 300)], seed=4))
def test_jsonl_round_trip_gives_identical_stores(
    make_store: StoreFactory, records: list[Record]
) -> None:
    round_trip(make_store, records)


# Two demo imports into Neo4j take minutes on a 2-core machine: CI round-trips
# the demo through SQLite, and Neo4j through the random forests above.
@pytest.mark.parametrize(
    "backend",
    ["sqlite", pytest.param("neo4j", marks=[pytest.mark.neo4j, pytest.mark.slow])],
)
def test_jsonl_round_trip_of_the_demo(make_store: StoreFactory) -> None:
    round_trip(make_store, list(demo_records()))


def test_subtree_export_is_the_video_and_its_derivatives_parents_first(
    store: LineageStore,
) -> None:
    load(store, SMALL_TREE)
    lines = [json.loads(line) for line in export_jsonl(store, "hippo").splitlines()]
    assert [line["id"] for line in lines] == ["hippo", "baby-hippo"]
    hippo, baby = lines
    assert hippo["derivative_count"] == 1
    assert hippo["prompt_diff"]["variant_key"] == "crocodile→hippo"
    assert hippo["prompt_diff"]["ops"] == [
        {"op": "replace", "before": "crocodile", "after": "hippo"}
    ]
    assert baby["generation"] == 2
    assert baby["original_id"] == "grandma"
    everything = export_jsonl(store).splitlines()
    assert len(everything) == len(SMALL_TREE)
    originals = [json.loads(line) for line in everything if json.loads(line)["parent_id"] is None]
    assert {line["id"] for line in originals} == {"grandma", "nainai"}
    assert "prompt_diff" not in originals[0]
    nainai = json.loads(export_jsonl(store, "nainai-1"))
    assert nainai["prompt_diff"]["variant_key"] == "鳄鱼→河马"


def test_small_pages_keep_parents_first_and_miss_nothing(store: LineageStore) -> None:
    records = build_forest([Shape("star", 40), Shape("tree", 60), Shape("chain", 15)], seed=9)
    load(store, records)
    for top in (None, records[0]["id"]):
        seen: set[str] = set()
        for video in iter_lineage(store, top, page_size=3):
            assert video.id not in seen
            if video.parent_id is not None and video.id != top:
                assert video.parent_id in seen, f"{video.id} before its parent"
            seen.add(video.id)
        if top is None:
            assert len(seen) == len(records)


def test_unknown_id_is_refused(store: LineageStore) -> None:
    with pytest.raises(VideoNotFound, match="nope"):
        export_jsonl(store, "nope")


def test_csv_files_are_ready_for_neo4j_admin(store: LineageStore, tmp_path: Path) -> None:
    load(store, SMALL_TREE)
    written = export_lineage(store, None, "csv", tmp_path / "lineage.csv")
    names = sorted(path.name for path in written)
    assert names == [
        "lineage.remix_hours.csv",
        "lineage.remixes.csv",
        "lineage.variant_groups.csv",
        "lineage.videos.csv",
    ]
    with (tmp_path / "lineage.videos.csv").open(encoding="utf-8", newline="") as stream:
        videos = list(csv.reader(stream))
    with (tmp_path / "lineage.remixes.csv").open(encoding="utf-8", newline="") as stream:
        remixes = list(csv.reader(stream))
    assert videos[0] == CSV_VIDEO_HEADER
    assert remixes[0] == CSV_REMIX_HEADER
    assert len(videos) == 1 + len(SMALL_TREE)
    assert len(remixes) == 1 + sum(1 for r in SMALL_TREE if r.get("parent_id"))
    grandma = next(row for row in videos if row[0] == "grandma")
    column = dict(zip(CSV_VIDEO_HEADER, grandma, strict=True))
    assert column["derivative_count:long"] == "4"
    assert column["generation_counts:long[]"] == "3;1"
    assert column[":LABEL"] == "Video;Original"
    hippo_edge = next(row for row in remixes if row[0] == "hippo")
    assert hippo_edge[1] == "grandma"
    assert hippo_edge[-1] == "REMIX_OF"


@pytest.mark.parametrize("file_format", ["graphml", "gexf"])
def test_graphml_and_gexf_open_in_networkx_with_every_attribute(
    store: LineageStore, tmp_path: Path, file_format: str
) -> None:
    load(store, SMALL_TREE)
    path = tmp_path / f"lineage.{file_format}"
    export_lineage(store, "grandma", file_format, path)  # type: ignore[arg-type]
    graph = nx.read_graphml(path) if file_format == "graphml" else nx.read_gexf(path)
    assert set(graph.nodes) == {"grandma", "hippo", "giraffe", "tank", "baby-hippo"}
    assert graph.has_edge("baby-hippo", "hippo")
    assert int(graph.nodes["grandma"]["derivative_count"]) == 4
    assert graph.nodes["grandma"]["title"] == "我奶奶真实的脚步"
    assert graph.edges["hippo", "grandma"]["variant_key"] == "crocodile→hippo"
    assert json.loads(graph.edges["hippo", "grandma"]["ops"])[0]["after"] == "hippo"


def test_to_networkx_matches_the_store(store: LineageStore) -> None:
    load(store, SMALL_TREE)
    graph = to_networkx(store, "grandma")
    assert isinstance(graph, nx.DiGraph)
    for node, attributes in graph.nodes(data=True):
        video = store.get_video(node)
        assert video is not None
        assert attributes["derivative_count"] == video.derivative_count
        # networkx's own count of everything that reaches the node.
        assert len(nx.ancestors(graph, node)) == video.derivative_count
    assert graph.edges["giraffe", "grandma"]["ops"][0]["after"] == "giraffe"
    assert nx.is_arborescence(graph.reverse())


def test_cli_export_writes_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "cli.db"
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in SMALL_TREE) + "\n")
    monkeypatch.setenv("LINEAGE_STORE", "sqlite")
    assert lineage_main(["import", str(source), "--db", str(database)]) == 0
    out = tmp_path / "out.jsonl"
    assert lineage_main(["export", "grandma", "-o", str(out), "--db", str(database)]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 5
    capsys.readouterr()
    assert lineage_main(["export", "--db", str(database)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == len(SMALL_TREE)
    assert lineage_main(["export", "--format", "csv", "--db", str(database)]) == 2
    assert "give -o" in capsys.readouterr().err
    assert lineage_main(["export", "nope", "--db", str(database)]) == 2
    assert "nope" in capsys.readouterr().err


@pytest.mark.anyio
async def test_http_export_streams_jsonl_and_csv(store: LineageStore) -> None:
    load(store, SMALL_TREE)
    app = create_app(ApiSettings(), store=store)
    reader = token_store_for(store).create("exporter", Role.READER)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://t",
            headers={"authorization": f"Bearer {reader}"},
        ) as http,
    ):
        reply = await http.get("/export/grandma")
        assert reply.status_code == 200
        assert reply.headers["content-type"] == "application/x-ndjson"
        ids = [json.loads(line)["id"] for line in reply.text.splitlines()]
        assert ids[0] == "grandma"
        assert sorted(ids) == ["baby-hippo", "giraffe", "grandma", "hippo", "tank"]
        whole = await http.get("/export")
        assert len(whole.text.splitlines()) == len(SMALL_TREE)
        edges = await http.get("/export", params={"format": "csv", "part": "remixes"})
        rows = list(csv.reader(io.StringIO(edges.text)))
        assert rows[0] == CSV_REMIX_HEADER
        assert len(rows) == 1 + 5
        missing = await http.get("/export/nope")
        assert missing.status_code == 404
        assert "nope" in missing.json()["detail"]
        # An export always needs a reader token, whatever the read settings.
        for headers in ({"authorization": ""}, {"authorization": "Bearer lin_not-a-token"}):
            refused = await http.get("/export/grandma", headers=headers)
            assert refused.status_code == 401, refused.text
            assert refused.headers["www-authenticate"] == "Bearer"
            assert refused.json()["detail"]["code"] == "UNAUTHENTICATED"
        bad = await http.get("/export", params={"format": "xml"})
        assert bad.status_code == 422


def test_demo_export_lists_every_derivative(tmp_path: Path) -> None:
    from lineage.stores.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "demo.db")
    load(store, list(demo_records()))
    count = sum(1 for _ in iter_lineage(store, DEMO_ORIGINAL_ID))
    assert count == store.get_video(DEMO_ORIGINAL_ID).derivative_count + 1  # type: ignore[union-attr]
    store.close()


def test_row_and_record_paths_write_identical_lines(store: LineageStore) -> None:
    from lineage.export.jsonl import jsonl_line, jsonl_line_from_row

    records = build_forest([Shape("tree", 30), Shape("star", 12)], seed=6)
    load(store, records + SMALL_TREE)
    rows = list(store.iter_video_rows(page_size=7))
    videos = list(store.iter_videos(page_size=7))
    assert [row[0] for row in rows] == [video.id for video in videos]
    assert len(rows) == len(records) + len(SMALL_TREE)
    for row, video in zip(rows, videos, strict=True):
        assert jsonl_line_from_row(row) == jsonl_line(video)


def test_an_export_under_writes_holds_every_video_there_at_its_start(
    store: LineageStore,
) -> None:
    """Remixes land in the subtree while it is exported (between the export's page reads):
    every video stored when the export started is exported, once."""
    children = [
        {"id": f"c{n:02}", "parent_id": "top", "prompt": f"a cat number {n}"} for n in range(30)
    ]
    grandchildren = [
        {"id": f"g{n:02}", "parent_id": f"c{n:02}", "prompt": f"a cat number {n} at night"}
        for n in range(0, 30, 3)
    ]
    load(store, [{"id": "top", "prompt": "a cat"}, *children, *grandchildren])
    at_start = {video.id for video in iter_lineage(store, "top")}
    assert len(at_start) == 1 + len(children) + len(grandchildren)

    exported: list[str] = []
    landed = 0
    for position, video in enumerate(iter_lineage(store, "top", page_size=4)):
        exported.append(video.id)
        if position % 3 == 2:
            # A remix under a video the export has not reached yet (the last
            # child), which then ranks first by derivative count.
            target = f"c{29 - landed % 10:02}"
            store.import_videos(
                [
                    SourcedRecord(
                        {"id": f"new-{landed}", "parent_id": target, "prompt": f"a dog {landed}"}
                    )
                ]
            )
            landed += 1
    assert landed >= 10
    assert len(exported) == len(set(exported)), "a video was exported twice"
    missing = at_start - set(exported)
    assert not missing, f"missing from the export: {sorted(missing)}"
