"""Video versions (the response cache's validity), on both stores.

A video's version changes in the same transaction as any change to its row
or to anything under it, and no other video's does; a video not stored has
none; the whole-store version changes with any write.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lineage.importing.records import SourcedRecord
from lineage.over_time.engagement import EngagementEvent
from lineage.store import ANY_TREE, LineageStore

PROMPT = "a grandmother chases a crocodile out of the yard"
TREE = [
    {"id": "o", "prompt": PROMPT},
    {"id": "a", "parent_id": "o", "prompt": PROMPT + " a"},
    {"id": "b", "parent_id": "o", "prompt": PROMPT + " b"},
    {"id": "a1", "parent_id": "a", "prompt": PROMPT + " a1"},
    {"id": "other", "prompt": PROMPT + " elsewhere"},
]
VIDEOS = ["o", "a", "b", "a1", "other", "new"]


@pytest.fixture
def tree(store: LineageStore) -> LineageStore:
    report = store.import_videos(SourcedRecord(row, "t", n) for n, row in enumerate(TREE, 1))
    assert not report.rejected
    return store


def _changed(store: LineageStore, write: object) -> list[str]:
    before, _ = store.video_versions(VIDEOS)
    assert callable(write)
    write()
    after, _ = store.video_versions(VIDEOS)
    return [video for video in VIDEOS if after[video] != before[video]]


def test_a_remix_bumps_its_parent_and_every_ancestor(tree: LineageStore) -> None:
    versions, _ = tree.video_versions(VIDEOS)
    assert versions["new"] is None
    assert all(isinstance(versions[video], int) for video in VIDEOS[:-1])
    remix = {"id": "new", "parent_id": "a1", "prompt": PROMPT + " new"}
    changed = _changed(tree, lambda: tree.import_videos([SourcedRecord(remix, "t", 1)]))
    assert changed == ["o", "a", "a1", "new"]


def test_engagement_bumps_the_video_and_its_ancestors(tree: LineageStore) -> None:
    event = EngagementEvent("a1", likes=1, views=2)
    assert _changed(tree, lambda: tree.record_engagement([event])) == ["o", "a", "a1"]


def test_takedown_and_restore_bump_the_video_and_its_ancestors(tree: LineageStore) -> None:
    now = datetime.now(UTC)
    takedown = lambda: tree.set_status("a1", "REMOVED", "claim", "admin", now)  # noqa: E731
    assert _changed(tree, takedown) == ["o", "a", "a1"]
    restore = lambda: tree.set_status("a1", "ACTIVE", None, "admin", now)  # noqa: E731
    assert _changed(tree, restore) == ["o", "a", "a1"]


def test_new_metadata_bumps_the_video_and_its_ancestors(tree: LineageStore) -> None:
    update = {"id": "a1", "parent_id": "a", "prompt": PROMPT + " a1", "title": "renamed"}
    changed = _changed(tree, lambda: tree.import_videos([SourcedRecord(update, "t", 1)]))
    assert changed == ["o", "a", "a1"]


def test_one_read_answers_videos_trees_and_the_whole_store(tree: LineageStore) -> None:
    videos, trees = tree.video_versions(["a", "nowhere"], ["o", "other", ANY_TREE])
    assert set(videos) == {"a", "nowhere"}
    assert videos["nowhere"] is None
    assert set(trees) == {"o", "other", ANY_TREE}
    tree.record_engagement([EngagementEvent("other", likes=1)])
    again_videos, again_trees = tree.video_versions(["a"], ["o", "other", ANY_TREE])
    assert again_videos["a"] == videos["a"]
    assert again_trees["o"] == trees["o"]
    assert again_trees["other"] != trees["other"]
    assert again_trees[ANY_TREE] != trees[ANY_TREE]
