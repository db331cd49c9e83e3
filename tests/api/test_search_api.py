"""``Query.search`` over GraphQL on every store: pages, orders, within, refusals, roles, cache."""

from __future__ import annotations

import httpx
import pytest

from lineage.store import LineageStore
from lineage.stores.sqlite import SQLiteStore
from tests.api.conftest import PROMPT, GraphQLClient, load

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("small_tree")]

SEARCH = """query($text: String!, $within: ID, $first: Int, $after: String, $order: VideoOrder) {
  search(text: $text, within: $within, first: $first, after: $after, orderBy: $order) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id title prompt derivativeCount } }
  }
}"""


async def _search(client: GraphQLClient, text: str, **variables: object) -> dict:  # type: ignore[type-arg]
    data = await client.data(SEARCH, {"text": text, **variables})
    return dict(data["search"])


def _ids(found: dict) -> list[str]:  # type: ignore[type-arg]
    return [edge["node"]["id"] for edge in found["edges"]]


async def test_terms_ranked_by_derivatives_with_the_total(client: GraphQLClient) -> None:
    found = await _search(client, "HIPPO yard")
    assert _ids(found) == ["hippo", "baby-hippo"]
    assert found["totalCount"] == 2
    assert found["pageInfo"]["hasNextPage"] is False
    assert _ids(await _search(client, "河马")) == ["nainai-1"]
    assert _ids(await _search(client, "奶奶 河")) == ["nainai-1"]
    # The title: 我奶奶真实的脚步.
    assert _ids(await _search(client, "真实")) == ["grandma"]
    empty = await _search(client, "zebra")
    assert (empty["edges"], empty["totalCount"], empty["pageInfo"]["endCursor"]) == ([], 0, None)


async def test_keyset_pages_and_orders(client: GraphQLClient) -> None:
    pages: list[str] = []
    after = None
    while True:
        found = await _search(client, "grandmother", first=2, after=after)
        assert found["totalCount"] == 5
        pages += _ids(found)
        if not found["pageInfo"]["hasNextPage"]:
            break
        after = found["pageInfo"]["endCursor"]
    assert pages == ["grandma", "hippo", "baby-hippo", "giraffe", "tank"]
    by_likes = await _search(client, "grandmother", order="LIKES", first=1)
    assert _ids(by_likes) == ["grandma"]
    refused = await client.post(
        SEARCH, {"text": "grandmother", "after": after, "order": "LIKES"}
    )  # a cursor of another order
    assert refused.codes == ["INVALID_INPUT"]


async def test_within_keeps_a_video_and_its_derivatives(client: GraphQLClient) -> None:
    assert _ids(await _search(client, "grandmother", within="hippo")) == ["hippo", "baby-hippo"]
    assert _ids(await _search(client, "hippo", within="giraffe")) == []
    assert _ids(await _search(client, "河马", within="nainai")) == ["nainai-1"]


async def test_refusals_carry_the_contracts_codes(client: GraphQLClient) -> None:
    for text, code in (("", "INVALID_INPUT"), ("  \t ", "INVALID_INPUT")):
        assert (await client.post(SEARCH, {"text": text})).codes == [code]
    assert (await client.post(SEARCH, {"text": "yard", "first": 101})).codes == ["LIMIT_EXCEEDED"]
    assert (await client.post(SEARCH, {"text": "yard", "within": "nobody"})).codes == ["NOT_FOUND"]


async def test_a_removed_video_matches_only_for_admin(
    admin: GraphQLClient, client: GraphQLClient, anonymous: GraphQLClient
) -> None:
    await admin.data('mutation { takedown(id: "hippo", reason: "DMCA") { id } }')
    for caller in (client, anonymous):
        found = await _search(caller, "hippo")
        assert _ids(found) == ["baby-hippo"]
        assert found["totalCount"] == 1
    seen = await _search(admin, "hippo")
    assert _ids(seen) == ["hippo", "baby-hippo"]
    assert seen["edges"][0]["node"]["prompt"] == PROMPT.replace("crocodile", "hippo")
    await admin.data('mutation { restore(id: "hippo") { id } }')
    assert _ids(await _search(client, "hippo")) == ["hippo", "baby-hippo"]


async def test_a_new_remix_is_found_at_once(client: GraphQLClient) -> None:
    assert _ids(await _search(client, "zebra")) == []
    await client.data(
        'mutation { remixVideo(parentId: "giraffe", input: {id: "zebra", '
        'prompt: "A grandmother chases a zebra out of the yard", creator: "ｚｏｏ"}) '
        "{ child { id } } }"
    )
    assert _ids(await _search(client, "zebra")) == ["zebra"]
    assert _ids(await _search(client, "ZOO")) == ["zebra"]


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_cached_answers_stay_exact(http: httpx.AsyncClient, store: LineageStore) -> None:
    async def ask(text: str, within: str | None = None) -> httpx.Response:
        body = {"query": SEARCH, "variables": {"text": text, "within": within}}
        return await http.post("/graphql", json=body)

    first = await ask("okapi")
    assert (await ask("okapi")).headers["x-lineage-cache"] == "hit"
    inside = await ask("grandmother", "nainai")
    assert (await ask("grandmother", "nainai")).headers["x-lineage-cache"] == "hit"
    assert first.json()["data"]["search"]["totalCount"] == 0
    # Another process writes a match into a tree the answer never read.
    assert isinstance(store, SQLiteStore)
    other = SQLiteStore(store.path)
    try:
        load(other, [{"id": "okapi", "parent_id": "hippo", "prompt": PROMPT + " okapi"}])
    finally:
        other.close()
    after = await ask("okapi")
    assert after.headers["x-lineage-cache"] == "miss"
    assert [e["node"]["id"] for e in after.json()["data"]["search"]["edges"]] == ["okapi"]
    # Search within nainai read only nainai's tree: still a hit, and still exact.
    again = await ask("grandmother", "nainai")
    assert again.headers["x-lineage-cache"] == "hit"
    assert again.json() == inside.json()
