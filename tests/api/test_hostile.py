"""What an outside GraphQL security audit tries, refused by the service itself.

Each case would pass (and hurt) without its guard: batching, alias and
directive overloading, field-repeat bombs, deep introspection, mutations
over GET, form and multipart bodies (CSRF), broken bodies, suggestions
that map the schema, tracing output, stack traces, and the cost and time
limits.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.core.config import ApiSettings
from api.graphql.guards import query_cost
from api.graphql.schema import build_schema
from api.main import create_app
from lineage.store import LineageStore
from tests.api.conftest import PROMPT, client_of

pytestmark = pytest.mark.anyio

TYPENAME = {"query": "{ __typename }"}


def codes(response: httpx.Response) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in response.json().get("errors") or []]


def no_internals(response: httpx.Response) -> None:
    text = response.text
    for leak in ("Traceback", 'File "', "site-packages", "/work/", "sqlite3.", "neo4j."):
        assert leak not in text, text


async def test_batches_forms_multipart_and_plain_text_are_refused(
    http: httpx.AsyncClient, small_tree: LineageStore
) -> None:
    batch = await http.post("/graphql", json=[TYPENAME] * 12)
    assert batch.status_code == 400
    form = await http.post("/graphql", data={"query": "{ __typename }"})
    assert form.status_code in (400, 415)
    multipart = await http.post(
        "/graphql",
        files={"operations": (None, json.dumps(TYPENAME)), "map": (None, "{}")},
    )
    assert multipart.status_code in (400, 415)
    # A "simple" cross-site request: text/plain carrying a mutation.
    mutation = {"query": 'mutation { createOriginal(input: {id: "csrf", prompt: "x"}) { id } }'}
    plain = await http.post(
        "/graphql", content=json.dumps(mutation), headers={"content-type": "text/plain"}
    )
    assert plain.status_code in (400, 415)
    over_get = await http.get("/graphql", params=mutation)
    assert over_get.status_code == 405
    assert small_tree.get_video("csrf") is None


async def test_broken_bodies_get_a_400_naming_the_problem(http: httpx.AsyncClient) -> None:
    cases = {
        b'{"query": "\xff{ __typename }"}': "not valid UTF-8",
        b'{"query": "{ __typename }"': "not valid JSON",
        b'{"query": "{ __typename }", "variables": ' + b"[" * 50_000 + b"]" * 50_000 + b"}": (
            "too deeply"
        ),
        b'{"query": "{ __typename }", "variables": {"n": ' + b"9" * 5000 + b"}}": "acceptable",
        b'{"query": "{ __typename\x00 }"}': "not valid JSON",
    }
    for body, problem in cases.items():
        reply = await http.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )
        assert reply.status_code == 400, (body[:40], reply.text)
        assert problem in reply.text
        no_internals(reply)
    # And the service is still up.
    assert (await http.post("/graphql", json=TYPENAME)).json() == {"data": {"__typename": "Query"}}


async def test_numbers_beyond_32_bits_and_wrong_types_are_invalid(
    http: httpx.AsyncClient, small_tree: LineageStore
) -> None:
    for value in (2**63, 2**70, -(2**40), "20", 1.5, [1]):
        reply = await http.post(
            "/graphql",
            json={
                "query": "query($n: Int) { originals(first: $n) { totalCount } }",
                "variables": {"n": value},
            },
        )
        assert reply.json()["data"] is None
        assert codes(reply) == ["GRAPHQL_VALIDATION_FAILED"], reply.text
    remix = await http.post(
        "/graphql",
        json={
            "query": 'mutation($l: Int) { createOriginal(input: {id: "big", prompt: "p", likes: $l}) { id } }',
            "variables": {"l": 2**64},
        },
    )
    assert remix.json().get("errors")
    assert small_tree.get_video("big") is None


async def test_overloading_and_bombs_are_limit_exceeded(http: httpx.AsyncClient) -> None:
    aliases = "{ %s }" % " ".join(f"a{n}: __typename" for n in range(40))
    repeats = '{ video(id: "grandma") { %s } }' % ("parent { id } " * 200)
    through_fragments = (
        '{ video(id: "grandma") { %s } } fragment P on Video { parent { id } }'
        % " ".join("... on Video { parent { id } }" for _ in range(30))
    )
    directives = "{ __typename %s }" % " ".join("@include(if: true)" for _ in range(60))
    unknown_directives = "{ __typename %s }" % " ".join(f"@d{n}" for n in range(60))
    for query in (aliases, repeats, through_fragments, directives, unknown_directives):
        started = time.perf_counter()
        reply = await http.post("/graphql", json={"query": query})
        assert codes(reply) == ["LIMIT_EXCEEDED"], (query[:60], reply.text)
        # Refused before the quadratic overlap check could run.
        assert time.perf_counter() - started < 2
    deep_introspection = "{ __schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } } }"
    reply = await http.post("/graphql", json={"query": deep_introspection})
    assert codes(reply) == ["LIMIT_EXCEEDED"]


async def test_directive_overloading_gets_one_error(http: httpx.AsyncClient) -> None:
    limit = ApiSettings().max_directives
    repeated = [
        # What the outside audit sends: one unknown directive, ten times on one field.
        "query cop { __typename @aa@aa@aa@aa@aa@aa@aa@aa@aa@aa }",
        "{ __typename @include(if: true) @include(if: true) }",
        "{ ... @skip(if: false) @skip(if: false) { __typename } }",
        "query Q @aa @aa { __typename }",
    ]
    for query in repeated:
        reply = await http.post("/graphql", json={"query": query})
        errors = reply.json()["errors"]
        assert codes(reply) == ["LIMIT_EXCEEDED"], (query, reply.text)
        assert "repeated on one location" in errors[0]["message"]
    # The limit itself: one per field, on fields of distinct names.
    fields = " ".join(f"f{n}: __typename @include(if: true)" for n in range(limit + 1))
    over = await http.post("/graphql", json={"query": "{ %s }" % fields})
    assert codes(over) == ["LIMIT_EXCEEDED"]
    assert (
        f"{limit + 1} directives found; the limit is {limit}" in over.json()["errors"][0]["message"]
    )
    # At the limit the document is validated and runs (distinct directives may share a field).
    at = " ".join(f"f{n}: __typename @include(if: true)" for n in range(limit - 2))
    ok = await http.post(
        "/graphql",
        json={"query": "{ %s last: __typename @include(if: true) @skip(if: false) }" % at},
    )
    assert "errors" not in ok.json(), ok.text
    assert ok.json()["data"]["last"] == "Query"
    # Unknown directives below the limit are validation's to name, once each.
    unknown = await http.post("/graphql", json={"query": "{ __typename @aa @bb }"})
    assert codes(unknown) == ["GRAPHQL_VALIDATION_FAILED"] * 2


async def test_no_suggestions_no_tracing_no_stack_traces(http: httpx.AsyncClient) -> None:
    for query in ('{ vide(id: "x") { id } }', '{ video(id: "x") { derivativeCont } }'):
        reply = await http.post("/graphql", json={"query": query})
        assert codes(reply) == ["GRAPHQL_VALIDATION_FAILED"]
        assert "Did you mean" not in reply.text
        assert "derivativeCount" not in reply.text
    ok = await http.post("/graphql", json=TYPENAME)
    assert "extensions" not in ok.json()  # no tracing or timing output
    assert "tracing" not in ok.text


def test_query_cost_multiplies_lists_by_their_size() -> None:
    from graphql import parse

    schema = build_schema()._schema
    assert query_cost(schema, parse('{ video(id: "a") { id } }')) == 2
    # first: 20 by default: 1 + 20 * (edges 1 + node 1 + child 1 + id 1)
    assert (
        query_cost(
            schema, parse('{ video(id: "a") { remixes { edges { node { child { id } } } } } }')
        )
        == 1 + 1 + 20 * 4
    )
    nested = 'query($n: Int) { video(id: "a") { remixes(first: $n) { edges { node { child { remixes(first: 100) { totalCount } } } } } } }'
    assert query_cost(schema, parse(nested), variables={"n": 50}) == 2 + 50 * (3 + 1 + 100)
    assert query_cost(schema, parse(nested)) == 2 + 20 * (3 + 1 + 100)


@pytest.mark.parametrize("api_settings", [ApiSettings(max_query_cost=10)])
async def test_costly_operations_are_refused_before_they_run(
    http: httpx.AsyncClient, small_tree: LineageStore
) -> None:
    reply = await http.post(
        "/graphql", json={"query": '{ video(id: "grandma") { remixes(first: 50) { totalCount } } }'}
    )
    assert codes(reply) == ["LIMIT_EXCEEDED"]
    message = reply.json()["errors"][0]["message"]
    assert "cost 52" in message
    assert "budget of 10" in message
    mutation = (
        'mutation { remixVideo(parentId: "grandma", input: {id: "costly", prompt: "%s"}) '
        "{ child { id } parent { remixes(first: 50) { totalCount } } } }"
        % PROMPT.replace("crocodile", "owl")
    )
    refused = await http.post("/graphql", json={"query": mutation})
    assert codes(refused) == ["LIMIT_EXCEEDED"]
    # Refused before execution: nothing was written.
    assert small_tree.get_video("costly") is None
    cheap = await http.post("/graphql", json={"query": '{ video(id: "grandma") { id } }'})
    assert not codes(cheap)


class SlowStore:
    """A store whose reads take a second (a remote store in trouble)."""

    in_process = False
    async_reads = None  # every read goes through the slow blocking method

    def __init__(self, store: LineageStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def get_videos(self, ids: Any) -> Any:
        time.sleep(1.0)
        return self._store.get_videos(ids)


@pytest.fixture
async def slow_app(small_tree: LineageStore) -> AsyncIterator[FastAPI]:
    app = create_app(
        ApiSettings(request_timeout_s=0.2, response_cache_entries=0),
        store=SlowStore(small_tree),  # type: ignore[arg-type]
    )
    async with app.router.lifespan_context(app):
        yield app


async def test_slow_requests_are_cut_at_the_time_limit(slow_app: FastAPI) -> None:
    async with client_of(slow_app) as http:
        started = time.perf_counter()
        reply = await http.post("/graphql", json={"query": '{ video(id: "grandma") { id } }'})
        assert time.perf_counter() - started < 0.9
        assert reply.status_code == 503
        assert codes(reply) == ["LIMIT_EXCEEDED"]
        assert "0.2 s" in reply.json()["errors"][0]["message"]
        assert (await http.get("/healthz")).status_code == 200
