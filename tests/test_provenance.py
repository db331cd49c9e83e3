"""``lineage provenance``: C2PA fixtures signed here, consistent and inconsistent lineages."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest
from PIL import Image

from lineage.cli.main import main
from lineage.importing.records import SourcedRecord
from lineage.rights.provenance import read_provenance
from lineage.stores.sqlite import SQLiteStore

from .c2pa_signing import GENERATOR, LocalSigner


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("c2pa")
    signer = LocalSigner.generate()
    parent, child, other = folder / "parent.jpg", folder / "child.jpg", folder / "other.jpg"
    labels = {
        "parent": signer.sign(parent, "red"),
        "child": signer.sign(child, "blue", parent=parent),
        "other": signer.sign(other, "green"),
    }
    plain = folder / "plain.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "JPEG")
    plain.write_bytes(buffer.getvalue())
    return {"labels": labels, "parent": parent, "child": child, "other": other, "plain": plain}


def test_reads_the_manifest_store(signed: dict[str, object]) -> None:
    labels = signed["labels"]
    assert isinstance(labels, dict)
    provenance = read_provenance(str(signed["child"]))
    assert provenance is not None
    assert provenance.active_manifest == labels["child"]
    assert GENERATOR in provenance.claim_generator
    assert provenance.validation_state in {"Valid", "Trusted"}
    assert [(p.title, p.manifest) for p in provenance.parents] == [("parent.jpg", labels["parent"])]
    original = read_provenance(str(signed["parent"]))
    assert original is not None
    assert original.parents == []
    assert read_provenance(str(signed["plain"])) is None


def _store(tmp_path: Path, labels: dict[str, str], parent_of_child: str) -> Path:
    db = tmp_path / "lineage.db"
    store = SQLiteStore(db)
    records = [
        {"id": "p", "prompt": "a red square", "c2pa_manifest": labels["parent"]},
        {"id": "o", "prompt": "a green square", "c2pa_manifest": labels["other"]},
        {
            "id": "c",
            "prompt": "a blue square",
            "parent_id": parent_of_child,
            "c2pa_manifest": labels["child"],
        },
    ]
    report = store.import_videos(SourcedRecord(r, "t", n) for n, r in enumerate(records, 1))
    assert report.rejected == []
    store.close()
    return db


def test_check_consistent(
    signed: dict[str, object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = signed["labels"]
    assert isinstance(labels, dict)
    db = _store(tmp_path, labels, "p")
    assert main(["provenance", str(signed["child"]), "--check", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"active manifest: {labels['child']}" in out
    assert f"parentOf: parent.jpg manifest {labels['parent']}" in out
    assert "consistent: c's stored parent p" in out
    # An original whose file names no parent is consistent too.
    assert main(["provenance", str(signed["parent"]), "--check", "--db", str(db)]) == 0


def test_check_inconsistent(
    signed: dict[str, object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = signed["labels"]
    assert isinstance(labels, dict)
    db = _store(tmp_path, labels, "o")  # stored under the wrong parent
    assert main(["provenance", str(signed["child"]), "--check", "--db", str(db)]) == 1
    out = capsys.readouterr().out
    assert "inconsistent" in out
    assert labels["other"] in out
    assert labels["parent"] in out


def test_no_manifest_or_unknown_video_exits_2(
    signed: dict[str, object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "empty.db"
    SQLiteStore(db).close()
    assert main(["provenance", str(signed["plain"]), "--check", "--db", str(db)]) == 2
    assert "no C2PA manifest" in capsys.readouterr().err
    assert main(["provenance", str(signed["child"]), "--check", "--db", str(db)]) == 2
    assert "no stored video" in capsys.readouterr().err
    assert main(["provenance", str(tmp_path / "missing.jpg")]) == 2


def test_manifest_label_round_trips_through_export(
    signed: dict[str, object], tmp_path: Path
) -> None:
    labels = signed["labels"]
    assert isinstance(labels, dict)
    db = _store(tmp_path, labels, "p")
    out = tmp_path / "export.jsonl"
    assert main(["export", "--db", str(db), "-o", str(out)]) == 0
    lines = {r["id"]: r for r in map(orjson.loads, out.read_bytes().splitlines())}
    assert lines["c"]["c2pa_manifest"] == labels["child"]
    again = tmp_path / "again.db"
    assert main(["import", str(out), "--db", str(again)]) == 0
    store = SQLiteStore(again)
    assert store.find_by_manifest(labels["child"]) == ["c"]
    store.close()
