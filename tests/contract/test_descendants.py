"""``descendants``: every derivative in keyset pages, against brute force, on both stores.

Random forests are imported in parts (so new subtrees attach to stored
parents, whose closure rows come from the store), then every video's
derivatives are walked page by page with ``after`` cursors, whole and one
generation at a time, and compared with networkx; ``lineage check`` verifies
the closure, and finds a row that drifted.
"""

from __future__ import annotations

import random

import pytest

from lineage.errors import InvalidInput, LimitExceeded, VideoNotFound
from lineage.importing.records import SourcedRecord
from lineage.store import LineageStore
from lineage.stores.sqlite import SQLiteStore
from lineage.tree.check import check_store
from lineage.tree.descendants import descendant_page

from ..conftest import StoreFactory
from ..forests import Record, Reference, Shape, build_forest, random_topological_order


def _import(store: LineageStore, records: list[Record]) -> None:
    report = store.import_videos(SourcedRecord(r, "test", n) for n, r in enumerate(records, 1))
    assert not report.rejected, report.rejected


def _walk(
    store: LineageStore, video_id: str, original: bool, size: int, generation: int | None = None
) -> list[tuple[int, str]]:
    """Every page of a video's derivatives, each after the last one's key (store reads)."""
    seen: list[tuple[int, str]] = []
    after = None
    while True:
        page = store.descendant_page(video_id, original, size, after, generation)
        seen += [(video.generation, video.id) for video in page]
        if len(page) < size:
            return seen
        after = seen[-1]


def _expected(reference: Reference, video_id: str) -> list[tuple[int, str]]:
    base = reference.generation(video_id)
    return sorted(
        (base + distance, node)
        for node, distance in _distances(reference, video_id).items()
        if node != video_id
    )


def _distances(reference: Reference, video_id: str) -> dict[str, int]:
    import networkx as nx

    return dict(nx.single_source_shortest_path_length(reference.tree, video_id))


