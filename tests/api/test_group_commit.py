"""Group commit: concurrent remixes into one tree share transactions (issue 10, item 3).

Many remix mutations into one tree at once, on both stores: every
acknowledged remix is stored, a refused one is refused alone with its own
error, the batches hold more than one remix, and ``lineage check`` is clean.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from api.core.config import ApiSettings
from api.main import create_app
from lineage.store import LineageStore
from lineage.tree.check import check_store
from tests.api.conftest import PROMPT, SMALL_TREE, client_of, load

pytestmark = pytest.mark.anyio

REMIX = (
    "mutation($parent: ID!, $id: ID!, $prompt: String!) { "
    "remixVideo(parentId: $parent, input: {id: $id, prompt: $prompt}) "
    "{ child { id generation } parent { id } } }"
)
CLIENTS = 8
EACH = 6


@pytest.fixture
def api_settings() -> ApiSettings:
    return ApiSettings(group_commit_ms=20)


async def test_concurrent_remixes_land_once_each_and_a_refusal_stays_alone(
    store: LineageStore, api_settings: ApiSettings, writer_token: str
) -> None:
    load(store, SMALL_TREE)
    app = create_app(api_settings, store=store)

    async def remix(http: httpx.AsyncClient, parent: str, video_id: str) -> dict[str, object]:
        reply = await http.post(
            "/graphql",
            json={
                "query": REMIX,
                "variables": {"parent": parent, "id": video_id, "prompt": f"{PROMPT} {video_id}"},
            },
        )
        assert reply.status_code == 200
        body: dict[str, object] = reply.json()
        return body

    async def client(http: httpx.AsyncClient, number: int) -> list[dict[str, object]]:
        replies = []
        for step in range(EACH):
            parent = "grandma" if step % 2 == 0 else "hippo"
            # One of them reuses the id of a stored video of another parent: a conflict.
            video_id = "giraffe" if (number, step) == (3, 3) else f"c{number}-{step}"
            replies.append(await remix(http, parent, video_id))
        return replies

    async with (
        app.router.lifespan_context(app),
        client_of(app, writer_token) as http,
    ):
        results = await asyncio.gather(*(client(http, n) for n in range(CLIENTS)))
        committer = app.state.group_committer
        assert committer.records == CLIENTS * EACH
        assert committer.batches < CLIENTS * EACH  # remixes shared transactions

    refused = [body for replies in results for body in replies if body.get("errors")]
    assert len(refused) == 1
    assert refused[0]["errors"][0]["extensions"]["code"] == "CONFLICT"  # type: ignore[index]
    acknowledged = [
        body["data"]["remixVideo"]["child"]["id"]  # type: ignore[index]
        for replies in results
        for body in replies
        if not body.get("errors")
    ]
    assert len(acknowledged) == CLIENTS * EACH - 1
    stored = store.get_videos(acknowledged)
    assert sorted(stored) == sorted(acknowledged)
    grandma = store.get_video("grandma")
    assert grandma is not None
    assert grandma.derivative_count == 4 + len(acknowledged)
    giraffe = store.get_video("giraffe")
    assert giraffe is not None
    assert giraffe.parent_id == "grandma"
    assert check_store(store) == []
