"""The response cache under concurrent writes: every cached answer is exact.

Writers remix, take down and restore videos and record engagement while
readers repeat a random set of queries through the cache (anonymous
``GET``, the way a CDN would ask). Each cached answer is compared with a
fresh execution that bypasses the cache (``Cache-Control: no-cache``),
started after it:

* when no write was in flight or acknowledged between the start of the
  cached read and the end of the fresh one, the two answers are equal;
* whatever the writes, no answer is older than a write acknowledged before
  its read began (derivative counts only grow with remixes: a cached count
  is at least the count every acknowledged remix below the video implies);
* once the writers stop, every query answers through the cache (a hit, or a
  ``304`` for the tag it carried) exactly what a fresh execution answers.

Some queries reach videos through edges that never change (original, parent,
ancestors) and ask them only fixed fields, or one field that changes: the
per-field dependencies of :mod:`api.graphql.dependencies` are held to the
same comparisons. ``lineage check`` is clean afterwards. A few seconds in CI; ``--run-slow``
runs longer with more writers' rounds.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.core.config import ApiSettings
from api.main import create_app
from lineage.access.tokens import Role
from lineage.store import LineageStore
from lineage.tree.check import check_store
from tests.api.conftest import client_of, load

pytestmark = pytest.mark.anyio

PROMPT = "a crocodile walks through the old market at dawn, slowly, in the rain"
# Two trees: a viral one (branches and a chain) and a quiet one.
TREE = [
    {"id": "root", "prompt": PROMPT, "likes": 5, "views": 50},
    *(
        {"id": f"a{n}", "parent_id": "root", "prompt": PROMPT.replace("crocodile", f"cat{n}")}
        for n in range(4)
    ),
    *(
        {"id": f"b{n}", "parent_id": f"a{n % 2}", "prompt": PROMPT.replace("rain", f"snow{n}")}
        for n in range(4)
    ),
    {"id": "c0", "parent_id": "b0", "prompt": PROMPT.replace("dawn", "dusk")},
    {"id": "quiet", "prompt": PROMPT.replace("market", "harbour")},
    {"id": "q1", "parent_id": "quiet", "prompt": PROMPT.replace("market", "harbours")},
]
PARENTS = {row["id"]: row.get("parent_id") for row in TREE}
VIDEOS = list(PARENTS)
# Remixes go under these; takedowns and restores hit the others (a removed
# video cannot be remixed).
REMIXED = ["root", "a0", "a1", "a2", "a3", "b0", "quiet"]
TAKEN_DOWN = ["a3", "b1", "b2", "b3", "c0", "q1"]
REMIXED.remove("a3")

TEMPLATES = [
    '{ video(id: "%s") { id derivativeCount directRemixCount treeDepth likes subtreeLikes '
    "generationCounts { generation count } } }",
    '{ video(id: "%s") { remixes(first: 3) { totalCount edges { node { child { id '
    "derivativeCount likes status } } } } } }",
    '{ video(id: "%s") { ancestors { id derivativeCount subtreeViews } } }',
    '{ video(id: "%s") { topVariants(limit: 2) { child { id } } byLikes: topVariants(limit: 2, '
    "by: LIKES) { child { id likes } } variantGroups(limit: 3) { key remixCount reach } } }",
    '{ video(id: "%s") { status derivedFromRemoved removedDerivativeCount parent { id status } } }',
    '{ video(id: "%s") { descendants(first: 4) { totalCount edges { node { child { id } } } } } }',
]
# Videos reached by edges that never change, asked what never changes (noted
# for nothing) or one field that does (noted for it): per-field dependencies.
FIELD_TEMPLATES = [
    '{ video(id: "%s") { id generation isOriginal original { id } parent { id generation } '
    "ancestors { id generation } } }",
    '{ video(id: "%s") { generation original { id derivativeCount } } }',
    '{ video(id: "%s") { parent { id generation likes } } }',
    '{ video(id: "%s") { ancestors { id ... on Video { subtreeViews } } } }',
    '{ video(id: "%s") { id parent { id prompt status } original { id treeDepth } } }',
]
# Queries that depend on every tree, or on a video not stored yet.
STORE_WIDE = [
    "{ originals(first: 3) { totalCount edges { node { id derivativeCount } } } }",
    '{ video(id: "new-0") { id derivativeCount } }',
]
# Each writer's writes: a few seconds in CI, longer with --run-slow.
ROUNDS, SLOW_ROUNDS = 12, 80


@dataclass
class Seen:
    reads: int = 0
    compared: int = 0
    hits: int = 0
    tags: dict[str, tuple[str, Any]] = field(default_factory=dict)  # query -> (etag, answer)


@dataclass
class Writes:
    """What the writers have started and had acknowledged."""

    started: int = 0
    acknowledged: int = 0
    remixes: list[str] = field(default_factory=list)  # parents, per acknowledged remix
    # Open and shut in turn: shut, the writers pause (quiet windows for the readers).
    gate: asyncio.Event = field(default_factory=asyncio.Event)

    async def alternate(self, seen: Seen, done: asyncio.Event) -> None:
        """Let a few writes through, then hold them until the readers have read a
        few times (by progress, not time: the machine may be slow)."""
        while not done.is_set():
            self.gate.set()
            target = self.acknowledged + 3
            while self.acknowledged < target and not done.is_set():
                await asyncio.sleep(0.001)
            self.gate.clear()
            while self.started > self.acknowledged:
                await asyncio.sleep(0.001)
            reads = seen.reads + 6
            while seen.reads < reads and not done.is_set():
                await asyncio.sleep(0.001)
        self.gate.set()

    def quiet_since(self, mark: tuple[int, int]) -> bool:
        return mark == (self.started, self.acknowledged) and self.started == self.acknowledged

    def mark(self) -> tuple[int, int]:
        return self.started, self.acknowledged

    def counts(self) -> dict[str, int]:
        """The derivative count each video has at least, by the acknowledged remixes."""
        counts = dict.fromkeys(PARENTS, 0)
        for parent in [row.get("parent_id") for row in TREE] + self.remixes:
            video = parent
            while video is not None:
                counts[video] += 1
                video = PARENTS.get(video)
        return counts


async def _write(client: httpx.AsyncClient, writes: Writes, query: str) -> Any:
    writes.started += 1
    try:
        reply = await client.post("/graphql", json={"query": query})
        body = reply.json()
        assert reply.status_code == 200, body
        assert "errors" not in body, body
        return body["data"]
    finally:
        writes.acknowledged += 1


async def _writer(
    writer: httpx.AsyncClient, admin: httpx.AsyncClient, writes: Writes, seed: int, rounds: int
) -> None:
    chance = random.Random(seed)
    made = 0
    for _ in range(rounds):
        kind = chance.random()
        if kind < 0.5:
            parent = chance.choice(REMIXED)
            new_id = f"new-{seed}" if made == 0 else f"new-{seed}-{made}"
            made += 1
            await _write(
                writer,
                writes,
                'mutation { remixVideo(parentId: "%s", input: {id: "%s", prompt: "%s"}) '
                "{ child { id } } }" % (parent, new_id, PROMPT.replace("walks", f"runs {new_id}")),
            )
            PARENTS[new_id] = parent
            writes.remixes.append(parent)
        elif kind < 0.7:
            video = chance.choice(TAKEN_DOWN)
            action = (
                'takedown(id: "%s", reason: "test")' % video
                if chance.random() < 0.5
                else 'restore(id: "%s")' % video
            )
            await _write(admin, writes, "mutation { %s { id } }" % action)
        else:
            video = chance.choice(VIDEOS)
            await _write(
                writer,
                writes,
                'mutation { recordEngagement(events: [{videoId: "%s", likes: %d, views: %d}]) }'
                % (video, chance.randint(0, 3), chance.randint(1, 9)),
            )
        await writes.gate.wait()


async def _get(http: httpx.AsyncClient, query: str, **headers: str) -> httpx.Response:
    return await http.get("/graphql", params={"query": query}, headers=headers)


async def _reader(
    http: httpx.AsyncClient, queries: list[str], writes: Writes, seen: Seen, seed: int, done: Any
) -> None:
    chance = random.Random(seed)
    while not done.is_set():
        query = chance.choice(queries)
        mark = writes.mark()
        least = writes.counts()
        cached = await _get(http, query)
        assert cached.status_code == 200, cached.text
        answer = cached.json()
        assert "errors" not in answer, answer
        seen.hits += cached.headers.get("x-lineage-cache") == "hit"
        video = answer["data"].get("video") or {}
        if "derivativeCount" in video:  # never older than an acknowledged remix
            # A video made by a remix not yet acknowledged when the read began: none.
            floor = least.get(video["id"], 0)
            assert video["derivativeCount"] >= floor, (query, answer, least)
        fresh = await _get(http, query, **{"cache-control": "no-cache"})
        if writes.quiet_since(mark):
            assert answer == fresh.json(), (query, answer, fresh.json())
            seen.compared += 1
        seen.tags[query] = (cached.headers["etag"], answer)
        seen.reads += 1


async def _run(app: FastAPI, writer_token: str, admin_token: str, rounds: int) -> Seen:
    writes = Writes()
    queries = [template % video for template in TEMPLATES for video in VIDEOS]
    by_field = [template % video for template in FIELD_TEMPLATES for video in VIDEOS]
    chance = random.Random(7)
    queries = chance.sample(queries, 30) + chance.sample(by_field, 12) + STORE_WIDE
    seen = Seen()
    done = asyncio.Event()
    async with (
        client_of(app) as reader,
        client_of(app, writer_token) as writer,
        client_of(app, admin_token) as admin,
    ):
        readers = [
            asyncio.create_task(_reader(reader, queries, writes, seen, seed, done))
            for seed in range(3)
        ]
        stop_gate = asyncio.Event()
        gate = asyncio.create_task(writes.alternate(seen, stop_gate))
        try:
            await asyncio.gather(
                *(_writer(writer, admin, writes, seed, rounds) for seed in range(2))
            )
        finally:
            done.set()
            stop_gate.set()
            await asyncio.gather(*readers, gate)
        # Quiet: each query through the cache answers what a fresh run does.
        for query in queries:
            fresh = (await _get(reader, query, **{"cache-control": "no-cache"})).json()
            for _ in range(2):  # a remote store caches on the second run
                assert (await _get(reader, query)).json() == fresh, query
            again = await _get(reader, query)
            assert again.json() == fresh, query
            assert again.headers["x-lineage-cache"] == "hit", query
            if query in seen.tags:
                tag, answer = seen.tags[query]
                revalidated = await _get(reader, query, **{"if-none-match": tag})
                # A 304 only for the tag of the current answer.
                assert (revalidated.status_code == 304) == (answer == fresh), query
    return seen


async def test_cached_answers_are_exact_under_concurrent_writes(
    store: LineageStore, writer_token: str, tokens: Any, request: pytest.FixtureRequest
) -> None:
    rounds = SLOW_ROUNDS if request.config.getoption("--run-slow") else ROUNDS
    PARENTS.clear()
    PARENTS.update({row["id"]: row.get("parent_id") for row in TREE})
    load(store, TREE)
    app = create_app(ApiSettings(), store=store)
    async with app.router.lifespan_context(app):
        admin_token = tokens.create("test-admin", Role.ADMIN)
        seen = await _run(app, writer_token, admin_token, rounds)
    assert seen.compared > 10, seen.compared  # quiet windows did come
    assert seen.hits > 0
    assert check_store(store) == []
