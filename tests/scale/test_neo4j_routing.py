"""The Neo4j store on a routing URI (neo4j://): every read routed to readers,
every write through execute_write, and bookmarks flowing between processes.

The drivers are real and talk to the real server; the tests only record
what the store asks of them (access modes, transaction functions, bookmarks).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import neo4j
import pytest
import redis

from api.bookmarks import BOOKMARKS_KEY, SharedBookmarks
from api.redis_link import RedisLink
from lineage.access.tokens import Role, token_store_for
from lineage.importing.records import SourcedRecord
from lineage.over_time.engagement import EngagementEvent
from lineage.store import VideoOrder
from lineage.stores.neo4j import Neo4jStore
from tests.scale.conftest import Cluster

pytestmark = [pytest.mark.scale, pytest.mark.neo4j]

READ_CALLS = {"execute_read", "run", "begin_transaction"}


class Recorder:
    """What each store call asked of the drivers: (call, what, access mode)."""

    def __init__(self) -> None:
        self.call = ""
        self.events: list[tuple[str, str, str]] = []

    @contextmanager
    def during(self, call: str) -> Iterator[None]:
        self.call = call
        yield
        self.call = ""

    def wrap_session(self, session: Any, mode: str) -> Any:
        for name in ("execute_read", "execute_write", "run", "begin_transaction"):
            original = getattr(session, name)

            def recorded(
                *args: Any, _original: Any = original, _name: str = name, **kw: Any
            ) -> Any:
                self.events.append((self.call, _name, mode))
                return _original(*args, **kw)

            setattr(session, name, recorded)
        return session


def _instrument(store: Neo4jStore, recorder: Recorder) -> None:
    driver = store.driver
    open_session, execute_query = driver.session, driver.execute_query

    def session(**kw: Any) -> Any:
        mode = kw.get("default_access_mode", neo4j.WRITE_ACCESS)
        recorder.events.append((recorder.call, "session", mode))
        return recorder.wrap_session(open_session(**kw), mode)

    def query(*args: Any, **kw: Any) -> Any:
        routing = kw.get("routing_", neo4j.RoutingControl.WRITE)
        recorder.events.append((recorder.call, "execute_query", str(routing.value)))
        return execute_query(*args, **kw)

    driver.session = session  # type: ignore[method-assign]
    driver.execute_query = query  # type: ignore[method-assign]

    reads = store.async_reads
    make_driver = reads._driver

    def async_driver() -> Any:
        made = make_driver()
        if not getattr(made, "_recorded", False):
            open_async = made.session

            def async_session(**kw: Any) -> Any:
                mode = kw.get("default_access_mode", neo4j.WRITE_ACCESS)
                recorder.events.append((recorder.call, "async session", mode))
                return open_async(**kw)

            made.session = async_session  # type: ignore[method-assign]
            made._recorded = True  # type: ignore[attr-defined]
        return made

    reads._driver = async_driver  # type: ignore[method-assign]


@pytest.fixture
def routed_store(cluster: Cluster) -> Iterator[Neo4jStore]:
    env = cluster.env
    assert env["NEO4J_URI"].startswith("neo4j://")
    store = Neo4jStore(env["NEO4J_URI"], env["NEO4J_USER"], env["NEO4J_PASSWORD"])
    try:
        yield store
    finally:
        store.close()


def test_every_store_call_has_the_access_mode_of_what_it_does(routed_store: Neo4jStore) -> None:
    store = routed_store
    recorder = Recorder()
    _instrument(store, recorder)
    tokens = token_store_for(store)
    root, child = f"r-{uuid.uuid4().hex}", f"c-{uuid.uuid4().hex}"
    now = datetime.now(UTC)

    writes: dict[str, Callable[[], object]] = {
        "import_videos atomic": lambda: store.import_videos(
            [SourcedRecord({"id": root, "prompt": "a grandmother"}, "t", 1)], atomic=True
        ),
        "import_videos": lambda: store.import_videos(
            [SourcedRecord({"id": child, "parent_id": root, "prompt": "a crocodile"}, "t", 1)]
        ),
        "record_engagement": lambda: store.record_engagement([EngagementEvent(child, 1, 2)]),
        "set_status": lambda: store.set_status(child, "REMOVED", "test", "admin", now),
        "token create": lambda: tokens.create(f"t-{uuid.uuid4().hex[:12]}", Role.WRITER),
    }
    reads: dict[str, Callable[[], object]] = {
        "get_video": lambda: store.get_video(child),
        "get_videos": lambda: store.get_videos([root, child]),
        "lineage_path": lambda: store.lineage_path(child),
        "generation_counts_many": lambda: store.generation_counts_many([root]),
        "variant_groups": lambda: store.variant_groups(root, 5),
        "variant_groups_with_tops": lambda: store.variant_groups_with_tops(root, 5),
        "children": lambda: store.children(root, VideoOrder.DERIVATIVES, 5),
        "children_many": lambda: store.children_many([root], VideoOrder.LIKES, 5),
        "count_children": lambda: store.count_children(None),
        "children_ids": lambda: store.children_ids([root]),
        "tree_versions": lambda: store.tree_versions([root]),
        "remixes_in": lambda: store.remixes_in(root, 0, 10**7),
        "trending": lambda: store.trending(root, 0, 10**7, 5),
        "remix_hours": lambda: store.remix_hours(child),
        "descendant_page": lambda: store.descendant_page(root, True, 5),
        "descendant_rows": lambda: store.descendant_rows(root, True, 5),
        "video_rights": lambda: store.video_rights([child]),
        "derived_from_removed": lambda: store.derived_from_removed([child]),
        "count_videos": lambda: store.count_videos(),
        "iter_lineage_rows": lambda: list(store.iter_lineage_rows()),
        "iter_videos": lambda: sum(1 for _ in store.iter_videos()),
        "iter_generation_counts": lambda: list(store.iter_generation_counts()),
        "iter_variant_groups": lambda: list(store.iter_variant_groups()),
        "iter_closure_rows": lambda: sum(1 for _ in store.iter_closure_rows()),
        "iter_rights_rows": lambda: sum(1 for _ in store.iter_rights_rows()),
        "rank_key_mismatches": lambda: list(store.rank_key_mismatches()),
        "token list": tokens.list,
        "ping": store.ping,
    }
    for name, call in {**writes, **reads}.items():
        with recorder.during(name):
            call()

    async def async_reads() -> None:
        with recorder.during("async reads"):
            await store.async_reads.get_video(child)
            await store.async_reads.children(root, VideoOrder.NEWEST, 5)
            await store.async_reads.tree_versions([root])
        await store.async_reads.aclose()

    asyncio.run(async_reads())

    by_call: dict[str, list[tuple[str, str]]] = {}
    for call, what, mode in recorder.events:
        by_call.setdefault(call, []).append((what, mode))
    assert "" not in by_call, "a driver call outside any store call"
    for name in writes:
        events = by_call[name]
        assert ("execute_write", neo4j.WRITE_ACCESS) in events, name
        for what, mode in events:
            if what == "execute_query":
                assert mode == "r", f"{name}: execute_query outside read routing"
            elif mode == neo4j.WRITE_ACCESS:
                assert what in ("session", "execute_write"), f"{name}: {what} in a write session"
            else:
                assert what in ("session", *READ_CALLS), f"{name}: {what} in a read session"
    for name in [*reads, "async reads"]:
        events = by_call[name]
        assert events, f"{name} asked nothing of the drivers"
        for what, mode in events:
            if what == "execute_query":
                assert mode == "r", f"{name}: a read without read routing"
            else:
                assert mode == neo4j.READ_ACCESS, f"{name}: {what} in a {mode} session"
                assert what != "execute_write", name


def _graphql(url: str, query: str, token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = httpx.post(f"{url}/graphql", json={"query": query}, headers=headers, timeout=30)
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    assert "errors" not in body, body
    return body["data"]


def test_bookmarks_flow_between_processes(
    cluster: Cluster, writer_token: str, routed_store: Neo4jStore
) -> None:
    """A write through API process 1 publishes its bookmarks; another process
    (this one) pulls them and its reads wait for them; process 2 sees the write."""
    first, second = cluster.apis[0], cluster.apis[1]
    client = redis.Redis.from_url(cluster.env["LINEAGE_REDIS_URL"])
    before = dict(client.hgetall(BOOKMARKS_KEY).items())
    video = f"bm-{uuid.uuid4().hex}"
    _graphql(
        first,
        'mutation { createOriginal(input: {id: "%s", prompt: "p"}) { id } }' % video,
        writer_token,
    )
    after = client.hgetall(BOOKMARKS_KEY)
    changed = {field: value for field, value in after.items() if before.get(field) != value}
    assert len(changed) == 1, "the writing process published its bookmarks"
    published = set(next(iter(changed.values())).decode().split())
    assert published
    assert all(bookmark for bookmark in published)

    # Another process: its relay pulls them, and every read session carries them.
    link = RedisLink(cluster.env["LINEAGE_REDIS_URL"])
    middleware = SharedBookmarks(lambda *a: None, link=link, relay=lambda: routed_store.bookmarks)  # type: ignore[arg-type,return-value]

    async def pull() -> None:
        await middleware.pull(routed_store.bookmarks)
        await link.aclose()

    asyncio.run(pull())
    assert published <= set(routed_store.bookmarks.current())
    assert published <= routed_store.bookmarks.read.get_bookmarks()
    assert routed_store.get_video(video) is not None

    # Its own write is published under its own field, and process 2 reads it.
    mine = f"bm-{uuid.uuid4().hex}"
    routed_store.import_videos([SourcedRecord({"id": mine, "prompt": "q"}, "t", 1)], atomic=True)

    async def push() -> None:
        await middleware.push(routed_store.bookmarks)
        await link.aclose()

    asyncio.run(push())
    assert (
        client.hget(BOOKMARKS_KEY, middleware.field).decode().split()
        == routed_store.bookmarks.written()
    )
    seen = _graphql(
        second, '{ a: video(id: "%s") { id } b: video(id: "%s") { id } }' % (video, mine)
    )
    assert seen == {"a": {"id": video}, "b": {"id": mine}}
