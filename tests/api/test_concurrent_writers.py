"""Many clients remixing in one viral tree at once, through the HTTP API.

Every remix updates the counters of all its ancestors, the original most of
all: this is the store's hot spot. All writes must land and every aggregate
must stay exact (``lineage check``).
"""

from __future__ import annotations

import threading

import httpx
import pytest

from api.core.config import ApiSettings
from api.main import create_app
from lineage.access.tokens import Role, token_store_for
from lineage.cli.main import main as lineage_main
from lineage.store import LineageStore
from lineage.stores.sqlite import SQLiteStore
from lineage.tree.check import check_store
from tests.api.conftest import PROMPT, load
from tests.api.live import serve_in_thread
from tests.conftest import FULL_RUN

WRITERS = 8
REMIXES_EACH = 500 if FULL_RUN else 150

REMIX = (
    "mutation($parent: ID!, $id: ID!, $prompt: String!) { "
    "remixVideo(parentId: $parent, input: {id: $id, prompt: $prompt}) { child { id generation } } }"
)


def parent_of(writer: int, number: int) -> str:
    # Half go straight onto the hot original, half onto the writer's own
    # previous remix: deep chains whose ancestors all lead to the original.
    if number % 2 == 0:
        return "hot"
    return f"w{writer}-{number - 1}"


def write_remixes(url: str, writer: int, failures: list[str], token: str) -> None:
    with httpx.Client(
        base_url=url, timeout=60, headers={"authorization": f"Bearer {token}"}
    ) as http:
        for number in range(REMIXES_EACH):
            reply = http.post(
                "/graphql",
                json={
                    "query": REMIX,
                    "variables": {
                        "parent": parent_of(writer, number),
                        "id": f"w{writer}-{number}",
                        "prompt": PROMPT.replace("crocodile", f"creature {writer} {number}"),
                    },
                },
            )
            body = reply.json()
            if reply.status_code != 200 or body.get("errors"):
                failures.append(f"w{writer}-{number}: {reply.status_code} {body}")


def test_eight_writers_remixing_one_hot_original(
    store: LineageStore, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    load(store, [{"id": "hot", "prompt": PROMPT}])
    failures: list[str] = []
    tokens = token_store_for(store)
    settings = ApiSettings(response_cache_entries=0, write_rate="100000/minute")
    with serve_in_thread(create_app(settings, store=store)) as url:
        writers = [
            threading.Thread(
                target=write_remixes,
                args=(url, writer, failures, tokens.create(f"w{writer}", Role.WRITER)),
            )
            for writer in range(WRITERS)
        ]
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join()
    assert failures == []
    hot = store.get_video("hot")
    assert hot is not None
    total = WRITERS * REMIXES_EACH
    assert hot.derivative_count == total
    assert hot.direct_remix_count == WRITERS * REMIXES_EACH // 2
    # Each writer's odd remixes form chains of two under an even one.
    assert hot.tree_depth == 2
    assert store.count_videos() == total + 1
    assert check_store(store) == []
    # And the command line's check, on the same store.
    if isinstance(store, SQLiteStore):
        monkeypatch.setenv("LINEAGE_STORE", "sqlite")
        monkeypatch.setenv("LINEAGE_DB", str(store.path))
    else:
        server = request.getfixturevalue("neo4j")
        monkeypatch.setenv("LINEAGE_STORE", "neo4j")
        monkeypatch.setenv("NEO4J_URI", server.uri)
        monkeypatch.setenv("NEO4J_USER", server.user)
        monkeypatch.setenv("NEO4J_PASSWORD", server.password)
        monkeypatch.setenv("NEO4J_DATABASE", server.database)
    assert lineage_main(["check"]) == 0
