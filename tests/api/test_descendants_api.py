"""``Video.descendants`` over GraphQL, on every backend: pages, the generation filter, errors."""

from __future__ import annotations

import pytest
from graphql import parse

from api.graphql.guards import query_cost
from api.graphql.schema import build_schema
from tests.api.conftest import GraphQLClient

pytestmark = [pytest.mark.anyio]

# SMALL_TREE: grandma <- giraffe, hippo <- baby-hippo, tank; nainai <- nainai-1.
PAGE = """query($id: ID!, $first: Int, $after: String, $generation: Int) {
  video(id: $id) { descendants(first: $first, after: $after, generation: $generation) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { child { id generation } parent { id } } } } } }"""


def _ids(connection: dict[str, object]) -> list[str]:
    edges = connection["edges"]
    assert isinstance(edges, list)
    return [edge["node"]["child"]["id"] for edge in edges]


@pytest.mark.usefixtures("small_tree")
async def test_descendants_pages_breadth_first_with_cursors(client: GraphQLClient) -> None:
    first = (await client.data(PAGE, {"id": "grandma", "first": 2}))["video"]["descendants"]
    assert _ids(first) == ["giraffe", "hippo"]
    assert first["totalCount"] == 4
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["endCursor"] == first["edges"][-1]["cursor"]
    after = first["pageInfo"]["endCursor"]
    rest = (await client.data(PAGE, {"id": "grandma", "first": 5, "after": after}))["video"]
    assert _ids(rest["descendants"]) == ["tank", "baby-hippo"]
    assert rest["descendants"]["pageInfo"] == {
        "hasNextPage": False,
        "endCursor": rest["descendants"]["edges"][-1]["cursor"],
    }
    baby = rest["descendants"]["edges"][-1]["node"]
    assert baby == {"child": {"id": "baby-hippo", "generation": 2}, "parent": {"id": "hippo"}}

    only = (await client.data(PAGE, {"id": "grandma", "generation": 2}))["video"]["descendants"]
    assert (_ids(only), only["totalCount"]) == (["baby-hippo"], 1)
    # A remix's derivatives (the closure), and generations at or above its own: none.
    hippo = (await client.data(PAGE, {"id": "hippo"}))["video"]["descendants"]
    assert (_ids(hippo), hippo["totalCount"]) == (["baby-hippo"], 1)
    for generation in (0, 1, 7):
        none = (await client.data(PAGE, {"id": "hippo", "generation": generation}))["video"]
        assert none["descendants"] == {
            "totalCount": 0,
            "pageInfo": {"hasNextPage": False, "endCursor": None},
            "edges": [],
        }
    leaf = (await client.data(PAGE, {"id": "tank"}))["video"]["descendants"]
    assert (leaf["edges"], leaf["totalCount"]) == ([], 0)


@pytest.mark.usefixtures("small_tree")
async def test_descendants_refuses_bad_arguments(client: GraphQLClient) -> None:
    for variables, code, named in (
        ({"generation": -1}, "INVALID_INPUT", "generation"),
        ({"first": 101}, "LIMIT_EXCEEDED", "first"),
        ({"first": -1}, "INVALID_INPUT", "first"),
        ({"after": "bm90LWEtY3Vyc29y"}, "INVALID_INPUT", "after"),
        # d1:[99999999999999999999,"x"]: a generation out of range
        ({"after": "ZDE6Wzk5OTk5OTk5OTk5OTk5OTk5OTk5LCJ4Il0"}, "INVALID_INPUT", "after"),
    ):
        reply = await client.post(PAGE, {"id": "grandma", **variables})
        assert reply.codes == [code], (variables, reply.body)
        assert named in reply.errors[0]["message"]
    # A cursor of another list is not one of descendants.
    remixes = await client.data(
        '{ video(id: "grandma") { remixes(first: 1) { pageInfo { endCursor } } } }'
    )
    cursor = remixes["video"]["remixes"]["pageInfo"]["endCursor"]
    reply = await client.post(PAGE, {"id": "grandma", "after": cursor})
    assert reply.codes == ["INVALID_INPUT"]


def test_descendants_counts_by_first_in_the_query_cost() -> None:
    schema = build_schema()._schema
    query = '{ video(id: "a") { descendants(first: 50) { edges { node { child { id } } } } } }'
    assert query_cost(schema, parse(query)) == 1 + 1 + 50 * 4
    default = '{ video(id: "a") { descendants { totalCount } } }'
    assert query_cost(schema, parse(default)) == 1 + 1 + 20 * 1
