"""Queries and mutations of the contract's schema, in process."""

from __future__ import annotations

import pytest

from lineage.store import LineageStore
from tests.api.conftest import PROMPT, GraphQLClient, load

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("small_tree")]

VIDEO_FIELDS = """
  id prompt title creator createdAt likes views generation isOriginal
  derivativeCount directRemixCount treeDepth
"""


async def test_video_answers_every_field(client: GraphQLClient) -> None:
    data = await client.data(
        """{ video(id: "baby-hippo") { %s
             original { id } parent { id }
             remixOf { parent { id } child { id } promptDiff { summary variantKey similarity
                       ops { op before after } } }
             ancestors { id generation }
             generationCounts { generation count } } }"""
        % VIDEO_FIELDS
    )
    video = data["video"]
    assert video["id"] == "baby-hippo"
    assert video["generation"] == 2
    assert video["isOriginal"] is False
    assert video["derivativeCount"] == video["directRemixCount"] == video["treeDepth"] == 0
    assert video["original"] == {"id": "grandma"}
    assert video["parent"] == {"id": "hippo"}
    assert video["ancestors"] == [
        {"id": "hippo", "generation": 1},
        {"id": "grandma", "generation": 0},
    ]
    assert video["generationCounts"] == []
    remix_of = video["remixOf"]
    assert remix_of["parent"] == {"id": "hippo"}
    assert remix_of["child"] == {"id": "baby-hippo"}
    assert remix_of["promptDiff"]["ops"] == [{"op": "insert", "before": "", "after": "baby"}]
    assert remix_of["promptDiff"]["variantKey"] == "+baby"


async def test_original_answers_its_lineage(client: GraphQLClient) -> None:
    data = await client.data(
        """{ video(id: "grandma") { %s original { id } parent { id } remixOf { promptDiff { summary } }
             ancestors { id } generationCounts { generation count }
             topVariants(limit: 2) { child { id derivativeCount } promptDiff { summary variantKey } }
             variantGroups(limit: 5) { key remixCount reach top { child { id } } } } }"""
        % VIDEO_FIELDS
    )
    video = data["video"]
    assert video["title"] == "我奶奶真实的脚步"
    assert video["isOriginal"] is True
    assert video["original"] == {"id": "grandma"}
    assert video["parent"] is None
    assert video["remixOf"] is None
    assert video["ancestors"] == []
    assert (video["derivativeCount"], video["directRemixCount"], video["treeDepth"]) == (4, 3, 2)
    assert video["generationCounts"] == [
        {"generation": 1, "count": 3},
        {"generation": 2, "count": 1},
    ]
    # hippo has the most derivatives; giraffe and tank tie at 0 and go by id.
    assert [v["child"]["id"] for v in video["topVariants"]] == ["hippo", "giraffe"]
    assert video["topVariants"][0]["promptDiff"] == {
        "summary": "crocodile → hippo",
        "variantKey": "crocodile→hippo",
    }
    assert video["variantGroups"] == [
        {"key": "crocodile→hippo", "remixCount": 1, "reach": 2, "top": {"child": {"id": "hippo"}}},
        {
            "key": "crocodile→giraffe",
            "remixCount": 1,
            "reach": 1,
            "top": {"child": {"id": "giraffe"}},
        },
        {"key": "crocodile→tank", "remixCount": 1, "reach": 1, "top": {"child": {"id": "tank"}}},
    ]


async def test_chinese_variant_key(client: GraphQLClient) -> None:
    data = await client.data('{ video(id: "nainai") { variantGroups { key } } }')
    assert data["video"]["variantGroups"] == [{"key": "鳄鱼→河马"}]


