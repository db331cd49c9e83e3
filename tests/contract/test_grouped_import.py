"""Large imports on Neo4j are written one group of whole subtrees per transaction.

Splitting must not change any answer: the same input gives the same report
(every line counted once, rejections in input order) and the same store as
one SQLite transaction does.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from lineage.demo.synthetic import synthetic_forest
from lineage.importing.planner import split_by_lineage
from lineage.importing.records import ImportReport, SourcedRecord
from lineage.store import LineageStore
from lineage.stores.sqlite import SQLiteStore
from lineage.tree.check import check_store

from ..conftest import StoreFactory
from ..forests import Shape, build_forest
from ..lineage_snapshot import snapshot


def _ids(groups: list[list[SourcedRecord]]) -> list[list[str]]:
    return [[r.data["id"] if isinstance(r.data, dict) else "?" for r in group] for group in groups]


def _records(rows: list[dict[str, object] | str]) -> list[SourcedRecord]:
    return [SourcedRecord(row, "in.jsonl", n) for n, row in enumerate(rows, 1)]


def test_split_keeps_connected_records_together() -> None:
    records = _records(
        [
            {"id": "a", "prompt": "p"},
            {"id": "x1", "prompt": "p", "parent_id": "stored"},
            {"id": "a2", "prompt": "p", "parent_id": "a1"},
            {"id": "a1", "prompt": "p", "parent_id": "a"},
            {"id": "b", "prompt": "p"},
            {"id": "x2", "prompt": "p", "parent_id": "stored"},
        ]
    )
    groups = split_by_lineage(records, 2)
    # a's subtree stays whole beyond the group size; two remixes of one
    # stored parent share it too.
    assert _ids(groups) == [["a", "a2", "a1"], ["x1", "x2"], ["b"]]


def test_split_sends_records_without_a_readable_id_to_the_first_group() -> None:
    records = _records(
        ["{not json", {"id": "a", "prompt": "p"}, {"id": 7, "prompt": "p"}, "[1, 2]"]
    )
    groups = split_by_lineage(records, 1)
    assert [r.line for r in groups[0]] == [1, 3, 4]
    assert _ids(groups[1:]) == [["a"]]


def test_split_keeps_an_invalid_record_with_its_remixes() -> None:
    # The planner rejects b and then its remix for that reason: both must
    # be planned together.
    records = _records(
        [
            {"id": "a", "prompt": "p"},
            {"id": "b1", "prompt": "p", "parent_id": "b"},
            {"id": "b", "prompt": ""},
        ]
    )
    assert _ids(split_by_lineage(records, 1)) == [["a"], ["b1", "b"]]


def test_split_of_a_repeated_id_keeps_both_lines_together() -> None:
    records = _records(
        [{"id": "a", "prompt": "p"}, {"id": "b", "prompt": "p"}, {"id": "a", "prompt": "q"}]
    )
    assert _ids(split_by_lineage(records, 1)) == [["a", "a"], ["b"]]


def _mixed_input() -> list[str]:
    records = build_forest([Shape("tree", 40), Shape("chain", 12), Shape("star", 30)], seed=8)
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    random.Random(2).shuffle(lines)
    bad = [
        "{not json",
        json.dumps({"id": "orphan", "prompt": "p", "parent_id": "missing"}),
        json.dumps({"id": "empty", "prompt": " "}),
        # a remix of an invalid record: rejected because its parent was
        json.dumps({"id": "empty-remix", "prompt": "p", "parent_id": "empty"}),
        lines[5],  # a repeated line: unchanged
        json.dumps({**json.loads(lines[7]), "prompt": "changed prompt"}),  # a conflict
    ]
    for offset, line in enumerate(bad):
        lines.insert(10 + 17 * offset, line)
    return lines


def _import_equals_one_sqlite_transaction(
    store: LineageStore, group_size: int, lines: list[str], tmp_path: Path
) -> ImportReport:
    """Import ``lines`` into ``store`` with ``group_size`` and into SQLite (one
    transaction): the counts, the rejections and the stores must be the same.
    Returns SQLite's report."""
    reference = SQLiteStore(tmp_path / "reference.db")
    expected = reference.import_videos(_records(list(lines)))
    store.group_size = group_size  # type: ignore[attr-defined]
    report = store.import_videos(_records(list(lines)))
    assert (report.added, report.updated, report.unchanged) == (
        expected.added,
        expected.updated,
        expected.unchanged,
    )
    assert [(r.line, r.code, r.reason) for r in report.rejected] == [
        (r.line, r.code, r.reason) for r in expected.rejected
    ]
    assert snapshot(store) == snapshot(reference)
    reference.close()
    return expected


