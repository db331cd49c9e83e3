"""Tokens and roles, on every backend: who may read, write and export."""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.core.config import ApiSettings
from api.graphql.permissions import CanRead, IsAdmin, IsWriter, WithinWriteRate
from api.graphql.schema import Mutation, Query
from api.main import create_app
from lineage.access.tokens import Role, TokenStore, hash_token
from lineage.cli.main import main as lineage_main
from lineage.errors import ConflictError, InvalidInput
from lineage.store import LineageStore
from lineage.stores.sqlite import SQLiteStore
from tests.api.conftest import PROMPT, client_of

pytestmark = pytest.mark.anyio

REMIX = (
    'mutation($id: ID!) { remixVideo(parentId: "grandma", '
    "input: {id: $id, prompt: %r}) { child { id } } }" % PROMPT.replace("crocodile", "hippo")
).replace("'", '"')
READ = '{ video(id: "grandma") { id derivativeCount } }'


async def post(http: httpx.AsyncClient, query: str, **variables: Any) -> httpx.Response:
    return await http.post("/graphql", json={"query": query, "variables": variables})


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors") or []]


def test_tokens_are_kept_as_hashes_and_names_are_unique(tokens: TokenStore) -> None:
    token = tokens.create("ops", Role.ADMIN)
    assert token.startswith("lin_")
    assert len(token) > 40
    other = tokens.create("bot", Role.READER)
    assert other != token
    listed = {info.name: info for info in tokens.list()}
    assert {name: info.role for name, info in listed.items()} == {
        "ops": Role.ADMIN,
        "bot": Role.READER,
    }
    assert listed["ops"].last_used_at is None
    assert token not in repr(tokens.list())
    with pytest.raises(ConflictError):
        tokens.create("ops", Role.READER)
    with pytest.raises(InvalidInput):
        tokens.create("two words", Role.READER)
    info = tokens.authenticate(token)
    assert info is not None
    assert (info.name, info.role) == ("ops", Role.ADMIN)
    assert {i.name: i for i in tokens.list()}["ops"].last_used_at is not None
    assert tokens.authenticate(token + "x") is None
    assert tokens.authenticate("") is None
    assert tokens.revoke("ops") is True
    assert tokens.revoke("ops") is False
    assert tokens.authenticate(token) is None
    assert tokens.authenticate(other) is not None


def test_sqlite_keeps_no_token_text(tmp_path: Any) -> None:
    from lineage.stores.sqlite.tokens import SQLiteTokenStore

    path = tmp_path / "t.db"
    SQLiteStore(path).close()
    token = SQLiteTokenStore(path).create("ops", Role.WRITER)
    rows = sqlite3.connect(path).execute("SELECT * FROM api_tokens").fetchall()
    assert token not in repr(rows)
    assert hash_token(token) in repr(rows)


async def test_every_mutation_needs_a_writer(
    app: FastAPI, small_tree: LineageStore, tokens: TokenStore
) -> None:
    reader = tokens.create("reader", Role.READER)
    writer = tokens.create("writer", Role.WRITER)
    admin = tokens.create("admin", Role.ADMIN)
    async with client_of(app) as anonymous:
        refused = await post(anonymous, REMIX, id="r-anon")
        assert codes(refused) == ["UNAUTHENTICATED"]
        assert "no token sent" in refused.json()["errors"][0]["message"]
    async with client_of(app, "lin_forged") as forged:
        assert codes(await post(forged, REMIX, id="r-forged")) == ["UNAUTHENTICATED"]
    async with client_of(app, reader) as http:
        refused = await post(http, REMIX, id="r-reader")
        assert codes(refused) == ["FORBIDDEN"]
        # Queries stay public to every caller.
        assert (await post(http, READ)).json()["data"]["video"]["derivativeCount"] == 4
    for token, video_id in ((writer, "r-writer"), (admin, "r-admin")):
        async with client_of(app, token) as http:
            reply = await post(http, REMIX, id=video_id)
            assert reply.json()["data"]["remixVideo"]["child"]["id"] == video_id
    # Nothing refused was stored.
    assert small_tree.get_video("r-anon") is None
    assert small_tree.get_video("r-reader") is None
    grandma = small_tree.get_video("grandma")
    assert grandma is not None
    assert grandma.derivative_count == 6


async def test_revocation_is_seen_on_the_next_request(
    app: FastAPI, small_tree: LineageStore, tokens: TokenStore
) -> None:
    writer = tokens.create("writer", Role.WRITER)
    async with client_of(app, writer) as http:
        assert not codes(await post(http, REMIX, id="before"))
        # Revoked through another handle on the store (another process would do the same).
        assert tokens.revoke("writer")
        assert codes(await post(http, REMIX, id="after")) == ["UNAUTHENTICATED"]
    assert small_tree.get_video("after") is None


