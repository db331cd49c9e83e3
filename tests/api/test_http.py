"""GraphQL over HTTP: media types, status codes, GET, probes, CORS and masked errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import httpx
import pytest
from graphql import GraphQLError

from api.core.config import ApiSettings
from api.graphql.errors import INTERNAL_ERROR_MESSAGE, code_of
from api.graphql.http import GRAPHQL_RESPONSE_JSON, negotiate
from api.main import create_app
from lineage.errors import ConflictError, CycleError, LimitExceeded, VideoNotFound
from lineage.models import VideoRecord
from lineage.store import LineageStore
from tests.api.conftest import GraphQLClient

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("small_tree")]

SYNTAX_ERROR = '{ video(id: "grandma") { id }'
INVALID_FIELD = "{ noSuchField }"


async def test_json_is_the_default_media_type(client: GraphQLClient) -> None:
    reply = await client.post('{ video(id: "grandma") { id } }')
    assert (reply.status, reply.media_type) == (200, "application/json")


@pytest.mark.parametrize("query", [SYNTAX_ERROR, INVALID_FIELD])
async def test_graphql_response_json_refuses_with_4xx_and_no_data(
    client: GraphQLClient, query: str
) -> None:
    reply = await client.post(query, accept=GRAPHQL_RESPONSE_JSON)
    assert reply.status == 400
    assert reply.media_type == GRAPHQL_RESPONSE_JSON
    assert "data" not in reply.body
    assert reply.codes[0] in ("GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED")


@pytest.mark.parametrize("query", [SYNTAX_ERROR, INVALID_FIELD])
async def test_legacy_json_answers_200(client: GraphQLClient, query: str) -> None:
    reply = await client.post(query, accept="application/json")
    assert reply.status == 200
    assert reply.media_type == "application/json"
    assert reply.errors


async def test_graphql_response_json_executed_errors_keep_200_and_data(
    client: GraphQLClient,
) -> None:
    reply = await client.post(
        '{ video(id: "grandma") { remixes(first: 101) { totalCount } } }',
        accept=GRAPHQL_RESPONSE_JSON,
    )
    assert reply.status == 200
    assert reply.media_type == GRAPHQL_RESPONSE_JSON
    assert reply.body["data"] == {"video": None}
    assert reply.codes == ["LIMIT_EXCEEDED"]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON}, application/json;q=0.9", GRAPHQL_RESPONSE_JSON),
        (f"application/json, {GRAPHQL_RESPONSE_JSON}", "application/json"),
        (f"application/json;q=0.5, {GRAPHQL_RESPONSE_JSON}", GRAPHQL_RESPONSE_JSON),
    ],
)
def test_negotiate(accept: str | None, expected: str) -> None:
    assert negotiate(accept) == expected


async def test_get_runs_queries(http: httpx.AsyncClient) -> None:
    reply = await http.get(
        "/graphql",
        params={
            "query": "query($id: ID!) { video(id: $id) { id } }",
            "variables": '{"id": "hippo"}',
        },
        headers={"accept": "application/json"},
    )
    assert reply.status_code == 200
    assert reply.json() == {"data": {"video": {"id": "hippo"}}}


async def test_get_never_runs_mutations(http: httpx.AsyncClient, store: LineageStore) -> None:
    reply = await http.get(
        "/graphql",
        params={"query": 'mutation { createOriginal(input: {id: "sneaky", prompt: "x"}) { id } }'},
        headers={"accept": "application/json"},
    )
    assert reply.status_code == 405
    assert store.get_video("sneaky") is None


async def test_get_without_query_serves_graphiql_to_browsers(http: httpx.AsyncClient) -> None:
    reply = await http.get("/graphql", headers={"accept": "text/html"})
    assert reply.status_code == 200
    assert "graphiql" in reply.text.lower()


async def test_healthz_and_readyz(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert (ready.status_code, ready.json()["status"]) == (200, "ready")


class _Unreachable:
    """A store whose server is gone: ping fails, reads raise."""

    in_process = True

    def ping(self) -> bool:
        return False

    def get_videos(self, video_ids: Sequence[str]) -> dict[str, VideoRecord]:
        raise OSError("connection refused by 10.0.0.7:7687 (secret detail)")

    def close(self) -> None:
        pass


@pytest.fixture
async def broken_http() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ApiSettings(), store=_Unreachable())  # type: ignore[arg-type]
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        yield client


async def test_readyz_is_503_when_the_store_is_unreachable(broken_http: httpx.AsyncClient) -> None:
    assert (await broken_http.get("/healthz")).status_code == 200
    assert (await broken_http.get("/readyz")).status_code == 503


async def test_unexpected_errors_are_masked(broken_http: httpx.AsyncClient) -> None:
    reply = await broken_http.post("/graphql", json={"query": '{ video(id: "x") { id } }'})
    body = reply.json()
    assert body["errors"][0]["message"] == INTERNAL_ERROR_MESSAGE
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "secret" not in reply.text
    assert "Traceback" not in reply.text


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (VideoNotFound("x"), "NOT_FOUND"),
        (CycleError("remix cycle: a -> b -> a"), "CYCLE"),
        (ConflictError("video 'x' already has a different prompt"), "CONFLICT"),
        (LimitExceeded("first must be at most 100"), "LIMIT_EXCEEDED"),
        (ValueError("boom"), "INTERNAL_SERVER_ERROR"),
    ],
)
def test_every_core_refusal_has_its_code(error: Exception, code: str) -> None:
    assert code_of(GraphQLError(str(error), original_error=error)) == code


async def test_refusals_through_the_api(client: GraphQLClient) -> None:
    cases = {
        'mutation { remixVideo(parentId: "ghost", input: {prompt: "x"}) { child { id } } }': (
            "NOT_FOUND",
            "'ghost'",
        ),
        'mutation { remixVideo(parentId: "grandma", input: {id: "hippo", prompt: "other"}) '
        "{ child { id } } }": ("CONFLICT", "'hippo'"),
        'mutation { remixVideo(parentId: "tank", input: {id: "grandma", '
        'prompt: "A grandmother chases a crocodile out of the yard"}) { child { id } } }': (
            "CONFLICT",
            "'grandma'",
        ),
        'mutation { createOriginal(input: {id: "bad id", prompt: "x"}) { id } }': (
            "INVALID_INPUT",
            "id",
        ),
        'mutation { createOriginal(input: {prompt: "   "}) { id } }': ("INVALID_INPUT", "prompt"),
        'mutation { createOriginal(input: {prompt: "x", likes: -1}) { id } }': (
            "INVALID_INPUT",
            "likes",
        ),
    }
    for query, (code, named) in cases.items():
        reply = await client.post(query)
        assert reply.codes == [code], (query, reply.body)
        assert named in reply.errors[0]["message"], (query, reply.errors[0]["message"])
    # Nothing of the refused writes landed.
    data = await client.data('{ video(id: "grandma") { derivativeCount directRemixCount } }')
    assert data["video"] == {"derivativeCount": 4, "directRemixCount": 3}


class TestCors:
    @pytest.fixture
    def api_settings(self) -> ApiSettings:
        return ApiSettings(cors_origins=["https://app.example"])

    async def test_allowed_origin_gets_cors_headers(self, http: httpx.AsyncClient) -> None:
        preflight = await http.options(
            "/graphql",
            headers={
                "origin": "https://app.example",
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        reply = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"origin": "https://app.example"}
        )
        assert reply.headers["access-control-allow-origin"] == "https://app.example"

    async def test_other_origins_get_none(self, http: httpx.AsyncClient) -> None:
        reply = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in reply.headers


def test_cors_origins_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINEAGE_API_CORS_ORIGINS", "https://a.example, https://b.example")
    assert ApiSettings().cors_origins == ["https://a.example", "https://b.example"]
