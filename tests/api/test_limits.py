"""Every limit of the contract: a query just inside passes, one just outside is refused."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from api.core.config import ApiSettings
from tests.api.conftest import GraphQLClient

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("small_tree")]


def nested_parents(levels: int) -> str:
    """``video { parent { parent ... { id } } }``: the root field at depth 0."""
    selection = "id"
    for _ in range(levels):
        selection = f"parent {{ {selection} }}"
    return f'{{ video(id: "baby-hippo") {{ {selection} }} }}'


def with_tokens(count: int) -> str:
    """A valid query of exactly ``count`` lexical tokens (count >= 16)."""
    block = 'video(id: "grandma") { id prompt title creator likes views }'  # 14 tokens
    blocks, rest = divmod(count - 2, 14)
    return "{ " + " ".join([block] * blocks + ["__typename"] * rest) + " }"


def with_aliases(count: int) -> str:
    return "{ " + " ".join(f'a{n}: video(id: "grandma") {{ id }}' for n in range(count)) + " }"


@pytest.mark.parametrize(
    ("field", "argument"),
    [
        ("remixes(first: {n}) {{ totalCount }}", "first"),
        ("topVariants(limit: {n}) {{ child {{ id }} }}", "limit"),
        ("variantGroups(limit: {n}) {{ key }}", "limit"),
    ],
)
async def test_page_sizes_are_capped_at_100(
    client: GraphQLClient, field: str, argument: str
) -> None:
    inside = await client.post('{ video(id: "grandma") { %s } }' % field.format(n=100))
    assert inside.status == 200
    assert not inside.errors
    outside = await client.post('{ video(id: "grandma") { %s } }' % field.format(n=101))
    assert outside.codes == ["LIMIT_EXCEEDED"]
    assert f"{argument} must be at most 100, got 101" in outside.errors[0]["message"]


async def test_originals_first_is_capped(client: GraphQLClient) -> None:
    assert not (await client.post("{ originals(first: 100) { totalCount } }")).errors
    reply = await client.post("{ originals(first: 101) { totalCount } }")
    assert reply.codes == ["LIMIT_EXCEEDED"]


async def test_negative_page_size_is_invalid_input(client: GraphQLClient) -> None:
    reply = await client.post('{ video(id: "grandma") { remixes(first: -1) { totalCount } } }')
    assert reply.codes == ["INVALID_INPUT"]
    assert "first" in reply.errors[0]["message"]


async def test_query_depth(client: GraphQLClient) -> None:
    inside = await client.post(nested_parents(9))
    assert not inside.errors
    outside = await client.post(nested_parents(10))
    assert outside.codes == ["LIMIT_EXCEEDED"]
    assert "depth of 10" in outside.errors[0]["message"]
    assert outside.data is None


async def test_aliases(client: GraphQLClient) -> None:
    assert not (await client.post(with_aliases(30))).errors
    outside = await client.post(with_aliases(31))
    assert outside.codes == ["LIMIT_EXCEEDED"]
    assert "31 aliases" in outside.errors[0]["message"]


# The documents repeat one field ~140 times: allowed here so the token limit is what refuses.
@pytest.mark.parametrize("api_settings", [ApiSettings(max_field_repeats=200)])
async def test_tokens(client: GraphQLClient) -> None:
    inside = await client.post(with_tokens(2000))
    assert inside.status == 200
    assert not inside.errors
    outside = await client.post(with_tokens(2001))
    assert outside.codes == ["LIMIT_EXCEEDED"]
    assert "more than 2000 tokens" in outside.errors[0]["message"]


async def test_body_size(http: httpx.AsyncClient) -> None:
    limit = ApiSettings().max_body_bytes
    body = json.dumps({"query": '{ video(id: "grandma") { id } }'}).encode()
    # JSON allows trailing whitespace: pad the body to the limit exactly.
    inside = await http.post(
        "/graphql",
        content=body.ljust(limit),
        headers={"content-type": "application/json"},
    )
    assert len(inside.request.content) == limit
    assert inside.status_code == 200
    assert inside.json() == {"data": {"video": {"id": "grandma"}}}
    outside = await http.post(
        "/graphql",
        content=body.ljust(limit + 1),
        headers={"content-type": "application/json"},
    )
    assert outside.status_code == 413
    assert outside.json()["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"


async def test_body_size_without_content_length(http: httpx.AsyncClient) -> None:
    limit = ApiSettings().max_body_bytes

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b" " * (limit // 2)

    reply = await http.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in reply.request.headers
    assert reply.status_code == 413


@pytest.fixture
def api_settings() -> ApiSettings:
    # The defaults, spelled out: these tests are about the contract's numbers.
    return ApiSettings(
        max_page_size=100,
        max_query_depth=10,
        max_aliases=30,
        max_tokens=2000,
        max_body_bytes=1024 * 1024,
    )


class TestConfigurableLimits:
    @pytest.fixture
    def api_settings(self) -> ApiSettings:
        return ApiSettings(max_page_size=5, max_query_depth=3, max_aliases=2, max_tokens=100)

    async def test_lower_limits_apply(self, client: GraphQLClient) -> None:
        assert (
            await client.post('{ video(id: "grandma") { remixes(first: 6) { totalCount } } }')
        ).codes == ["LIMIT_EXCEEDED"]
        assert not (
            await client.post('{ video(id: "grandma") { remixes(first: 5) { totalCount } } }')
        ).errors
        assert (await client.post(nested_parents(3))).codes == ["LIMIT_EXCEEDED"]
        assert not (await client.post(nested_parents(2))).errors
        assert (await client.post(with_aliases(3))).codes == ["LIMIT_EXCEEDED"]
        assert (await client.post(with_tokens(101))).codes == ["LIMIT_EXCEEDED"]
