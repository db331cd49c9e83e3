"""videoUpdated on both stores, over a real WebSocket: rights, the first push, revoked tokens.

* A takedown or restore is pushed like any other change, and every push is
  what a fresh query with the subscriber's token answers at that moment: an
  anonymous subscriber sees ``REMOVED`` and the text masked, an admin sees
  the text.
* The first push is the video as it is when the subscription starts, so a
  write between a client's query and its subscription is not lost.
* A subscription opened with a token ends with ``UNAUTHENTICATED`` once the
  token is revoked, whether or not the video changes.

Each test waits on the pushes themselves (bounded), never on a fixed sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.core.config import ApiSettings
from api.main import create_app
from lineage.access.tokens import Role, TokenStore, token_store_for
from lineage.store import LineageStore
from lineage.stores.sqlite import SQLiteStore
from tests.api.conftest import PROMPT, SMALL_TREE, load
from tests.api.live import Subscriber, serve_in_thread
from tests.conftest import BACKENDS, open_neo4j_store, wipe_neo4j

FIELDS = "id status prompt title removedReason derivativeCount"
WATCH = "subscription($id: ID!) { videoUpdated(id: $id) { %s } }" % FIELDS
READ = "query($id: ID!) { video(id: $id) { %s } }" % FIELDS
# A push is at most one live interval (250 ms) after the change; generous.
PUSHED_WITHIN = 10.0


@dataclass
class Service:
    url: str
    store: LineageStore
    tokens: TokenStore
    admin: str
    writer: str

    def post(self, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        reply = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables},
            headers=headers,
            timeout=30,
        )
        body = reply.json()
        assert not body.get("errors"), body
        return body["data"]

    def fresh(self, video_id: str, token: str | None = None) -> Any:
        """What a fresh query with ``token`` answers about the video now."""
        return self.post(READ, {"id": video_id}, token)["video"]


@pytest.fixture(scope="module", params=BACKENDS)
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    if request.param == "neo4j":
        server = request.getfixturevalue("neo4j")
        wipe_neo4j(server)
        store = open_neo4j_store(server)
    else:
        store = SQLiteStore(Path(tmp_path_factory.mktemp("live-rights")) / "small.db")
    load(store, SMALL_TREE)
    tokens = token_store_for(store)
    admin = tokens.create("live-admin", Role.ADMIN)
    writer = tokens.create("live-writer", Role.WRITER)
    try:
        with serve_in_thread(create_app(ApiSettings(), store=store)) as url:
            yield Service(url, store, tokens, admin, writer)
    finally:
        tokens.close()
        store.close()


TAKEDOWN = 'mutation($id: ID!) { takedown(id: $id, reason: "court order") { status } }'
RESTORE = "mutation($id: ID!) { restore(id: $id) { status } }"


def test_takedown_and_restore_are_pushed_masked_as_a_fresh_query_shows_them(
    service: Service,
) -> None:
    async def scenario() -> None:
        anonymous = await Subscriber.open(service.url, WATCH, {"id": "giraffe"})
        admin = await Subscriber.open(service.url, WATCH, {"id": "giraffe"}, service.admin)
        try:
            first = await anonymous.data(PUSHED_WITHIN)
            assert first["status"] == "ACTIVE"
            assert first["prompt"] == PROMPT.replace("crocodile", "giraffe")
            assert await admin.data(PUSHED_WITHIN) == first

            await asyncio.to_thread(service.post, TAKEDOWN, {"id": "giraffe"}, service.admin)
            hidden = await anonymous.data(PUSHED_WITHIN)
            assert hidden["status"] == "REMOVED"
            assert hidden["prompt"] == ""
            assert hidden["title"] is None
            assert hidden["removedReason"] == "court order"
            assert hidden == await asyncio.to_thread(service.fresh, "giraffe")
            shown = await admin.data(PUSHED_WITHIN)
            assert shown["status"] == "REMOVED"
            assert shown["prompt"] == first["prompt"]
            assert shown == await asyncio.to_thread(service.fresh, "giraffe", service.admin)

            await asyncio.to_thread(service.post, RESTORE, {"id": "giraffe"}, service.admin)
            for subscriber in (anonymous, admin):
                assert await subscriber.data(PUSHED_WITHIN) == first
        finally:
            await anonymous.close()
            await admin.close()

    asyncio.run(scenario())


def test_a_write_between_query_and_subscription_reaches_the_subscriber(
    service: Service,
) -> None:
    async def scenario() -> None:
        before = await asyncio.to_thread(service.fresh, "tank")
        remix = (
            "mutation($p: ID!, $id: ID!, $prompt: String!) { "
            "remixVideo(parentId: $p, input: {id: $id, prompt: $prompt}) { child { id } } }"
        )
        variables = {"p": "tank", "id": "tank-gap", "prompt": PROMPT.replace("crocodile", "bus")}
        await asyncio.to_thread(service.post, remix, variables, service.writer)
        subscriber = await Subscriber.open(service.url, WATCH, {"id": "tank"})
        try:
            now = await subscriber.data(PUSHED_WITHIN)
            assert now["derivativeCount"] == before["derivativeCount"] + 1
            assert now == await asyncio.to_thread(service.fresh, "tank")
        finally:
            await subscriber.close()

    asyncio.run(scenario())


def test_a_revoked_token_ends_its_subscription(service: Service) -> None:
    name = "doomed"
    reader = service.tokens.create(name, Role.READER)

    async def scenario() -> None:
        subscriber = await Subscriber.open(service.url, WATCH, {"id": "nainai"}, reader)
        try:
            assert (await subscriber.data(PUSHED_WITHIN))["id"] == "nainai"
            # Nothing about the video changes: the revocation alone ends it.
            await asyncio.to_thread(service.tokens.revoke, name)
            message = await subscriber.next(PUSHED_WITHIN)
            assert message["type"] in {"next", "error"}, message
            payload = message["payload"]
            errors = payload["errors"] if isinstance(payload, dict) else payload
            assert [error["extensions"]["code"] for error in errors] == ["UNAUTHENTICATED"]
            assert (await subscriber.next(PUSHED_WITHIN))["type"] == "complete"
        finally:
            await subscriber.close()

    asyncio.run(scenario())
