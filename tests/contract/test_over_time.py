"""Engagement that flows up and remixes per hour, against brute force, on both stores.

Random forests with random creation times are imported in parts, then random
likes/views deltas arrive one by one and in batches, and some stored records
are imported again with changed likes, views and times. After every step
the subtree totals, ``remixes_in`` and the trending orders equal the
brute-force answers for random ``as_of`` values, hour boundaries included,
and ``lineage check`` finds nothing. The brute force reads the windows from
the contract's words with plain datetime arithmetic, never through the
implementation's own hour bucketing.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lineage.errors import InvalidInput, VideoNotFound
from lineage.importing.records import SourcedRecord
from lineage.over_time import trending
from lineage.over_time.engagement import EngagementEvent
from lineage.over_time.trending import Window
from lineage.store import LineageStore
from lineage.tree.check import check_store

from ..conftest import StoreFactory
from ..forests import Record, Shape, build_forest, random_topological_order
from ..lineage_snapshot import snapshot

START = datetime(2025, 11, 1, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
# The contract: "the hour that holds asOf and the 0, 23 or 167 hours before it".
HOURS_BEFORE = {Window.HOUR: 0, Window.DAY: 23, Window.WEEK: 167}


def window_span(window: Window, as_of: datetime) -> tuple[datetime, datetime]:
    """The window as moments: from its first hour's start to its last hour's end (excluded)."""
    holding = as_of.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return holding - HOURS_BEFORE[window] * HOUR, holding + HOUR


def hours_since_epoch(moment: datetime) -> int:
    """The store's hour numbering (hours since the Unix epoch) of an hour's start."""
    return (moment - EPOCH) // HOUR


def _timed_forest(seed: int) -> list[Record]:
    """A forest whose remixes were made within two days, bunched in a few hot hours."""
    rng = random.Random(seed)
    records = build_forest(
        [Shape("tree", 90), Shape("chain", 25), Shape("star", 40), Shape("pairs", 15)], seed
    )
    hot = [rng.randrange(48) for _ in range(3)]
    for record in records:
        if record["parent_id"] is None or rng.random() < 0.1:
            continue
        hour = rng.choice(hot) if rng.random() < 0.6 else rng.randrange(48)
        moment = START + timedelta(hours=hour, seconds=rng.randrange(3600))
        record["created_at"] = moment.isoformat().replace("+00:00", "Z")
    return records


class Brute:
    """Answers recomputed from the records by walking every ancestor chain."""

    def __init__(self, records: list[Record]) -> None:
        self.records = {record["id"]: dict(record) for record in records}

    def ancestors(self, video_id: str) -> list[str]:
        chain, parent = [], self.records[video_id]["parent_id"]
        while parent is not None:
            chain.append(parent)
            parent = self.records[parent]["parent_id"]
        return chain

    def subtree(self, counter: str) -> dict[str, int]:
        totals = dict.fromkeys(self.records, 0)
        for video_id, record in self.records.items():
            for member in [video_id, *self.ancestors(video_id)]:
                totals[member] += record.get(counter) or 0
        return totals

    def remixes_in(self, start: datetime, end: datetime) -> dict[str, int]:
        """Derivatives of each video created at or after ``start`` and before ``end``."""
        counts = dict.fromkeys(self.records, 0)
        for video_id, record in self.records.items():
            stamp = record.get("created_at")
            if stamp is None or record["parent_id"] is None:
                continue
            if start <= datetime.fromisoformat(stamp) < end:
                for ancestor in self.ancestors(video_id):
                    counts[ancestor] += 1
        return counts

    def trending(self, parent_id: str | None, counts: dict[str, int], limit: int) -> list[Any]:
        children = [v for v, r in self.records.items() if r["parent_id"] == parent_id]
        ranked = sorted((c for c in children if counts[c]), key=lambda c: (-counts[c], c))
        return [(c, counts[c]) for c in ranked[:limit]]


def _as_of_values(rng: random.Random) -> list[datetime]:
    """Random moments over the two days, the first and last microsecond of hours among them."""
    moments = [START + timedelta(hours=47, minutes=59)]
    for _ in range(3):
        hour = START + timedelta(hours=rng.randrange(-2, 50))
        moments += [hour, hour - timedelta(microseconds=1), hour + timedelta(minutes=30)]
    return moments


def assert_over_time(store: LineageStore, brute: Brute, rng: random.Random) -> None:
    likes, views = brute.subtree("likes"), brute.subtree("views")
    stored = store.get_videos(list(brute.records))
    for video_id, video in stored.items():
        assert (video.likes, video.views) == (
            brute.records[video_id]["likes"],
            brute.records[video_id]["views"],
        ), video_id
        assert (video.subtree_likes, video.subtree_views) == (likes[video_id], views[video_id])
    parents = [v for v in brute.records if any(r["parent_id"] == v for r in brute.records.values())]
    for as_of in _as_of_values(rng):
        for window in Window:
            start, end = window_span(window, as_of)
            counts = brute.remixes_in(start, end)
            first, last = hours_since_epoch(start), hours_since_epoch(end) - 1
            assert store.remixes_in_many(list(brute.records), first, last) == counts
            sample = rng.sample(parents, min(6, len(parents)))
            for video_id in sample:
                assert trending.remixes_in(store, video_id, window, as_of) == counts[video_id]
                assert trending.trending_variants(
                    store, video_id, window, as_of, 5
                ) == brute.trending(video_id, counts, 5), (video_id, window, as_of)
            assert trending.trending_originals(store, window, as_of, 20) == brute.trending(
                None, counts, 20
            )
    assert check_store(store) == []


def _import(store: LineageStore, records: list[Record]) -> None:
    report = store.import_videos(SourcedRecord(r, "test", n) for n, r in enumerate(records, 1))
    assert report.rejected == []


def _random_events(rng: random.Random, brute: Brute, count: int) -> list[EngagementEvent]:
    ids = list(brute.records)
    events = []
    for _ in range(count):
        video_id = rng.choice(ids)
        record = brute.records[video_id]
        likes = rng.randrange(-min(record["likes"], 3), 20)
        views = rng.randrange(-min(record["views"], 5), 200)
        record["likes"] += likes
        record["views"] += views
        events.append(EngagementEvent(video_id, likes, views))
    return events


@pytest.mark.parametrize("seed", [11, 12])
def test_engagement_and_hours_match_brute_force(make_store: StoreFactory, seed: int) -> None:
    rng = random.Random(seed)
    records = _timed_forest(seed)
    brute = Brute(records)
    store = make_store()
    ordered = random_topological_order(records, rng)
    cut = len(ordered) // 3
    _import(store, ordered[:cut])  # later remixes attach deep under stored videos
    rest = ordered[cut:]
    rng.shuffle(rest)
    _import(store, rest)
    assert_over_time(store, brute, rng)

    # Deltas one by one, then a batch where videos repeat and ancestors are shared.
    for event in _random_events(rng, brute, 5):
        assert store.record_engagement([event]) == 1
    batch = _random_events(rng, brute, 300)
    assert store.record_engagement(batch) == 300

    # A re-import of known records whose likes, views or time changed sets them.
    changed = []
    for video_id in rng.sample(list(brute.records), 25):
        record = dict(brute.records[video_id])
        record["likes"] = rng.randrange(50)
        record["views"] = rng.randrange(500)
        if record["parent_id"] is not None and rng.random() < 0.5:
            moment = START + timedelta(hours=rng.randrange(48), minutes=rng.randrange(60))
            record["created_at"] = moment.isoformat().replace("+00:00", "Z")
        brute.records[video_id] = record
        changed.append(record)
    _import(store, changed)
    assert_over_time(store, brute, rng)


def test_refused_engagement_changes_nothing(make_store: StoreFactory) -> None:
    store = make_store()
    records = _timed_forest(5)
    _import(store, records)
    leaf = next(r for r in records if r["parent_id"] is not None)
    before = snapshot(store)
    with pytest.raises(InvalidInput) as refused:
        store.record_engagement(
            [
                EngagementEvent(records[0]["id"], 5, 5),
                EngagementEvent(leaf["id"], -(leaf["likes"] + 1), 0),
            ]
        )
    assert refused.value.video_id == leaf["id"]
    assert leaf["id"] in refused.value.message
    with pytest.raises(VideoNotFound) as unknown:
        store.record_engagement([EngagementEvent(records[0]["id"], 1, 1), EngagementEvent("nope")])
    assert unknown.value.video_id == "nope"
    assert snapshot(store) == before
    # Down to exactly zero is allowed.
    store.record_engagement([EngagementEvent(leaf["id"], -leaf["likes"], -leaf["views"])])
    video = store.get_video(leaf["id"])
    assert video is not None
    assert (video.likes, video.views) == (0, 0)
    assert check_store(store) == []


def test_engagement_changes_the_versions_of_the_trees_it_touches(store: LineageStore) -> None:
    records = [
        {"id": "a", "prompt": "a cat"},
        {"id": "a1", "parent_id": "a", "prompt": "a cat at night"},
        {"id": "a11", "parent_id": "a1", "prompt": "a cat at night in rain"},
        {"id": "b", "prompt": "a dog"},
        {"id": "c", "prompt": "a cow"},
        {"id": "c1", "parent_id": "c", "prompt": "a cow at noon"},
    ]
    _import(store, records)
    before = store.tree_versions(["a", "b", "c"])
    store.record_engagement(
        [EngagementEvent("a11", 1, 2), EngagementEvent("a1", 0, 3), EngagementEvent("c1", 4, 0)]
    )
    after = store.tree_versions(["a", "b", "c"])
    assert after["a"] != before["a"]
    assert after["c"] != before["c"]
    assert after["b"] == before["b"]
    video = store.get_video("a")
    assert video is not None
    assert (video.subtree_likes, video.subtree_views) == (1, 5)
