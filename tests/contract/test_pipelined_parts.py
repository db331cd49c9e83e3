"""A lineage larger than a transaction on Neo4j: its parts are pipelined.

The next part is planned in this process (from the dry run, not read back from
the server) while the writer thread has the part before it open in its
transaction; observed through the store's part observer, never by timing.
Each commit leaves ``lineage check`` clean, and another writer into the tree
between two parts (a remix of a video of an earlier part, an id of a later
part created first) leaves the store as both writes in turn would.
"""

from __future__ import annotations

import json
import random
import threading
from pathlib import Path

import pytest

from lineage.demo.synthetic import synthetic_forest
from lineage.importing.records import SourcedRecord
from lineage.importing.validation import validated
from lineage.stores.neo4j import Neo4jStore
from lineage.stores.neo4j.writes import _parents_first_parts
from lineage.stores.sqlite import SQLiteStore
from lineage.tree.check import check_store

from ..conftest import StoreFactory, open_neo4j_store
from ..lineage_snapshot import snapshot
from ..neo4j_server import Neo4jServer

pytestmark = pytest.mark.neo4j

# Long enough for a loaded machine; the pipelined import never waits for it.
_OVERLAP_WAIT_S = 120


def _lineage(size: int) -> list[SourcedRecord]:
    records = list(synthetic_forest(size, seed=7, originals=1))
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    random.Random(5).shuffle(lines)
    return [SourcedRecord(line, "in.jsonl", n) for n, line in enumerate(lines, 1)]


@pytest.mark.parametrize("backend", [pytest.param("neo4j", marks=pytest.mark.neo4j)])
def test_the_next_part_is_planned_while_the_last_is_written(make_store: StoreFactory) -> None:
    store = make_store()
    assert isinstance(store, Neo4jStore)
    store.group_size = 600  # three workers: parts of 200 records
    records = _lineage(1500)
    last = len(list(_parents_first_parts(validated(records), 200))) - 1
    events: list[tuple[str, int]] = []
    planned: dict[int, threading.Event] = {}
    overlapped: list[int] = []
    lock = threading.Lock()

    def observe(event: str, number: int, size: int) -> None:
        with lock:
            events.append((event, number))
            if event == "planned":
                planned.setdefault(number, threading.Event()).set()
        if event == "written" and number < last:
            # Part ``number`` is written, not committed: the next one must be
            # planned meanwhile, without this thread's help.
            with lock:
                following = planned.setdefault(number + 1, threading.Event())
            if following.wait(_OVERLAP_WAIT_S):
                overlapped.append(number)
            else:
                pytest.fail(f"part {number + 1} was not planned while part {number} was written")
        if event == "committed":
            # Every commit leaves the store exact.
            assert check_store(store) == []

    store.part_observer = observe
    report = store.import_videos(records)
    assert report.added == 1500
    assert not report.rejected
    written = [number for event, number in events if event == "written"]
    assert written == list(range(last + 1))
    assert last >= 5
    # Every part but the last overlapped the planning of the next.
    assert overlapped == written[:-1]
    # The queue is bounded: a part is planned only once the one two before it is written.
    for at, (event, number) in enumerate(events):
        if event == "planned" and number >= 3:
            assert ("written", number - 3) in events[:at]
    assert check_store(store) == []


@pytest.mark.parametrize("backend", [pytest.param("neo4j", marks=pytest.mark.neo4j)])
def test_another_writer_between_parts_leaves_the_store_exact(
    make_store: StoreFactory, neo4j: Neo4jServer, tmp_path: Path
) -> None:
    """Between two parts, another writer remixes a video of the first part and creates
    a video of the last part itself: the import's later parts add to the counts it
    changed, the stolen id makes its part plan again, and the store equals SQLite's
    after the other writer's records and the input."""
    store = make_store()
    assert isinstance(store, Neo4jStore)
    store.group_size = 600
    other = open_neo4j_store(neo4j)
    records = _lineage(1500)
    parts = list(_parents_first_parts(validated(records), 200))
    first_ids = {record.data.id for record in parts[0]}  # type: ignore[union-attr]
    # A record of the last part whose parent is in the first part.
    stolen = next(
        record
        for record in parts[-1]
        if record.data.parent_id in first_ids  # type: ignore[union-attr]
    )
    foreign = [
        SourcedRecord(
            {
                "id": "foreign-remix",
                "prompt": "a foreign remix",
                "parent_id": stolen.data.parent_id,  # type: ignore[union-attr]
            },
            "other",
            1,
        ),
        SourcedRecord(stolen.data.model_dump(mode="json"), "other", 2),  # type: ignore[union-attr]
    ]

    committed: list[int] = []

    def observe(event: str, number: int, size: int) -> None:
        if event == "committed":
            committed.append(number)
        if event == "committed" and number == 0:
            assert other.import_videos(foreign).added == 2

    store.part_observer = observe
    report = store.import_videos(records)
    assert (report.added, report.unchanged) == (1499, 1)
    # The stolen id's part was rolled back: it and the parts after it were planned again.
    assert len(parts) - 1 not in committed
    assert not report.rejected
    reference = SQLiteStore(tmp_path / "reference.db")
    reference.import_videos(records)
    reference.import_videos(foreign)
    assert snapshot(store) == snapshot(reference)
    assert check_store(store) == []
    reference.close()
    other.close()