async def test_unknown_video_is_null_not_an_error(client: GraphQLClient) -> None:
    reply = await client.post('{ video(id: "no-such-video") { id } }')
    assert reply.status == 200
    assert reply.body == {"data": {"video": None}}


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ("DERIVATIVES", ["hippo", "giraffe", "tank"]),
        ("DIRECT_REMIXES", ["hippo", "giraffe", "tank"]),
        ("LIKES", ["giraffe", "hippo", "tank"]),
        ("NEWEST", ["giraffe", "hippo", "tank"]),
    ],
)
async def test_top_variants_orders(
    client: GraphQLClient, store: LineageStore, by: str, expected: list[str]
) -> None:
    if by == "LIKES":
        load(
            store,
            [
                {
                    "id": "giraffe",
                    "parent_id": "grandma",
                    "prompt": PROMPT.replace("crocodile", "giraffe"),
                    "likes": 9,
                }
            ],
        )
    if by == "NEWEST":
        for video_id, time in [
            ("giraffe", "2025-10-03T00:00:00Z"),
            ("hippo", "2025-10-02T00:00:00Z"),
        ]:
            load(
                store,
                [
                    {
                        "id": video_id,
                        "parent_id": "grandma",
                        "created_at": time,
                        "prompt": PROMPT.replace("crocodile", video_id),
                    }
                ],
            )
    data = await client.data(
        'query($by: VideoOrder) { video(id: "grandma") { topVariants(by: $by) { child { id } } } }',
        {"by": by},
    )
    assert [v["child"]["id"] for v in data["video"]["topVariants"]] == expected


async def test_remixes_pages_with_cursors(client: GraphQLClient) -> None:
    query = """query($after: String) { video(id: "grandma") {
        remixes(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor }
          edges { cursor node { child { id } parent { id } } } } } }"""
    first = (await client.data(query, {"after": None}))["video"]["remixes"]
    assert first["totalCount"] == 3
    assert [e["node"]["child"]["id"] for e in first["edges"]] == ["hippo", "giraffe"]
    assert all(e["node"]["parent"]["id"] == "grandma" for e in first["edges"])
    assert first["pageInfo"] == {"hasNextPage": True, "endCursor": first["edges"][-1]["cursor"]}
    second = (await client.data(query, {"after": first["pageInfo"]["endCursor"]}))["video"]
    assert [e["node"]["child"]["id"] for e in second["remixes"]["edges"]] == ["tank"]
    assert second["remixes"]["pageInfo"]["hasNextPage"] is False


async def test_cursor_of_another_order_is_refused(client: GraphQLClient) -> None:
    page = await client.data(
        '{ video(id: "grandma") { remixes(first: 1) { pageInfo { endCursor } } } }'
    )
    cursor = page["video"]["remixes"]["pageInfo"]["endCursor"]
    reply = await client.post(
        'query($c: String) { video(id: "grandma") { remixes(after: $c, orderBy: LIKES) { totalCount } } }',
        {"c": cursor},
    )
    assert reply.codes == ["INVALID_INPUT"]
    assert "orderBy" in reply.errors[0]["message"]
    reply = await client.post(
        '{ video(id: "grandma") { remixes(after: "garbage") { totalCount } } }'
    )
    assert reply.codes == ["INVALID_INPUT"]
    assert "'garbage'" in reply.errors[0]["message"]


async def test_paging_while_remixes_arrive_never_repeats_or_skips(
    client: GraphQLClient, store: LineageStore
) -> None:
    load(
        store,
        [
            {
                "id": f"r{n:03d}",
                "parent_id": "tank",
                "prompt": PROMPT.replace("crocodile", f"tank {n}"),
            }
            for n in range(60)
        ],
    )
    query = """query($after: String, $order: VideoOrder) { video(id: "tank") {
        remixes(first: 7, after: $after, orderBy: $order) {
          pageInfo { hasNextPage endCursor } edges { node { child { id } } } } } }"""
    for order in ("DERIVATIVES", "NEWEST", "LIKES"):
        seen: list[str] = []
        after = None
        arrivals = 0
        while True:
            page = (await client.data(query, {"after": after, "order": order}))["video"]["remixes"]
            seen += [e["node"]["child"]["id"] for e in page["edges"]]
            # Others remix the same video between two pages.
            mutation = """mutation($id: ID!, $prompt: String!) {
                remixVideo(parentId: "tank", input: {id: $id, prompt: $prompt}) { child { id } } }"""
            await client.data(
                mutation,
                {
                    "id": f"new-{order}-{arrivals}",
                    "prompt": PROMPT.replace("crocodile", f"late tank {arrivals}"),
                },
            )
            arrivals += 1
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert len(seen) == len(set(seen)), f"{order}: repeated {len(seen) - len(set(seen))}"
        assert {f"r{n:03d}" for n in range(60)} <= set(seen), order