@pytest.mark.neo4j
@pytest.mark.parametrize("backend", [pytest.param("neo4j", marks=pytest.mark.neo4j)])
@pytest.mark.parametrize("group_size", [1, 7, 50])
def test_grouped_import_equals_one_transaction(
    make_store: StoreFactory, tmp_path: Path, group_size: int
) -> None:
    lines = _mixed_input()
    expected = _import_equals_one_sqlite_transaction(make_store(), group_size, lines, tmp_path)
    assert expected.rejected, "the input must exercise rejections"


@pytest.mark.parametrize("backend", [pytest.param("neo4j", marks=pytest.mark.neo4j)])
@pytest.mark.parametrize("group_size", [5, 40])
def test_a_tree_larger_than_a_transaction_is_written_in_exact_parts(
    make_store: StoreFactory, tmp_path: Path, group_size: int
) -> None:
    """One connected input above the group size: a dry run, then parents-first parts."""
    records = build_forest([Shape("tree", 150), Shape("chain", 30)], seed=12)
    # Attach the chain under the tree, so the input is one lineage.
    records[150] = {**records[150], "parent_id": records[3]["id"]}
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    random.Random(4).shuffle(lines)
    lines.insert(20, lines[30])  # a repeated line
    lines.insert(60, json.dumps({"id": "loop-a", "prompt": "p", "parent_id": "loop-b"}))
    lines.insert(61, json.dumps({"id": "loop-b", "prompt": "p", "parent_id": "loop-a"}))
    changed = {**json.loads(lines[90]), "prompt": "another prompt"}
    lines.insert(95, json.dumps(changed))  # a conflicting repeat
    expected = _import_equals_one_sqlite_transaction(make_store(), group_size, lines, tmp_path)
    assert len(expected.rejected) == 3  # the two-video cycle and the conflict


@pytest.mark.parametrize("backend", [pytest.param("neo4j", marks=pytest.mark.neo4j)])
@pytest.mark.parametrize("pipeline", [True, False], ids=["pipelined", "one-by-one"])
def test_a_deep_single_lineage_in_many_parts_equals_one_transaction(
    make_store: StoreFactory, tmp_path: Path, pipeline: bool
) -> None:
    """One 3,000-video lineage (the import benchmark's shape: deep paths, a dense
    original, hours and variant groups) written in about 15 parts, pipelined or each
    planned against the store: the same store as one SQLite transaction, and
    ``lineage check`` clean."""
    records = list(synthetic_forest(3000, seed=7, originals=1))
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    random.Random(5).shuffle(lines)
    store = make_store()
    store.pipeline_parts = pipeline  # type: ignore[attr-defined]
    parts: list[int] = []
    if pipeline:
        # Parts planned from the dry run are written by one statement each.
        def observe(event: str, number: int, size: int) -> None:
            if event == "written":
                parts.append(size)

        store.part_observer = observe  # type: ignore[attr-defined]
    else:
        real = store._import_in_one_transaction  # type: ignore[attr-defined]

        def counted(part: list[SourcedRecord], **kwargs: object) -> object:
            parts.append(len(part))
            return real(part, **kwargs)

        store._import_in_one_transaction = counted  # type: ignore[attr-defined]
    # Three import workers: parts of 200 records.
    expected = _import_equals_one_sqlite_transaction(store, 600, lines, tmp_path)
    assert expected.added == 3000
    assert not expected.rejected
    assert len(parts) >= 10
    assert sum(parts) == 3000
    assert sum(1 for _ in store.iter_remix_hours()) > 1000  # buckets were written
    assert check_store(store) == []
