"""The contract's "Over time" fields and mutation, in process, on every backend."""

from __future__ import annotations

import pytest

from lineage.store import LineageStore
from tests.api.conftest import PROMPT, GraphQLClient, load

pytestmark = [pytest.mark.anyio]

# grandma <- hippo <- baby-1, baby-2 (hour 9); grandma <- giraffe <- g-1 (hour 10); grandma <- tank.
TIMED_TREE = [
    {"id": "grandma", "prompt": PROMPT, "likes": 50, "views": 500},
    {
        "id": "hippo",
        "parent_id": "grandma",
        "prompt": PROMPT.replace("crocodile", "hippo"),
        "created_at": "2025-10-02T08:59:59Z",
        "likes": 5,
        "views": 40,
    },
    {
        "id": "giraffe",
        "parent_id": "grandma",
        "prompt": PROMPT.replace("crocodile", "giraffe"),
        "created_at": "2025-10-02T09:00:00Z",
        "views": 7,
    },
    {
        "id": "tank",
        "parent_id": "grandma",
        "prompt": PROMPT.replace("crocodile", "tank"),
        "created_at": "2025-10-01T09:30:00Z",
    },
    *(
        {
            "id": f"baby-{n}",
            "parent_id": "hippo",
            "prompt": PROMPT.replace("crocodile", f"baby hippo {n}"),
            "created_at": "2025-10-02T09:15:00Z",
            "likes": n,
        }
        for n in (1, 2)
    ),
    {
        "id": "g-1",
        "parent_id": "giraffe",
        "prompt": PROMPT.replace("crocodile", "baby giraffe"),
        "created_at": "2025-10-02T10:00:00Z",
    },
    {"id": "nainai", "prompt": "奶奶拿着扫帚把鳄鱼赶出院子"},
    {
        "id": "nainai-1",
        "parent_id": "nainai",
        "prompt": "奶奶拿着扫帚把河马赶出院子",
        "created_at": "2025-10-02T09:45:00Z",
    },
]


@pytest.fixture
def timed_tree(store: LineageStore) -> LineageStore:
    load(store, TIMED_TREE)
    return store


@pytest.mark.usefixtures("timed_tree")
async def test_subtree_totals_follow_recorded_engagement(client: GraphQLClient) -> None:
    query = '{ video(id: "grandma") { likes subtreeLikes subtreeViews } }'
    assert (await client.data(query))["video"] == {
        "likes": 50,
        "subtreeLikes": 58,
        "subtreeViews": 547,
    }
    applied = await client.data(
        """mutation { recordEngagement(events: [
             {videoId: "baby-1", likes: 10, views: 100}, {videoId: "baby-1", views: 1},
             {videoId: "hippo", likes: -5}]) }"""
    )
    assert applied == {"recordEngagement": 3}
    assert (await client.data(query))["video"] == {
        "likes": 50,
        "subtreeLikes": 63,
        "subtreeViews": 648,
    }
    ranked = await client.data(
        """{ video(id: "grandma") { topVariants(limit: 3, by: SUBTREE_VIEWS) {
               child { id subtreeViews } } } }"""
    )
    assert ranked["video"]["topVariants"] == [
        {"child": {"id": "hippo", "subtreeViews": 141}},
        {"child": {"id": "giraffe", "subtreeViews": 7}},
        {"child": {"id": "tank", "subtreeViews": 0}},
    ]
    originals = await client.data(
        "{ originals(orderBy: SUBTREE_LIKES) { edges { node { id subtreeLikes } } } }"
    )
    assert [edge["node"]["id"] for edge in originals["originals"]["edges"]] == [
        "grandma",
        "nainai",
    ]


@pytest.mark.usefixtures("timed_tree")
async def test_refused_engagement_names_the_video_and_changes_nothing(
    client: GraphQLClient,
) -> None:
    reply = await client.post(
        """mutation { recordEngagement(events: [
             {videoId: "grandma", likes: 1}, {videoId: "hippo", likes: -6}]) }"""
    )
    assert reply.codes == ["INVALID_INPUT"]
    assert "hippo" in reply.errors[0]["message"]
    unknown = await client.post('mutation { recordEngagement(events: [{videoId: "nope"}]) }')
    assert unknown.codes == ["NOT_FOUND"]
    too_many = await client.post(
        "mutation($events: [EngagementInput!]!) { recordEngagement(events: $events) }",
        {"events": [{"videoId": "grandma", "likes": 1}] * 1001},
    )
    assert too_many.codes == ["LIMIT_EXCEEDED"]
    video = await client.data('{ video(id: "grandma") { likes subtreeLikes } }')
    assert video["video"] == {"likes": 50, "subtreeLikes": 58}


@pytest.mark.usefixtures("timed_tree")
async def test_remixes_in_and_trending_by_the_hour(client: GraphQLClient) -> None:
    data = await client.data(
        """{ video(id: "grandma") {
               hour9: remixesIn(window: HOUR, asOf: "2025-10-02T09:59:59.999999Z")
               hour8: remixesIn(window: HOUR, asOf: "2025-10-02T08:00:00Z")
               day: remixesIn(window: DAY, asOf: "2025-10-02T10:00:00Z")
               week: remixesIn(window: WEEK, asOf: "2025-10-02T10:00:00Z")
               trendingVariants(window: DAY, asOf: "2025-10-02T10:00:00Z") {
                 remix { child { id } parent { id } } remixesIn } } }"""
    )
    video = data["video"]
    # hour 9: giraffe, baby-1, baby-2; hour 8: hippo; the day up to 10:00 has all but tank.
    assert (video["hour9"], video["hour8"], video["day"], video["week"]) == (3, 1, 5, 6)
    assert video["trendingVariants"] == [
        {"remix": {"child": {"id": "hippo"}, "parent": {"id": "grandma"}}, "remixesIn": 2},
        {"remix": {"child": {"id": "giraffe"}, "parent": {"id": "grandma"}}, "remixesIn": 1},
    ]
    originals = await client.data(
        """{ trendingOriginals(window: HOUR, asOf: "2025-10-02T09:30:00Z") {
               video { id } remixesIn } }"""
    )
    assert originals["trendingOriginals"] == [
        {"video": {"id": "grandma"}, "remixesIn": 3},
        {"video": {"id": "nainai"}, "remixesIn": 1},
    ]
    empty = await client.data(
        '{ trendingOriginals(window: WEEK, asOf: "2024-01-01T00:00:00Z") { remixesIn } }'
    )
    assert empty["trendingOriginals"] == []
    limited = await client.post(
        '{ video(id: "grandma") { trendingVariants(window: DAY, limit: 101) { remixesIn } } }'
    )
    assert limited.codes == ["LIMIT_EXCEEDED"]


@pytest.mark.usefixtures("timed_tree")
async def test_a_remix_counts_in_its_hour_at_once(client: GraphQLClient) -> None:
    await client.data(
        """mutation { remixVideo(parentId: "baby-1", input: {
             id: "baby-1-1", prompt: "A grandmother chases a tiny hippo out of the yard",
             createdAt: "2025-10-02T09:20:00Z", likes: 4}) { child { id } } }"""
    )
    data = await client.data(
        """{ video(id: "grandma") { subtreeLikes
               remixesIn(window: HOUR, asOf: "2025-10-02T09:00:00Z") } }"""
    )
    assert data["video"] == {"subtreeLikes": 62, "remixesIn": 4}


def test_the_fixture_tree_is_consistent(timed_tree: LineageStore) -> None:
    from lineage.tree.check import check_store

    assert check_store(timed_tree) == []
