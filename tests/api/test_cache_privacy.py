"""HTTP caching headers: answers to callers with a token are private to them.

Shared caches (a CDN keyed on the URL) must never hand an admin's answer
(removed videos' prompts unmasked) or any token holder's to someone else:
every ``GET /graphql`` answer to a request with ``Authorization`` is
``Cache-Control: private``, and every one varies on ``Accept`` and
``Authorization`` (README, "HTTP caching").
"""

from __future__ import annotations

import urllib.parse

import httpx
import pytest
from fastapi import FastAPI

from api.core.config import ApiSettings
from lineage.access.tokens import Role, TokenStore
from tests.api.conftest import client_of

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("small_tree")]

URL = "/graphql?" + urllib.parse.urlencode({"query": '{ video(id: "grandma") { prompt } }'})


@pytest.fixture
def backend() -> str:
    # Headers do not depend on the store; SQLite caches the first answer.
    return "sqlite"


@pytest.fixture
def api_settings() -> ApiSettings:
    return ApiSettings(http_max_age=60)


def varies_on(reply: httpx.Response) -> set[str]:
    return {name.strip().lower() for name in reply.headers.get("vary", "").split(",")}


async def replies(http: httpx.AsyncClient, **headers: str) -> list[httpx.Response]:
    """A miss, a hit and a 304 revalidation of the same GET."""
    first = await http.get(URL, headers=headers)
    second = await http.get(URL, headers=headers)
    third = await http.get(URL, headers={**headers, "if-none-match": second.headers["etag"]})
    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 304]
    return [first, second, third]


async def test_anonymous_answers_may_be_shared_and_vary_on_authorization(app: FastAPI) -> None:
    async with client_of(app) as http:
        for reply in await replies(http):
            assert reply.headers["cache-control"] == "max-age=60, must-revalidate"
            assert {"accept", "authorization"} <= varies_on(reply)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.WRITER, Role.READER], ids=lambda r: r.label)
async def test_answers_to_token_holders_are_private(
    app: FastAPI, tokens: TokenStore, role: Role
) -> None:
    async with client_of(app, tokens.create(f"holder-{role.label}", role)) as http:
        for reply in await replies(http):
            assert reply.headers["cache-control"] == "private, max-age=60, must-revalidate", (
                f"an answer to a token of role {role.label} is shareable"
            )
            assert {"accept", "authorization"} <= varies_on(reply)


async def test_an_unknown_token_gets_a_private_answer_too(app: FastAPI) -> None:
    # The answer is the anonymous one, but a shared cache would key it on the URL alone.
    async with client_of(app, "not-a-token") as http:
        for reply in await replies(http):
            assert reply.headers["cache-control"].startswith("private, ")


async def test_an_uncached_answer_to_a_token_holder_is_private(
    app: FastAPI, tokens: TokenStore
) -> None:
    async with client_of(app, tokens.create("admin", Role.ADMIN)) as http:
        bypass = await http.get(URL, headers={"cache-control": "no-cache"})
        assert bypass.status_code == 200
        assert "x-lineage-cache" not in bypass.headers
        assert bypass.headers["cache-control"] == "private"
        assert {"accept", "authorization"} <= varies_on(bypass)
