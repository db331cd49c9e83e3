"""videoUpdated over a real WebSocket (graphql-transport-ws) against real uvicorn servers.

One server runs in-process (to look into its hub after a client leaves), the
other is ``lineage serve --workers 2`` (a remix may land on either worker).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.core.config import ApiSettings
from api.main import create_app
from lineage.access.tokens import Role, token_store_for
from lineage.store import LineageStore
from lineage.stores.sqlite import SQLiteStore
from tests.api.conftest import SMALL_TREE, load
from tests.api.live import Subscriber, eventually, serve_in_thread
from tests.conftest import BACKENDS, open_neo4j_store, wipe_neo4j
from tests.neo4j_server import Neo4jServer

# The writer token of each server (by base URL).
TOKENS: dict[str, str] = {}

WATCH = "subscription($id: ID!) { videoUpdated(id: $id) { id derivativeCount directRemixCount } }"
REMIX = """mutation($p: ID!, $id: ID!, $prompt: String!) {
  remixVideo(parentId: $p, input: {id: $id, prompt: $prompt}) { child { id } } }"""


def remix(url: str, parent: str, video_id: str) -> None:
    # A fresh connection per write, so the workers share the writes.
    reply = httpx.post(
        f"{url}/graphql",
        headers={"authorization": f"Bearer {TOKENS[url]}"},
        json={
            "query": REMIX,
            "variables": {"p": parent, "id": video_id, "prompt": f"A robot {video_id} dances"},
        },
        timeout=30,
    )
    assert reply.json().get("errors") is None, reply.text


def count(url: str, video_id: str) -> int:
    reply = httpx.post(
        f"{url}/graphql",
        json={"query": '{ video(id: "%s") { derivativeCount } }' % video_id},
        timeout=30,
    )
    return int(reply.json()["data"]["video"]["derivativeCount"])


def writer_token(store: LineageStore) -> str:
    tokens = token_store_for(store)
    try:
        return tokens.create("live-writer", Role.WRITER)
    finally:
        tokens.close()


@pytest.fixture(scope="module")
def in_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    store = SQLiteStore(tmp_path_factory.mktemp("live-ws") / "small.db")
    load(store, SMALL_TREE)
    writer = writer_token(store)
    app = create_app(ApiSettings(), store=store)
    with serve_in_thread(app) as url:
        TOKENS[url] = writer
        yield url, app
    store.close()


@pytest.fixture(scope="module")
def private(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A server with LINEAGE_API_PUBLIC_READS=false, and a reader token for it."""
    store = SQLiteStore(tmp_path_factory.mktemp("live-private") / "small.db")
    load(store, SMALL_TREE)
    writer = writer_token(store)
    tokens = token_store_for(store)
    reader = tokens.create("live-reader", Role.READER)
    tokens.close()
    app = create_app(ApiSettings(public_reads=False), store=store)
    with serve_in_thread(app) as url:
        TOKENS[url] = writer
        yield url, reader
    store.close()


@pytest.fixture(scope="module", params=BACKENDS)
def two_workers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    database = tmp_path_factory.mktemp("live-workers") / "small.db"
    env = {**os.environ, "LINEAGE_STORE": "sqlite"}
    if request.param == "neo4j":
        server: Neo4jServer = request.getfixturevalue("neo4j")
        wipe_neo4j(server)
        store = open_neo4j_store(server)
        env.update(
            LINEAGE_STORE="neo4j",
            NEO4J_URI=server.uri,
            NEO4J_USER=server.user,
            NEO4J_PASSWORD=server.password,
            NEO4J_DATABASE=server.database,
        )
    else:
        store = SQLiteStore(database)
    load(store, SMALL_TREE)
    writer = writer_token(store)
    store.close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    lineage = Path(sys.executable).with_name("lineage")
    process = subprocess.Popen(
        [str(lineage), "--db", str(database), "serve", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    TOKENS[url] = writer
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_remix_through_either_worker_reaches_the_subscriber_within_a_second(
    two_workers: str,
) -> None:
    async def scenario() -> None:
        subscriber = await Subscriber.open(two_workers, WATCH, {"id": "grandma"})
        try:
            # The first push is the video as it is: the watch has started.
            expected = count(two_workers, "grandma")
            assert (await subscriber.data(timeout=10))["derivativeCount"] == expected
            for number in range(4):
                expected += 1
                await asyncio.to_thread(remix, two_workers, "hippo", f"ws-{number}")
                # From the write's commit (its answer) to the push.
                started = time.monotonic()
                video = await subscriber.data(timeout=1.0)
                assert video == {
                    "id": "grandma",
                    "derivativeCount": expected,
                    "directRemixCount": 3,
                }
                assert time.monotonic() - started < 1.0
        finally:
            await subscriber.close()

    asyncio.run(scenario())


def test_closing_the_socket_frees_the_watch(in_process: tuple[str, Any]) -> None:
    url, app = in_process

    async def scenario() -> None:
        first = await Subscriber.open(url, WATCH, {"id": "hippo"})
        second = await Subscriber.open(url, WATCH, {"id": "hippo"})
        # Each first push comes once its subscriber has joined the watch.
        for subscriber in (first, second):
            assert (await subscriber.data(timeout=10))["derivativeCount"] == 1
        hub = app.state.live_hub
        assert list(hub.watches) == ["hippo"]
        assert len(hub.watches["hippo"].subscribers) == 2
        await asyncio.to_thread(remix, url, "hippo", "ws-hippo-1")
        for subscriber in (first, second):
            assert (await subscriber.data(timeout=1.0))["derivativeCount"] == 2
        await first.close()
        await second.close()
        await eventually(lambda: not hub.watches, what="the watch to end")

    asyncio.run(scenario())


def test_an_unknown_id_is_not_found_over_the_socket(in_process: tuple[str, Any]) -> None:
    url, app = in_process

    async def scenario() -> None:
        subscriber = await Subscriber.open(url, WATCH, {"id": "no-such-video"})
        try:
            message = await subscriber.next(timeout=5)
            assert message["type"] in {"next", "error"}, message
            payload = message["payload"]
            errors = payload["errors"] if isinstance(payload, dict) else payload
            assert [error["extensions"]["code"] for error in errors] == ["NOT_FOUND"]
        finally:
            await subscriber.close()
        assert "no-such-video" not in app.state.live_hub.watches

    asyncio.run(scenario())


def test_private_reads_need_a_reader_token_on_the_handshake(private: tuple[str, str]) -> None:
    url, reader = private

    async def scenario() -> None:
        anonymous = await Subscriber.open(url, WATCH, {"id": "hippo"})
        try:
            message = await anonymous.next(timeout=5)
            payload = message["payload"]
            errors = payload["errors"] if isinstance(payload, dict) else payload
            assert [error["extensions"]["code"] for error in errors] == ["UNAUTHENTICATED"]
        finally:
            await anonymous.close()
        subscriber = await Subscriber.open(url, WATCH, {"id": "hippo"}, token=reader)
        try:
            assert (await subscriber.data(timeout=10))["derivativeCount"] == 1
            await asyncio.to_thread(remix, url, "hippo", "ws-private-1")
            assert (await subscriber.data(timeout=1.0))["derivativeCount"] == 2
        finally:
            await subscriber.close()

    asyncio.run(scenario())
