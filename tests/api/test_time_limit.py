"""The request time limit holds on every store, the in-process SQLite path included.

SQLite reads run on the event loop, so cancelling the request alone cannot
stop a query whose resolvers fan out by the thousand. The service is given
a query that the cost limit lets through (its budget raised) and that would
run for tens of seconds: it must answer ``LIMIT_EXCEEDED`` soon after the
limit, and ``/healthz`` must answer promptly all the while: asked in process
(the app on the test's own event loop) and over a real server.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.core.config import ApiSettings
from api.main import create_app
from lineage.store import LineageStore
from tests.api.chains import load_chain, nested_ancestors
from tests.api.conftest import client_of
from tests.api.live import serve_in_thread

pytestmark = pytest.mark.anyio

LIMIT_S = 1.0
# About 20 million ancestor entries on SQLite, half a million on Neo4j (a
# round trip per list, and its chain takes seconds to write): either is far
# beyond the limit on any machine.
DEPTH = {"sqlite": 500, "neo4j": 150}


@pytest.fixture
def slow(store: LineageStore, backend: str) -> tuple[FastAPI, str]:
    """The service with the time limit and no cost limit to speak of, and a slow query."""
    deepest = load_chain(store, DEPTH[backend])
    settings = ApiSettings(request_timeout_s=LIMIT_S, max_query_cost=10**12)
    return create_app(settings, store=store), nested_ancestors(deepest, 3)


def check(reply: httpx.Response, seconds: float, health: list[float]) -> None:
    """The slow query was cut with LIMIT_EXCEEDED in time, and /healthz kept answering."""
    codes = [error["extensions"]["code"] for error in reply.json()["errors"]]
    assert codes, reply.text[:500]
    assert set(codes) == {"LIMIT_EXCEEDED"}, reply.text[:500]
    assert f"limit of {LIMIT_S:g} s" in reply.json()["errors"][0]["message"]
    assert seconds < 5, seconds
    assert health, "/healthz was never asked"
    assert max(health) < 1, health


async def test_in_process_a_slow_query_is_cut_while_healthz_answers(
    slow: tuple[FastAPI, str],
) -> None:
    app, query = slow
    async with app.router.lifespan_context(app), client_of(app) as http:
        asking = asyncio.ensure_future(http.post("/graphql", json={"query": query}, timeout=120))
        started = time.monotonic()
        health: list[float] = []
        while not asking.done() or not health:
            asked = time.monotonic()
            assert (await http.get("/healthz")).status_code == 200
            health.append(time.monotonic() - asked)
            await asyncio.wait([asking], timeout=0.1)
        check(await asking, time.monotonic() - started, health)


def test_over_a_real_server_a_slow_query_is_cut_while_healthz_answers(
    slow: tuple[FastAPI, str],
) -> None:
    app, query = slow
    answer: dict[str, Any] = {}
    with serve_in_thread(app) as url:

        def ask() -> None:
            started = time.monotonic()
            answer["reply"] = httpx.post(f"{url}/graphql", json={"query": query}, timeout=120)
            answer["seconds"] = time.monotonic() - started

        asking = threading.Thread(target=ask)
        asking.start()
        health: list[float] = []
        with httpx.Client(timeout=120) as client:
            while asking.is_alive() or not health:
                asked = time.monotonic()
                assert client.get(f"{url}/healthz").status_code == 200
                health.append(time.monotonic() - asked)
                asking.join(timeout=0.1)
    check(answer["reply"], answer["seconds"], health)
