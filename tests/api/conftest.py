"""In-process API fixtures: the app over httpx's ASGI transport, on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.core.config import ApiSettings
from api.main import create_app
from lineage.access.tokens import Role, TokenStore, token_store_for
from lineage.importing.records import SourcedRecord
from lineage.store import LineageStore

PROMPT = "A grandmother chases a crocodile out of the yard"

# A small lineage: grandma <- hippo <- baby-hippo, grandma <- giraffe, grandma <- tank.
SMALL_TREE = [
    {"id": "grandma", "prompt": PROMPT, "title": "我奶奶真实的脚步", "likes": 50},
    {"id": "hippo", "parent_id": "grandma", "prompt": PROMPT.replace("crocodile", "hippo")},
    {"id": "giraffe", "parent_id": "grandma", "prompt": PROMPT.replace("crocodile", "giraffe")},
    {"id": "tank", "parent_id": "grandma", "prompt": PROMPT.replace("crocodile", "tank")},
    {
        "id": "baby-hippo",
        "parent_id": "hippo",
        "prompt": PROMPT.replace("crocodile", "baby hippo"),
    },
    {"id": "nainai", "prompt": "奶奶拿着扫帚把鳄鱼赶出院子"},
    {"id": "nainai-1", "parent_id": "nainai", "prompt": "奶奶拿着扫帚把河马赶出院子"},
]


def load(store: LineageStore, records: list[dict[str, Any]]) -> None:
    report = store.import_videos(SourcedRecord(r, "test", n) for n, r in enumerate(records, 1))
    assert not report.rejected, report.rejected


@dataclass
class Reply:
    status: int
    media_type: str
    body: dict[str, Any]

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        return list(self.body.get("errors") or [])

    @property
    def codes(self) -> list[str]:
        return [error.get("extensions", {}).get("code") for error in self.errors]


class GraphQLClient:
    """A thin GraphQL-over-HTTP client for tests."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        accept: str | None = None,
    ) -> Reply:
        headers = {"accept": accept} if accept else {}
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        response = await self.http.post("/graphql", json=payload, headers=headers)
        return Reply(
            response.status_code,
            response.headers.get("content-type", "").split(";")[0],
            response.json(),
        )

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        """The ``data`` of a query that must succeed."""
        reply = await self.post(query, variables)
        assert reply.status == 200, reply.body
        assert not reply.errors, reply.errors
        return reply.data


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def api_settings() -> ApiSettings:
    return ApiSettings()


@pytest.fixture
def tokens(store: LineageStore) -> Iterator[TokenStore]:
    """The store's API tokens."""
    token_store = token_store_for(store)
    yield token_store
    token_store.close()


@pytest.fixture
def writer_token(tokens: TokenStore) -> str:
    """A live ``writer`` token (the API fixtures send it, so tests may mutate)."""
    return tokens.create("test-writer", Role.WRITER)


@pytest.fixture
async def app(store: LineageStore, api_settings: ApiSettings) -> AsyncIterator[FastAPI]:
    application = create_app(api_settings, store=store)
    async with application.router.lifespan_context(application):
        yield application


def client_of(app: FastAPI, token: str | None = None) -> httpx.AsyncClient:
    """An in-process client of ``app``, sending ``token`` as its bearer token."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test", headers=headers
    )


@pytest.fixture
async def http(app: FastAPI, writer_token: str) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(app, writer_token) as client:
        yield client


@pytest.fixture
async def client(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)


@pytest.fixture
async def admin(app: FastAPI, tokens: TokenStore) -> AsyncIterator[GraphQLClient]:
    """A client sending a live ``admin`` token (takedowns, removed prompts)."""
    async with client_of(app, tokens.create("test-admin", Role.ADMIN)) as http:
        yield GraphQLClient(http)


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[GraphQLClient]:
    """A client sending no token."""
    async with client_of(app) as http:
        yield GraphQLClient(http)


@pytest.fixture
def small_tree(store: LineageStore) -> LineageStore:
    load(store, SMALL_TREE)
    return store