@pytest.mark.parametrize("api_settings", [ApiSettings(public_reads=False)])
async def test_private_reads_need_a_reader_even_from_the_cache(
    app: FastAPI, small_tree: LineageStore, tokens: TokenStore
) -> None:
    reader = tokens.create("reader", Role.READER)
    async with client_of(app, reader) as http:
        first = await post(http, READ)
        assert first.json()["data"]["video"]["id"] == "grandma"
        # The reader's answer is served from the cache on every store: SQLite
        # from the second ask, Neo4j (which learns the trees a query reads on
        # its first run) from the third.
        again = [await post(http, READ) for _ in range(2)]
        assert again[-1].headers["x-lineage-cache"] == "hit"
        assert [reply.json() for reply in again] == [first.json()] * 2
    async with client_of(app) as anonymous:
        refused = await post(anonymous, READ)
        assert codes(refused) == ["UNAUTHENTICATED"]
        assert "derivativeCount" not in refused.text
        assert refused.headers.get("x-lineage-cache") != "hit"
        # GET queries too.
        over_get = await anonymous.get("/graphql", params={"query": READ})
        assert codes(over_get) == ["UNAUTHENTICATED"]
    tokens.revoke("reader")
    async with client_of(app, reader) as http:
        assert codes(await post(http, READ)) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("api_settings", [ApiSettings(write_rate="2/minute")])
async def test_writes_beyond_the_rate_get_429_with_retry_after(
    app: FastAPI, small_tree: LineageStore, tokens: TokenStore
) -> None:
    first = tokens.create("first", Role.WRITER)
    second = tokens.create("second", Role.WRITER)
    async with client_of(app, first) as http:
        for number in range(2):
            assert not codes(await post(http, REMIX, id=f"ok-{number}"))
        refused = await post(http, REMIX, id="too-many")
        assert refused.status_code == 429
        assert codes(refused) == ["LIMIT_EXCEEDED"]
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert "2/minute" in refused.json()["errors"][0]["message"]
        # Reads are not counted.
        assert (await post(http, READ)).status_code == 200
    async with client_of(app, second) as http:  # the limit is per token
        assert not codes(await post(http, REMIX, id="other-token"))
    assert small_tree.get_video("too-many") is None


def _permissions(definition: Any) -> dict[str, set[type]]:
    found = {}
    for field in definition.__strawberry_definition__.fields:
        found[field.name] = set(field.permission_classes)
    return found


def test_every_root_field_carries_its_permission() -> None:
    # A new query or mutation without its permission class fails here.
    for name, classes in _permissions(Query).items():
        assert CanRead in classes, name
    for name, classes in _permissions(Mutation).items():
        assert classes & {IsWriter, IsAdmin}, name
        assert WithinWriteRate in classes, name


def test_token_cli_prints_the_token_once_on_its_last_line(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    database = str(tmp_path / "cli.db")
    assert lineage_main(["token", "create", "deploy", "--role", "writer", "--db", database]) == 0
    token = capsys.readouterr().out.splitlines()[-1]
    assert token.startswith("lin_")
    assert lineage_main(["token", "create", "deploy", "--role", "reader", "--db", database]) == 2
    assert "already exists" in capsys.readouterr().err
    assert lineage_main(["token", "list", "--db", database]) == 0
    listing = capsys.readouterr().out
    assert "writer" in listing
    assert token not in listing
    store = SQLiteStore(database)
    from lineage.access.tokens import token_store_for

    assert token_store_for(store).authenticate(token) is not None
    assert lineage_main(["token", "revoke", "deploy", "--db", database]) == 0
    assert token_store_for(store).authenticate(token) is None
    assert lineage_main(["token", "revoke", "deploy", "--db", database]) == 2
    store.close()


async def test_export_needs_a_reader_and_refuses_with_401_and_403(
    store: LineageStore, tokens: TokenStore
) -> None:
    # Exports need a reader even while queries are public.
    app = create_app(ApiSettings(), store=store)
    reader = tokens.create("r", Role.READER)
    async with app.router.lifespan_context(app):
        async with client_of(app) as anonymous:
            assert (await anonymous.get("/export")).status_code == 401
        async with client_of(app, reader) as http:
            assert (await http.get("/export")).status_code == 200
        tokens.revoke("r")
        async with client_of(app, reader) as http:
            assert (await http.get("/export")).status_code == 401
