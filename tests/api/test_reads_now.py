"""On SQLite, resolvers of a video reached through no list read the store at once;
their answers are those the loaders give, removed remixes' words included.

The same store is served twice: as it is (in process: reads at once) and
behind a wrapper that hides ``in_process`` (every read then goes through the
loaders, in a worker thread, as for a remote store). Every query must answer
the same on both, for an anonymous caller and for an admin.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.core.config import ApiSettings
from api.main import create_app
from lineage.access.tokens import Role, token_store_for
from lineage.store import LineageStore
from lineage.stores.sqlite import SQLiteStore
from tests.api.conftest import PROMPT, GraphQLClient, load

pytestmark = pytest.mark.anyio

QUERIES = [
    # The README's headline query.
    '{ video(id: "root") { derivativeCount treeDepth topVariants(limit: 2) { child { id '
    "derivativeCount } promptDiff { variantKey } } variantGroups(limit: 2) { key remixCount "
    "reach } } }",
    '{ video(id: "root") { generationCounts { generation count } original { id } parent { id } '
    "remixes(first: 3) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { "
    "child { id prompt derivativeCount } parent { id } promptDiff { summary variantKey ops { "
    "op before after } } } } } } }",
    '{ video(id: "r1-0") { ancestors { id generation } original { id } parent { id prompt } '
    "remixOf { promptDiff { summary } } topVariants(limit: 5) { child { id } promptDiff { "
    "summary ops { op } } } variantGroups { key top { child { id } promptDiff { summary } } } } }",
    # Through lists: the loaders answer on both.
    '{ video(id: "root") { remixes(first: 5) { edges { node { child { id original { id } '
    "generationCounts { count } topVariants(limit: 2) { child { id } promptDiff { summary } } "
    "remixes(first: 2) { edges { node { promptDiff { summary } } } } } } } } } }",
    # Pages after a cursor, aliases, fragments.
    '{ a: video(id: "root") { ...F } b: video(id: "r2") { ...F } } '
    "fragment F on Video { remixes(first: 2) { edges { node { child { id } promptDiff { "
    "summary } } } } ancestors { id } }",
    '{ video(id: "gone") { id } }',
]


class Remote:
    """The store with ``in_process`` hidden: reads go through the loaders."""

    def __init__(self, store: LineageStore) -> None:
        self._store = store
        self.in_process = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@pytest.fixture
async def clients(tmp_path: Path) -> AsyncIterator[list[dict[str, GraphQLClient]]]:
    store = SQLiteStore(tmp_path / "lineage.db")
    records: list[dict[str, Any]] = [{"id": "root", "prompt": PROMPT}]
    for n in range(4):
        animal = ["hippo", "goose", "hippo", "bear"][n]
        records.append(
            {"id": f"r{n}", "parent_id": "root", "prompt": PROMPT.replace("crocodile", animal)}
        )
        for m in range(n + 1):
            records.append(
                {
                    "id": f"r{n}-{m}",
                    "parent_id": f"r{n}",
                    "prompt": PROMPT.replace("crocodile", f"{animal} {m}"),
                }
            )
    load(store, records)
    tokens = token_store_for(store)
    admin_token = tokens.create("admin", Role.ADMIN)
    settings = ApiSettings(response_cache_entries=0)
    served = []
    try:
        for backend in (store, Remote(store)):
            app = create_app(settings, store=backend)  # type: ignore[arg-type]
            served.append(app)
        async with (
            served[0].router.lifespan_context(served[0]),
            served[1].router.lifespan_context(served[1]),
        ):
            # The wrapper is of no known backend, so the app found no tokens in it.
            served[1].state.tokens = tokens
            pairs = []
            for app in served:
                transport = httpx.ASGITransport(app=app)
                pairs.append(
                    {
                        "anonymous": httpx.AsyncClient(transport=transport, base_url="http://t"),
                        "admin": httpx.AsyncClient(
                            transport=transport,
                            base_url="http://t",
                            headers={"authorization": f"Bearer {admin_token}"},
                        ),
                    }
                )
            yield [{name: GraphQLClient(http) for name, http in pair.items()} for pair in pairs]
            for pair in pairs:
                for http in pair.values():
                    await http.aclose()
    finally:
        tokens.close()
        store.close()


async def test_answers_read_at_once_are_the_loaders_answers(
    clients: list[dict[str, GraphQLClient]],
) -> None:
    now, through_loaders = clients
    # A removed remix (its words blank below admin) and a removed grandchild.
    for video_id in ("r0", "r2-1"):
        await now["admin"].data(
            'mutation($id: ID!) { takedown(id: $id, reason: "DMCA 7") { id } }', {"id": video_id}
        )
    hidden = await now["anonymous"].data(
        '{ video(id: "r0") { remixOf { promptDiff { summary } } } }'
    )
    assert hidden["video"]["remixOf"]["promptDiff"]["summary"] == ""
    for caller in ("anonymous", "admin"):
        for query in QUERIES:
            ours = await now[caller].post(query)
            theirs = await through_loaders[caller].post(query)
            assert ours.status == theirs.status == 200, (query, ours.body)
            assert not ours.errors, (query, ours.errors)
            assert json.dumps(ours.body, indent=0) == json.dumps(theirs.body, indent=0), (
                caller,
                query,
            )
    # A removed remix's diff is blank in a page read at once, for anonymous callers only.
    page = '{ video(id: "root") { topVariants(limit: 4) { child { id } promptDiff { summary } } } }'
    words = {}
    for caller in ("anonymous", "admin"):
        data = await now[caller].data(page)
        words[caller] = {
            v["child"]["id"]: v["promptDiff"]["summary"] for v in data["video"]["topVariants"]
        }
    assert words["anonymous"]["r0"] == ""
    assert words["admin"]["r0"] == "crocodile → hippo"
    assert words["anonymous"]["r1"] == words["admin"]["r1"] == "crocodile → goose"