async def test_originals_connection(client: GraphQLClient) -> None:
    data = await client.data(
        "{ originals(first: 1) { totalCount pageInfo { hasNextPage endCursor } "
        "edges { cursor node { id derivativeCount } } } }"
    )
    originals = data["originals"]
    assert originals["totalCount"] == 2
    assert originals["edges"][0]["node"] == {"id": "grandma", "derivativeCount": 4}
    assert originals["pageInfo"]["hasNextPage"] is True
    rest = await client.data(
        "query($a: String) { originals(after: $a) { edges { node { id } } pageInfo { hasNextPage } } }",
        {"a": originals["pageInfo"]["endCursor"]},
    )
    assert rest["originals"]["edges"] == [{"node": {"id": "nainai"}}]
    assert rest["originals"]["pageInfo"]["hasNextPage"] is False


async def test_remix_video_stores_the_diff_and_updates_ancestors(client: GraphQLClient) -> None:
    data = await client.data(
        """mutation { remixVideo(parentId: "baby-hippo",
             input: {id: "pink-hippo", prompt: "A grandmother chases a pink baby hippo out of the yard",
                     creator: "@ana", likes: 3}) {
             child { id generation creator likes original { id derivativeCount treeDepth } }
             parent { id directRemixCount }
             promptDiff { summary variantKey ops { op before after } } } }"""
    )
    remix = data["remixVideo"]
    assert remix["child"]["generation"] == 3
    assert remix["child"]["creator"] == "@ana"
    assert remix["child"]["original"] == {"id": "grandma", "derivativeCount": 5, "treeDepth": 3}
    assert remix["parent"] == {"id": "baby-hippo", "directRemixCount": 1}
    assert remix["promptDiff"]["ops"] == [{"op": "insert", "before": "", "after": "pink"}]
    # The same remix again is a no-op that answers the same edge.
    again = await client.data(
        """mutation { remixVideo(parentId: "baby-hippo",
             input: {id: "pink-hippo", prompt: "A grandmother chases a pink baby hippo out of the yard",
                     creator: "@ana", likes: 3}) { child { original { derivativeCount } } } }"""
    )
    assert again["remixVideo"]["child"]["original"]["derivativeCount"] == 5


async def test_create_original_assigns_an_id(client: GraphQLClient) -> None:
    data = await client.data(
        'mutation { createOriginal(input: {prompt: "  A cat surfs a wave  ", title: "Surf"}) '
        "{ id prompt title generation isOriginal createdAt original { id } } }"
    )
    video = data["createOriginal"]
    assert video["id"].startswith("v-")
    assert video["prompt"] == "A cat surfs a wave"
    assert video["isOriginal"] is True
    assert video["createdAt"] is not None
    assert video["original"] == {"id": video["id"]}
    remix = await client.data(
        'mutation($p: ID!) { remixVideo(parentId: $p, input: {prompt: "A dog surfs a wave"}) '
        "{ child { id generation } promptDiff { variantKey } } }",
        {"p": video["id"]},
    )
    assert remix["remixVideo"]["child"]["generation"] == 1
    assert remix["remixVideo"]["promptDiff"]["variantKey"] == "cat→dog"