def test_descendant_pages_equal_brute_force(make_store: StoreFactory) -> None:
    seed = 3
    rng = random.Random(seed)
    records = build_forest(
        [Shape("tree", 70), Shape("chain", 12), Shape("star", 15), Shape("pairs", 20)], seed
    )
    ordered = random_topological_order(records, rng)
    store = make_store()
    cut = rng.randrange(len(ordered) // 3, 2 * len(ordered) // 3)
    for part in (ordered[:cut], ordered[cut:]):  # the second part attaches to stored videos
        _import(store, part)
    reference = Reference(records)
    assert check_store(store) == []

    with_derivatives = [r["id"] for r in records if reference.derivative_count(r["id"])]
    # Reads cost a round trip on Neo4j: a sample of videos, pages of a few items.
    sample = rng.sample(with_derivatives, min(8, len(with_derivatives)))
    sample += [r["id"] for r in records if r["parent_id"] is None]  # every original
    for video_id in sample:
        expected = _expected(reference, video_id)
        original = reference.generation(video_id) == 0
        size = rng.randint(3, 12)
        assert _walk(store, video_id, original, size) == expected, (video_id, size)
        level = rng.choice(sorted({level for level, _ in expected}))
        only = [key for key in expected if key[0] == level]
        assert _walk(store, video_id, original, rng.randint(2, 6), level) == only, video_id
    leaf = next(r["id"] for r in records if not reference.derivative_count(r["id"]))
    assert descendant_page(store, leaf, 5) == []


def test_a_cursor_stays_put_while_remixes_arrive(store: LineageStore) -> None:
    prompt = "A grandmother chases a crocodile out of the yard"
    records: list[Record] = [{"id": "o", "prompt": prompt}]
    records += [{"id": f"a{n}", "parent_id": "o", "prompt": f"{prompt} {n}"} for n in range(4)]
    records += [{"id": f"a1-{n}", "parent_id": "a1", "prompt": f"{prompt} x{n}"} for n in (2, 5)]
    records += [{"id": "a1-5-1", "parent_id": "a1-5", "prompt": f"{prompt} y"}]
    _import(store, records)
    for root, before in (("o", ("o", "a0x")), ("a1", ("a1", "a1-0x"))):
        first = descendant_page(store, root, 2)
        after = (first[-1].generation, first[-1].id)
        # Remixes on both sides of the cursor: before it (never shown), after it (shown once).
        _import(
            store,
            [
                {"id": before[1], "parent_id": before[0], "prompt": f"{prompt} {root} b"},
                {"id": f"{root}-new-0", "parent_id": "a1", "prompt": f"{prompt} {root} 0"},
                {"id": f"{root}-new-z", "parent_id": "a1-5-1", "prompt": f"{prompt} {root} z"},
                {"id": f"a0-{root}", "parent_id": "a0", "prompt": f"{prompt} {root} 1"},
            ],
        )
        rest = _walk_from(store, root, after)
        whole = [(v.generation, v.id) for v in descendant_page(store, root, 100)]
        assert rest == [key for key in whole if key > after]
        assert {f"{root}-new-0", f"{root}-new-z"} <= {video_id for _, video_id in rest}
        hidden = next(key for key in whole if key[1] == before[1])
        assert hidden < after
        assert hidden not in rest
    assert check_store(store) == []


def _walk_from(store: LineageStore, video_id: str, after: tuple[int, str]) -> list[tuple[int, str]]:
    seen: list[tuple[int, str]] = []
    while page := descendant_page(store, video_id, 3, after):
        seen += [(video.generation, video.id) for video in page]
        after = seen[-1]
    return seen


def test_arguments_are_checked(store: LineageStore) -> None:
    _import(
        store,
        [
            {"id": "o", "prompt": "a grandmother and a crocodile"},
            {"id": "r", "parent_id": "o", "prompt": "a grandmother and a hippo"},
            {"id": "rr", "parent_id": "r", "prompt": "a grandmother and a baby hippo"},
        ],
    )
    with pytest.raises(InvalidInput, match="generation"):
        descendant_page(store, "o", 5, None, -1)
    with pytest.raises(LimitExceeded, match="first"):
        descendant_page(store, "o", 101)
    with pytest.raises(VideoNotFound, match="nope"):
        descendant_page(store, "nope", 5)
    assert descendant_page(store, "r", 5, None, 1) == []  # its own generation
    assert descendant_page(store, "r", 5, None, 0) == []
    assert [v.id for v in descendant_page(store, "r", 5, None, 2)] == ["rr"]
    assert [v.id for v in descendant_page(store, "o", 5, (1, "r"))] == ["rr"]
    assert descendant_page(store, "o", 5, (2, "rr")) == []
    assert descendant_page(store, "o", 5, (3, ""), 2) == []  # cursor past the generation
    # A key of generation 0 (the original's own) comes before every derivative.
    assert [v.id for v in descendant_page(store, "o", 5, (0, ""))] == ["r", "rr"]


def _drift(store: LineageStore, statement: str) -> None:
    if isinstance(store, SQLiteStore):
        store._conn().execute(statement)
    else:
        store._driver.execute_query(statement, database_=store.database)  # type: ignore[attr-defined]


def test_check_finds_closure_rows_that_drifted(store: LineageStore) -> None:
    _import(
        store,
        [
            {"id": "o", "prompt": "a grandmother and a crocodile"},
            {"id": "r", "parent_id": "o", "prompt": "a grandmother and a hippo"},
            {"id": "rr", "parent_id": "r", "prompt": "a grandmother and a baby hippo"},
            {"id": "s", "parent_id": "o", "prompt": "a grandmother and a tank"},
        ],
    )
    assert check_store(store) == []
    sqlite = isinstance(store, SQLiteStore)
    _drift(
        store,
        "DELETE FROM descendant_closure" if sqlite else "MATCH (d:Descent) DELETE d",
    )
    _drift(
        store,
        "INSERT INTO descendant_closure VALUES ('s', 2, 'rr')"
        if sqlite
        else "CREATE (:Descent {ancestor_id: 's', generation: 2, descendant_id: 'rr'})",
    )
    found = {(m.video_id, m.aggregate) for m in check_store(store)}
    assert found == {
        ("s", "descendant_closure['rr']"),
        ("rr", "descendant_closure (rows naming it)"),
    }


def test_an_old_sqlite_file_gets_its_closure_when_opened(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "old.db"
    store = SQLiteStore(path)
    records = build_forest([Shape("tree", 60), Shape("chain", 8)], 5)
    _import(store, records)
    expected = sorted(store.iter_closure_rows())
    assert len(expected) > 10
    connection = store._conn()
    connection.execute("DELETE FROM descendant_closure")
    connection.execute("DELETE FROM store_meta WHERE key = 'descendant_closure_version'")
    store.close()
    reopened = SQLiteStore(path)
    try:
        assert sorted(reopened.iter_closure_rows()) == expected
        assert check_store(reopened) == []
    finally:
        reopened.close()


def test_a_page_is_one_index_range_on_sqlite(tmp_path: object) -> None:
    from pathlib import Path

    from lineage.stores.sqlite.descendants import descendant_page_query
    from lineage.stores.sqlite.reads import RECORD_COLUMNS

    store = SQLiteStore(Path(str(tmp_path)) / "plan.db")
    try:
        _import(store, build_forest([Shape("tree", 40)], 2))
        connection = store._conn()
        connection.execute("ANALYZE")
        for original in (True, False):
            for after, generation in ((None, None), ((2, "c0-9"), None), ((2, "c0-9"), 2)):
                query = descendant_page_query(
                    RECORD_COLUMNS, "c0-1", original, 20, after, generation
                )
                assert query is not None
                plan = " | ".join(
                    row[3] for row in connection.execute("EXPLAIN QUERY PLAN " + query[0], query[1])
                )
                index = "videos_by_original_generation" if original else "PRIMARY KEY"
                assert f"USING INDEX {index}" in plan or f"USING {index}" in plan, plan
                # The range starts at the cursor (not at the start of the video's entries).
                if after is not None and generation is None:
                    assert "(generation,id)>(?,?)" in plan or "descendant_id)>(?,?)" in plan, plan
                elif after is not None:
                    assert "id>?" in plan, plan
                assert "TEMP B-TREE" not in plan, plan
                assert "SCAN" not in plan, plan
    finally:
        store.close()
