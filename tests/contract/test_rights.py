"""Rights on every backend: takedowns, attribution and downstream views against brute force.

Random forests (tests/forests.py) get random takedowns and restores, random
views and re-imports with changed views; after every step the store's
maintained values must equal a count over the networkx reference, and
``lineage check`` must find nothing.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import orjson
import pytest

from lineage.errors import InvalidInput, VideoNotFound
from lineage.export.jsonl import iter_jsonl_lines
from lineage.importing.records import SourcedRecord
from lineage.rights import policy as rights
from lineage.rights.policy import AttributionPolicy
from lineage.store import LineageStore
from lineage.tree.check import check_store

from ..conftest import StoreFactory
from ..forests import Record, Reference, Shape, build_forest, random_topological_order

FOREST = build_forest(
    [Shape("chain", 12), Shape("star", 15), Shape("tree", 60), Shape("pairs", 9)], seed=13
)


def _import(store: LineageStore, records: list[Record]) -> None:
    report = store.import_videos(SourcedRecord(r, "test", n) for n, r in enumerate(records, 1))
    assert report.rejected == []


def _assert_rights_exact(store: LineageStore, reference: Reference, removed: set[str]) -> None:
    ids = list(reference.records)
    held = store.video_rights(ids)
    derived = store.derived_from_removed(ids)
    for video_id in ids:
        expected_count = len(_descendants(reference, video_id) & removed)
        state = held.get(video_id, rights.DEFAULT_RIGHTS)
        assert state.removed_derivative_count == expected_count, video_id
        assert state.is_removed == (video_id in removed), video_id
        assert derived[video_id] == any(a in removed for a in reference.ancestors(video_id))
    assert check_store(store) == []


def _descendants(reference: Reference, video_id: str) -> set[str]:
    import networkx as nx

    return set(nx.descendants(reference.tree, video_id))


def test_random_takedowns_and_restores_keep_every_count_exact(
    make_store: StoreFactory,
) -> None:
    store = make_store()
    _import(store, FOREST)
    reference = Reference(FOREST)
    before = sorted(map(repr, store.iter_lineage_rows()))
    rng = random.Random(7)
    ids = sorted(reference.records)
    removed: set[str] = set()
    for step in range(40):
        video_id = rng.choice(ids)
        if video_id in removed and rng.random() < 0.6:
            change = rights.restore(store, video_id, "tester")
            removed.discard(video_id)
            assert change.changed
        else:
            change = rights.takedown(store, video_id, f"notice {step}", "tester")
            assert change.changed == (video_id not in removed)
            removed.add(video_id)
        if step % 8 == 7:
            _assert_rights_exact(store, reference, removed)
    _assert_rights_exact(store, reference, removed)
    # A tombstone keeps the tree whole: no lineage count moved.
    assert sorted(map(repr, store.iter_lineage_rows())) == before


def test_takedown_is_idempotent_and_logged_with_its_actor(store: LineageStore) -> None:
    _import(store, FOREST)
    video_id = "c2-3"
    first = rights.takedown(store, video_id, "DMCA 1", "alice")
    again = rights.takedown(store, video_id, "DMCA 2", "bob")
    assert first.changed
    assert not again.changed
    state = store.video_rights([video_id])[video_id]
    assert (state.status, state.removed_reason, state.removed_by) == ("REMOVED", "DMCA 1", "alice")
    assert state.removed_at is not None
    rights.restore(store, video_id, "carol")
    assert not rights.restore(store, video_id, "carol").changed
    log = store.rights_log(video_id)
    assert [(action, actor, reason) for _, action, actor, reason in log] == [
        ("takedown", "alice", "DMCA 1"),
        ("restore", "carol", None),
    ]
    with pytest.raises(VideoNotFound):
        rights.takedown(store, "no-such-video", "x", "alice")
    with pytest.raises(InvalidInput):
        rights.takedown(store, video_id, "   ", "alice")
    assert check_store(store) == []


def test_removed_video_cannot_be_remixed_by_import(store: LineageStore) -> None:
    _import(store, FOREST)
    rights.takedown(store, "c0-3", "court order", "tester")
    snapshot = sorted(map(repr, store.iter_lineage_rows()))
    report = store.import_videos(
        [
            SourcedRecord({"id": "new-1", "prompt": "a remix", "parent_id": "c0-3"}, "in", 1),
            SourcedRecord({"id": "new-2", "prompt": "its remix", "parent_id": "new-1"}, "in", 2),
            SourcedRecord({"id": "fine", "prompt": "ok", "parent_id": "c0-2"}, "in", 3),
        ]
    )
    assert report.added == 1
    codes = {r.video_id: (r.code, r.reason) for r in report.rejected}
    assert codes["new-1"][0] == "FORBIDDEN"
    assert "'c0-3'" in codes["new-1"][1]
    assert "REMOVED" in codes["new-1"][1]
    assert codes["new-2"][0] == "INVALID_INPUT"
    assert "'new-1'" in codes["new-2"][1]
    assert store.get_video("new-1") is None
    assert store.get_video("new-2") is None
    assert len(snapshot) + 1 == store.count_videos()
    assert check_store(store) == []


def test_status_change_by_import_is_refused(store: LineageStore) -> None:
    _import(store, FOREST)
    rights.takedown(store, "c1-0", "notice", "tester")
    line = dict(next(r for r in FOREST if r["id"] == "c1-0"))
    line["views"] += 1  # an update that must not happen either
    report = store.import_videos([SourcedRecord(line, "in", 1)])
    assert [r.code for r in report.rejected] == ["CONFLICT"]
    assert "REMOVED" in report.rejected[0].reason
    assert report.updated == 0
    assert report.unchanged == 0
    video = store.get_video("c1-0")
    assert video is not None
    assert video.views == line["views"] - 1
    assert check_store(store) == []


def test_export_and_import_round_trip_with_takedowns(make_store: StoreFactory) -> None:
    first = make_store()
    _import(first, FOREST)
    rng = random.Random(3)
    for video_id in rng.sample(sorted(r["id"] for r in FOREST), 12):
        rights.takedown(first, video_id, f"reason for {video_id}", "tester")
    lines = list(iter_jsonl_lines(first))
    exported = [orjson.loads(line) for line in lines]
    assert {e["status"] for e in exported} == {"ACTIVE", "REMOVED"}
    removed = [e for e in exported if e["status"] == "REMOVED"]
    assert all(e["removed_reason"] and e["removed_at"] for e in removed)
    rights_before = first.video_rights([e["id"] for e in exported])

    second = make_store()
    shuffled = list(lines)
    rng.shuffle(shuffled)  # remixes of removed videos before their parents too
    report = second.import_videos(
        SourcedRecord(line, "export", n) for n, line in enumerate(shuffled, 1)
    )
    assert report.rejected == []
    assert report.added == len(lines)
    assert check_store(second) == []
    after = second.video_rights([e["id"] for e in exported])
    for video_id, state in rights_before.items():
        other = after.get(video_id, rights.DEFAULT_RIGHTS)
        assert (other.status, other.removed_reason, other.removed_at) == (
            state.status,
            state.removed_reason,
            state.removed_at,
        )
        assert other.removed_derivative_count == state.removed_derivative_count
    # Importing the same export again changes nothing.
    again = second.import_videos(
        SourcedRecord(line, "export", n) for n, line in enumerate(lines, 1)
    )
    assert again.unchanged == len(lines)
    assert again.rejected == []


# -- attribution and downstream views ------------------------------------------------------
def _brute_downstream(
    reference: Reference,
    views: dict[str, int],
    video_id: str,
    policy: AttributionPolicy,
    rate: float,
) -> float:
    base = reference.generation(video_id)
    total = 0.0
    for other in _descendants(reference, video_id):
        if policy is AttributionPolicy.RELATIVE:
            total += views[other] * rate ** (reference.generation(other) - base)
        else:
            total += rate * views[other]
    return total


def _assert_views_exact(store: LineageStore, reference: Reference, views: dict[str, int]) -> None:
    totals = store.generation_views_many(list(reference.records))
    for video_id in reference.records:
        expected: dict[int, int] = {}
        for other in _descendants(reference, video_id):
            level = reference.generation(other)
            expected[level] = expected.get(level, 0) + views[other]
        assert {g: v for g, v in totals[video_id] if v} == {g: v for g, v in expected.items() if v}
        for policy, rate in (
            (AttributionPolicy.RELATIVE, 0.1),
            (AttributionPolicy.RELATIVE, 0.5),
            (AttributionPolicy.ABSOLUTE, 0.05),
        ):
            got = rights.downstream_views(store, video_id, policy, rate)
            assert got == pytest.approx(_brute_downstream(reference, views, video_id, policy, rate))
    assert check_store(store) == []


def test_downstream_views_exact_at_every_commit(make_store: StoreFactory) -> None:
    store = make_store()
    rng = random.Random(11)
    records = [dict(r) for r in FOREST]
    ordered = random_topological_order(records, rng)
    # Three imports, each attaching to what the ones before stored.
    cut1, cut2 = len(ordered) // 3, 2 * len(ordered) // 3
    views = {r["id"]: r["views"] for r in records}
    for part in (ordered[:cut1], ordered[cut1:cut2], ordered[cut2:]):
        shuffled = list(part)
        rng.shuffle(shuffled)
        _import(store, shuffled)
        stored_ids = {r["id"] for r in ordered[: ordered.index(part[-1]) + 1]}
        _assert_views_exact(store, Reference([r for r in records if r["id"] in stored_ids]), views)
    reference = Reference(records)
    # Re-imports with changed views (and some lines unchanged, some repeated).
    for _ in range(3):
        changed = rng.sample(records, 25)
        lines = []
        for record in changed:
            record["views"] = rng.randrange(5000)
            views[record["id"]] = record["views"]
            lines.append(dict(record))
        lines += [dict(r) for r in rng.sample(records, 10)]
        rng.shuffle(lines)
        report = store.import_videos(SourcedRecord(r, "views", n) for n, r in enumerate(lines, 1))
        assert report.rejected == []
        _assert_views_exact(store, reference, views)


def test_attribution_shares(store: LineageStore) -> None:
    _import(store, FOREST)
    reference = Reference(FOREST)
    deep = max(reference.records, key=reference.generation)
    generation = reference.generation(deep)
    shares = rights.attribution(store, deep, AttributionPolicy.RELATIVE, 0.5)
    assert [s.video.id for s in shares] == reference.ancestors(deep)
    assert [s.share for s in shares] == pytest.approx([0.5**k for k in range(1, generation + 1)])
    absolute = rights.attribution(store, deep, AttributionPolicy.ABSOLUTE, 1 / generation)
    assert [s.share for s in absolute] == pytest.approx([1 / generation] * generation)
    with pytest.raises(InvalidInput, match="more than all"):
        rights.attribution(store, deep, AttributionPolicy.ABSOLUTE, 1.01 / generation)
    with pytest.raises(InvalidInput):
        rights.attribution(store, deep, AttributionPolicy.RELATIVE, 1.5)
    original = reference.original_id(deep)
    assert rights.attribution(store, original) == []


# -- OpenAI video objects ----------------------------------------------------------------------
def _openai(
    video_id: str, prompt: str | None, parent: str | None, status: str = "completed"
) -> bytes:
    return orjson.dumps(
        {
            "id": video_id,
            "object": "video",
            "model": "sora-2",
            "status": status,
            "progress": 100,
            "created_at": 1_712_698_600,
            "size": "720x1280",
            "seconds": "8",
            "remixed_from_video_id": parent,
            "prompt": prompt,
            "completed_at": 1_712_698_700,
            "expires_at": None,
            "error": None,
        }
    )


def test_openai_video_objects_mixed_with_ours_children_first(store: LineageStore) -> None:
    lines = [
        _openai("video_3", "the cat takes a second bow", "video_2"),  # grandchild first
        orjson.dumps({"id": "ours-1", "prompt": "the cat bows on stage", "parent_id": "video_1"}),
        _openai("video_2", "the cat takes a bow", "video_1"),
        _openai("video_9", "never finished", "video_1", status="failed"),
        _openai("video_8", None, "video_1"),
        _openai("video_1", "a cat on stage", None),
        _openai("video_7", "still going", "video_9", status="in_progress"),
    ]
    report = store.import_videos(
        SourcedRecord(line, "mixed.jsonl", n) for n, line in enumerate(lines, 1)
    )
    assert report.added == 4
    reasons = {r.video_id: r.reason for r in report.rejected}
    assert "'failed'" in reasons["video_9"]
    assert "no prompt" in reasons["video_8"]
    assert "'in_progress'" in reasons["video_7"]
    child = store.get_video("video_3")
    assert child is not None
    assert child.parent_id == "video_2"
    assert child.generation == 2
    assert child.created_at == datetime.fromtimestamp(1_712_698_600, UTC)
    original = store.get_video("video_1")
    assert original is not None
    assert original.derivative_count == 3
    assert check_store(store) == []


def test_store_made_before_rights_gets_its_view_totals(
    make_store: StoreFactory, backend: str, request: pytest.FixtureRequest
) -> None:
    store = make_store()
    _import(store, FOREST)
    expected = store.generation_views_many([r["id"] for r in FOREST])
    # Make it look like a store written before the view totals existed.
    if backend == "sqlite":
        from lineage.stores.sqlite import SQLiteStore

        assert isinstance(store, SQLiteStore)
        connection = store._conn()
        connection.execute("DELETE FROM generation_views")
        connection.execute("DELETE FROM store_meta WHERE key = 'rights_version'")
        assert check_store(store) != []
        store.close()
        reopened: LineageStore = SQLiteStore(store.path)
    else:
        from ..conftest import open_neo4j_store

        driver = store._driver  # type: ignore[attr-defined]
        driver.execute_query("MATCH (v:Video) REMOVE v.generation_views")
        driver.execute_query("MATCH (m:StoreMeta) DELETE m")
        assert check_store(store) != []
        store.close()
        reopened = open_neo4j_store(request.getfixturevalue("neo4j"))
    try:
        assert check_store(reopened) == []
        assert reopened.generation_views_many([r["id"] for r in FOREST]) == expected
    finally:
        reopened.close()
