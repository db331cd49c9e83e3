"""Compare a store's every answer with the networkx reference, and snapshot stores."""

from __future__ import annotations

from typing import Any

from lineage.store import LineageStore, VideoOrder
from lineage.tree import queries
from lineage.tree.check import check_store

from .forests import Reference

ORDERS = {
    VideoOrder.DERIVATIVES: "derivative_count",
    VideoOrder.DIRECT_REMIXES: "direct_remix_count",
    VideoOrder.LIKES: "likes",
    VideoOrder.VIEWS: "views",
    VideoOrder.NEWEST: "created_at",
    VideoOrder.SUBTREE_LIKES: "subtree_likes",
    VideoOrder.SUBTREE_VIEWS: "subtree_views",
}


def assert_matches_reference(store: LineageStore, reference: Reference) -> None:
    """Every aggregate and every query answer equals networkx's, for every video."""
    assert store.count_videos() == len(reference.records)
    stored = store.get_videos(list(reference.records))
    assert set(stored) == set(reference.records)
    for video_id, video in stored.items():
        expected = (
            reference.generation(video_id),
            reference.original_id(video_id),
            reference.derivative_count(video_id),
            reference.direct_remix_count(video_id),
            reference.tree_depth(video_id),
        )
        actual = (
            video.generation,
            video.original_id,
            video.derivative_count,
            video.direct_remix_count,
            video.tree_depth,
        )
        assert actual == expected, video_id
        assert (video.subtree_likes, video.subtree_views) == (
            reference.subtree_total(video_id, "likes"),
            reference.subtree_total(video_id, "views"),
        ), video_id
        counts = [(c.generation, c.count) for c in store.generation_counts(video_id)]
        assert counts == reference.generation_counts(video_id), video_id
        assert [a.id for a in queries.ancestors(store, video_id)] == reference.ancestors(video_id)
        if video.parent_id is not None:
            assert video.prompt_diff is not None
            assert video.prompt_diff.variant_key == reference.variant_key(video_id)
        if video.direct_remix_count:
            for order, measure in ORDERS.items():
                top = queries.top_variants(store, video_id, order, 7)
                assert [v.id for v in top] == reference.top_variants(video_id, measure, 7), (
                    video_id,
                    order,
                )
            groups = [
                (g.key, g.remix_count, g.reach, g.top.id)
                for g in queries.variant_groups(store, video_id, 5)
            ]
            assert groups == reference.variant_groups(video_id, 5), video_id
    # The batch reads the API's loaders use agree with the single reads.
    some = sorted(reference.records)[:150]
    many_counts = store.generation_counts_many(some)
    assert {k: [(c.generation, c.count) for c in v] for k, v in many_counts.items()} == {
        video_id: reference.generation_counts(video_id) for video_id in some
    }
    # Variant groups with their tops in one read (the API's variantGroups { top }).
    for video_id in some[:20]:
        pairs = store.variant_groups_with_tops(video_id, 5)
        assert [
            (group.key, group.remix_count, group.reach, top.id if top is not None else None)
            for group, top in pairs
        ] == reference.variant_groups(video_id, 5), video_id
    for order, measure in ORDERS.items():
        pages = store.children_many(some, order, 3)
        assert {k: [v.id for v in page] for k, page in pages.items()} == {
            video_id: reference.top_variants(video_id, measure, 3) for video_id in some
        }, order
    originals = [v.id for v in queries.originals(store, VideoOrder.DERIVATIVES, 100)]
    expected_originals = sorted(
        (v for v in reference.records if reference.records[v]["parent_id"] is None),
        key=lambda v: (-reference.derivative_count(v), v),
    )[:100]
    assert originals == expected_originals
    assert check_store(store) == []


def snapshot(store: LineageStore) -> dict[str, Any]:
    """Everything a store holds, to prove a refused write changed nothing."""
    rows = sorted(store.iter_lineage_rows(), key=lambda row: row.id)
    videos = store.get_videos([row.id for row in rows])
    return {
        "rows": rows,
        "videos": {video_id: video.model_dump() for video_id, video in videos.items()},
        "generation_counts": sorted(store.iter_generation_counts()),
        "variant_groups": sorted(store.iter_variant_groups()),
        "engagement": sorted(store.iter_engagement_rows()),
        "remix_hours": sorted(store.iter_remix_hours()),
    }
