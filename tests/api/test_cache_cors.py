"""CORS headers are computed per request, never replayed from the response cache."""

from __future__ import annotations

import urllib.parse

import httpx
import pytest

from api.core.config import ApiSettings

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("small_tree")]

A, B = "https://a.example", "https://b.example"
QUERY = '{ video(id: "grandma") { derivativeCount } }'


@pytest.fixture
def backend() -> str:
    # Headers do not depend on the store; SQLite caches the first answer.
    return "sqlite"


@pytest.fixture
def api_settings() -> ApiSettings:
    return ApiSettings(cors_origins=[A, B])


async def test_a_cached_post_answer_names_the_asking_origin(http: httpx.AsyncClient) -> None:
    first = await http.post("/graphql", json={"query": QUERY}, headers={"origin": A})
    assert first.headers["access-control-allow-origin"] == A
    second = await http.post("/graphql", json={"query": QUERY}, headers={"origin": B})
    assert second.headers["x-lineage-cache"] == "hit"
    assert second.headers["access-control-allow-origin"] == B, "origin A's answer replayed to B"
    assert "origin" in second.headers["vary"].lower()
    other = await http.post(
        "/graphql", json={"query": QUERY}, headers={"origin": "https://evil.example"}
    )
    assert other.headers["x-lineage-cache"] == "hit"
    assert "access-control-allow-origin" not in other.headers


async def test_a_cached_get_answer_and_a_304_name_the_asking_origin(
    http: httpx.AsyncClient,
) -> None:
    url = "/graphql?" + urllib.parse.urlencode({"query": QUERY})
    first = await http.get(url, headers={"origin": A})
    assert first.headers["access-control-allow-origin"] == A
    second = await http.get(url, headers={"origin": B})
    assert second.headers["access-control-allow-origin"] == B, "origin A's answer replayed to B"
    revalidated = await http.get(url, headers={"origin": B, "if-none-match": first.headers["etag"]})
    assert revalidated.status_code == 304
    assert revalidated.headers["access-control-allow-origin"] == B
    none = await http.get(url)
    assert "access-control-allow-origin" not in none.headers
