"""A new video repeated in one input with other likes, views or time: the last line wins,
and every aggregate sums the values that were written."""

from __future__ import annotations

from lineage.importing.records import SourcedRecord
from lineage.tree.check import check_store
from tests.conftest import StoreFactory


def test_the_last_repeat_of_a_new_video_is_what_the_aggregates_sum(
    make_store: StoreFactory,
) -> None:
    store = make_store()
    report = store.import_videos(
        [
            SourcedRecord({"id": "a", "prompt": "a cat", "likes": 2, "views": 10}, "in", 1),
            SourcedRecord(
                {"id": "b", "parent_id": "a", "prompt": "a dog", "likes": 1, "views": 1}, "in", 2
            ),
            SourcedRecord(
                {
                    "id": "b",
                    "parent_id": "a",
                    "prompt": "a dog",
                    "likes": 5,
                    "views": 7,
                    "created_at": "2025-10-02T08:00:00Z",
                },
                "in",
                3,
            ),
        ]
    )
    assert (report.added, report.updated, report.rejected) == (2, 1, [])
    b = store.get_video("b")
    a = store.get_video("a")
    assert b is not None
    assert a is not None
    assert (b.likes, b.views) == (5, 7)
    assert (a.subtree_likes, a.subtree_views) == (2 + 5, 10 + 7)
    assert store.remix_hours("a") == [(488720, 1)]
    assert check_store(store) == []
