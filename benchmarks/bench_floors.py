#!/usr/bin/env python3
"""Floors under the speed targets of issues 10 and 11 on this machine. Prints figures.

Each target is a sum of costs that any implementation on the chosen stack
(uvicorn, FastAPI, Strawberry on graphql-core, the store) pays. This
measures each cost alone, at its floor, so that the figures of
``bench_scale.py`` and ``load.py`` can be read against what the stack
allows on these cores:

1. **HTTP.** uvicorn, started as ``lineage serve`` starts it (httptools and
   uvloop when installed), serving a bare ASGI app that answers fixed bytes:
   p50 latency from one keep-alive ``http.client`` connection, the server's
   CPU time per request (from ``/proc``), and the client CPU per request of
   aiohttp with 8 concurrent clients (the client ``load.py`` and
   ``bench_scale.py`` use).
2. **The GraphQL engine.** graphql-core executing each query on the
   contract's SDL (``schema/lineage.graphql``) over its own answer held as
   plain dicts: default resolvers, nothing read, no Strawberry. This is the
   engine's cost for producing that response. Then the same served
   (:class:`EngineApp` under uvicorn): the headline query from one client,
   and load.py's reads (no writes) from 32 aiohttp clients against 2
   workers: what a service that did nothing but run the engine would answer.
3. **Strawberry.** The project's schema executing ``{ __typename }`` in
   process (parser and validation caches warm): what every request pays
   before its first field; and, served, Strawberry's FastAPI router on a
   one-field schema with nothing else (8 aiohttp clients): the framework's
   server CPU per request. Then that app in 2 workers under load.py's 32
   clients: the latency of a request that runs the framework and does
   nothing else, at load.py's concurrency; and, for contrast, the service
   itself (``api.main.create_app`` on the demo) answering the same request
   from its response cache, which does not run the framework.
4. **The store.** The headline query's four SQLite reads on the demo, and
   one remix's share of a batch of 8 into grandma.
5. **Neo4j** (when ``NEO4J_URI`` is set; the database is not touched
   except for nodes labelled ``FloorProbe``, removed at the end): one
   auto-commit ``RETURN 1``, one write transaction, and ``UNWIND ... CREATE``
   of video-shaped nodes with their ``REMIX_OF`` relationship, the least a
   ``lineage import`` does per video.

All CPU figures are CPU time (``time.process_time`` or ``/proc``), the
steadier measure on a shared machine; latencies are wall clock.

Usage: benchmarks/bench_floors.py [--requests N] [--load-seconds S] [--neo4j-rows N]
(about 3 minutes on SQLite alone, 4 with Neo4j)
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
from graphql import GraphQLSchema, build_schema, execute_sync, parse, validate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_scale import HEADLINE, REMIX, latencies  # noqa: E402
from load import READS, free_port, percentile  # noqa: E402

from lineage.store import VideoOrder  # noqa: E402

_FIXED_ANSWER = b'{"data":{"__typename":"Query"}}'
_TYPENAME = {"query": "{ __typename }"}
_TICKS = os.sysconf("SC_CLK_TCK")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def bare_app(scope: Scope, receive: Receive, send: Send) -> None:
    """An ASGI app that reads the request and answers fixed JSON: uvicorn's floor."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # As api.main does: what lives as long as the process (imports,
                # prepared queries) out of the collector's view.
                gc.collect()
                gc.freeze()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await read_body(receive)
    await send_json(send, _FIXED_ANSWER)


async def read_body(receive: Receive) -> bytes:
    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def send_json(send: Send, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


_ANSWERS_VARIABLE = "BENCH_FLOORS_ANSWERS"
_JSON_BODY = {"content-type": "application/json"}


@functools.cache
def contract_schema() -> GraphQLSchema:
    """The contract's SDL as a graphql-core schema (built once per process)."""
    return build_schema((ROOT / "schema" / "lineage.graphql").read_text(encoding="utf-8"))


class EngineApp:
    """An ASGI app that answers GraphQL with graphql-core alone, over stored answers.

    The answers come from a JSON file (``{query: {id: data}}``, id ``""`` for
    queries without one) named by ``BENCH_FLOORS_ANSWERS``; each query is
    parsed and validated once, as the service's parser and validation caches
    do. Every request still executes its query over the answer held as plain
    dicts: the served floor of the GraphQL engine, with no Strawberry and no
    store.
    """

    def __init__(self) -> None:
        self.prepared: dict[str, tuple[Any, Any, dict[str, Any]]] = {}

    def _prepare(self) -> None:
        schema = contract_schema()
        answers = json.loads(Path(os.environ[_ANSWERS_VARIABLE]).read_text(encoding="utf-8"))
        for query, by_id in answers.items():
            document = parse(query)
            if errors := validate(schema, document):
                raise ValueError(f"the contract's SDL refuses {query!r}: {errors}")
            self.prepared[query] = (schema, document, by_id)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            self._prepare()  # before bare_app's start-up freezes the heap
            await bare_app(scope, receive, send)
            return
        request = json.loads(await read_body(receive))
        schema, document, by_id = self.prepared[request["query"]]
        variables = request.get("variables") or {}
        result = execute_sync(
            schema, document, root_value=by_id[variables.get("id", "")], variable_values=variables
        )
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [error.formatted for error in result.errors]
        await send_json(send, json.dumps(answer).encode())


engine_app = EngineApp()


def strawberry_app() -> Any:
    """Strawberry's FastAPI router on a one-field schema, with the service's
    tuning and nothing else: the framework's served floor (``uvicorn --factory``)."""
    import strawberry
    from fastapi import FastAPI
    from strawberry.extensions import ParserCache, ValidationCache
    from strawberry.fastapi import GraphQLRouter

    @strawberry.type
    class Query:
        @strawberry.field
        def ok(self) -> bool:
            return True

    # A coroutine, as the service's: FastAPI would run the default (a plain
    # function) in a worker thread on every request.
    async def context() -> dict[str, Any]:
        return {}

    schema = strawberry.Schema(
        query=Query,
        extensions=[lambda: ParserCache(maxsize=256), lambda: ValidationCache(maxsize=256)],
    )
    app = FastAPI()
    app.include_router(GraphQLRouter(schema, context_getter=context), prefix="/graphql")
    # As api.main does: long-lived objects out of the collector's view.
    gc.collect()
    gc.freeze()
    return app


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


@contextmanager
def bare_server(
    app: str = "bare_app",
    env: dict[str, str] | None = None,
    workers: int = 1,
    factory: bool = False,
) -> Iterator[tuple[int, int]]:
    """uvicorn serving ``app`` of this module (or ``module:app`` of benchmarks/) on
    a loopback port in ``workers`` processes: (port, pid of uvicorn's first process)."""
    port = free_port()
    target = app if ":" in app else f"bench_floors:{app}"
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", target, "--app-dir",
         str(ROOT / "benchmarks"), "--port", str(port), "--log-level", "warning",
         "--no-access-log", "--workers", str(workers), *(["--factory"] if factory else [])],
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield port, server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


def one_client(
    port: int, pid: int, query: str, requests: int, expect: Any = None
) -> tuple[list[float], float, float]:
    """:func:`bench_scale.latencies` of ``query`` on one keep-alive connection,
    after 200 to warm up (their ``data`` checked against ``expect`` when given):
    latencies in ms, and the server's and this process's CPU ms per request."""
    connection = http.client.HTTPConnection("127.0.0.1", port)
    body = json.dumps({"query": query})
    for _ in range(200):
        connection.request("POST", "/graphql", body=body, headers=_JSON_BODY)
        answer = connection.getresponse().read()
        if expect is not None and json.loads(answer)["data"] != expect:
            sys.exit("the floor's answer differs from the service's")
    server_before, client_before = cpu_seconds(pid), time.process_time()
    samples = latencies(connection, query, requests, cached=False)
    server_cpu = (cpu_seconds(pid) - server_before) / requests * 1000
    client_cpu = (time.process_time() - client_before) / requests * 1000
    connection.close()
    return samples, server_cpu, client_cpu


def http_floor(requests: int) -> dict[str, float]:
    with bare_server() as (port, pid):
        samples, server_cpu, client_cpu = one_client(port, pid, "{ __typename }", requests)
        aiohttp_cpu, aiohttp_server_cpu, rate = asyncio.run(
            aiohttp_clients(port, pid, requests, clients=8)
        )
    return {
        "p50 ms": statistics.median(samples),
        "server CPU ms/request": server_cpu,
        "http.client CPU ms/request": client_cpu,
        "aiohttp CPU ms/request": aiohttp_cpu,
        "server CPU ms/request, 8 aiohttp clients": aiohttp_server_cpu,
        "requests/s, 8 aiohttp clients": rate,
    }


def framework_floor(requests: int) -> dict[str, float]:
    """``{ __typename }`` through FastAPI and Strawberry (:func:`strawberry_app`), served."""
    with bare_server("strawberry_app", factory=True) as (port, pid):
        _, server_cpu, rate = asyncio.run(aiohttp_clients(port, pid, requests, clients=8))
    return {
        "FastAPI + Strawberry served: server CPU ms/request, 8 clients": server_cpu,
        "FastAPI + Strawberry served: requests/s, 8 clients": rate,
    }


def served_engine_floor(
    answers: dict[str, dict[str, Any]], path: Path, requests: int
) -> dict[str, float]:
    """The headline query through uvicorn and graphql-core alone (:class:`EngineApp`):
    p50 from one keep-alive ``http.client`` connection, and server CPU per request.
    ``path`` holds ``answers`` as JSON."""
    with bare_server("engine_app", {_ANSWERS_VARIABLE: str(path)}) as (port, pid):
        samples, server_cpu, _ = one_client(
            port, pid, HEADLINE, requests, expect=answers[HEADLINE][""]
        )
    return {
        "served engine: headline p50 ms": statistics.median(samples),
        "served engine: headline server CPU ms/request": server_cpu,
    }


def served_engine_load(
    answers: dict[str, dict[str, Any]], path: Path, seconds: float
) -> dict[str, float]:
    """load.py's reads (no writes) against :class:`EngineApp` in 2 uvicorn workers,
    32 aiohttp clients without pause: throughput and read latency p50 / p99.
    ``path`` holds ``answers`` as JSON."""
    reads = [(query, list(answers[query])) for query in READS.values()]

    def read(rng: random.Random) -> dict[str, Any]:
        query, ids = rng.choice(reads)
        return {"query": query, "variables": {"id": rng.choice(ids)}}

    with bare_server("engine_app", {_ANSWERS_VARIABLE: str(path)}, workers=2) as (port, _):
        asyncio.run(warm_up(port, reads))
        samples = asyncio.run(closed_loop(port, seconds, read))
    return load_figures("served engine", samples, seconds)


def served_framework_load(seconds: float) -> dict[str, float]:
    """``{ __typename }`` through FastAPI and Strawberry (:func:`strawberry_app`) in 2
    uvicorn workers, 32 aiohttp clients without pause: the least any request that
    runs the framework waits at load.py's concurrency."""
    samples = typename_load("strawberry_app", seconds)
    return load_figures("FastAPI + Strawberry { __typename }", samples, seconds)


def served_cache_load(database: Path, seconds: float) -> dict[str, float]:
    """The service itself (:func:`service_app` on ``database``) answering
    ``{ __typename }`` from its response cache, 2 workers, 32 aiohttp clients: a
    request that does not run the framework, at load.py's concurrency."""
    env = {
        "LINEAGE_STORE": "sqlite",
        "LINEAGE_DB": str(database),
        "LINEAGE_ACCESS_LOG": "false",
        # The defaults, whatever the caller's environment says.
        "LINEAGE_API_RESPONSE_CACHE_ENTRIES": "512",
        "LINEAGE_API_PUBLIC_READS": "true",
    }
    cache = Counter[str]()
    samples = typename_load("service_app", seconds, env, cache)
    # Each worker's first answer is a miss (the warm-up may reach one worker only).
    if cache["hit"] < 0.99 * len(samples):
        sys.exit(f"the service's cache did not answer the load: {dict(cache)}")
    return load_figures("service, cached { __typename }", samples, seconds)


def typename_load(
    app: str, seconds: float, env: dict[str, str] | None = None, cache: Counter[str] | None = None
) -> list[float]:
    """:func:`closed_loop` of ``{ __typename }`` against the factory ``app`` of this
    module in 2 uvicorn workers, after a warm-up."""
    with bare_server(app, env, workers=2, factory=True) as (port, _):
        asyncio.run(warm_up(port, [(_TYPENAME["query"], [""])]))
        return asyncio.run(closed_loop(port, seconds, lambda _: _TYPENAME, cache))


def service_app() -> Any:
    """``lineage serve``'s application (``uvicorn --factory``), store from the environment."""
    from api.main import create_app

    return create_app()


def load_figures(name: str, samples: list[float], seconds: float) -> dict[str, float]:
    return {
        f"{name}, 2 workers, 32 clients: reads/s": len(samples) / seconds,
        f"{name}, 2 workers, 32 clients: read p50 ms": percentile(samples, 0.5) * 1000,
        f"{name}, 2 workers, 32 clients: read p99 ms": percentile(samples, 0.99) * 1000,
    }


async def closed_loop(
    port: int,
    seconds: float,
    payload: Callable[[random.Random], dict[str, Any]],
    cache: Counter[str] | None = None,
) -> list[float]:
    """32 aiohttp clients, each sending ``payload(its rng)`` without pause for
    ``seconds``, as load.py's do: the latencies in seconds. Any GraphQL error ends
    the benchmark. ``cache``, when given, counts the answers' ``x-lineage-cache``."""
    samples: list[float] = []
    deadline = time.monotonic() + seconds

    async def client(number: int, http: aiohttp.ClientSession) -> None:
        rng = random.Random(number)
        while time.monotonic() < deadline:
            body = payload(rng)
            started = time.perf_counter()
            async with http.post("/graphql", json=body) as reply:
                answer = await reply.json()
            samples.append(time.perf_counter() - started)
            if cache is not None:
                cache[reply.headers.get("x-lineage-cache", "none")] += 1
            if "errors" in answer:
                sys.exit(f"the floor failed: {answer['errors']}")

    connector = aiohttp.TCPConnector(limit=32)
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", connector=connector) as http:
        await asyncio.gather(*(client(number, http) for number in range(32)))
    return samples


async def warm_up(port: int, reads: list[tuple[str, list[str]]]) -> None:
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
        for _ in range(20):  # both workers, each query
            for query, ids in reads:
                payload = {"query": query, "variables": {"id": ids[0]}}
                async with http.post("/graphql", json=payload) as reply:
                    await reply.read()


async def aiohttp_clients(
    port: int, pid: int, requests: int, clients: int
) -> tuple[float, float, float]:
    per_client = requests // clients

    async def client(http: aiohttp.ClientSession) -> None:
        for _ in range(per_client):
            async with http.post("/graphql", json=_TYPENAME) as reply:
                await reply.read()

    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))  # warm-up
        server_before, client_before = cpu_seconds(pid), time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    done = per_client * clients
    return (
        (time.process_time() - client_before) / done * 1000,
        (cpu_seconds(pid) - server_before) / done * 1000,
        done / elapsed,
    )


def best_cpu_ms(run: Callable[[], object], count: int, rounds: int = 5) -> float:
    """The best of ``rounds`` means of ``count`` calls, CPU ms per call."""
    for _ in range(min(count, 50)):
        run()
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(count):
            run()
        best = min(best, (time.process_time() - started) / count * 1000)
    return best


def engine_floor(query: str, answer: dict[str, Any], variables: dict[str, Any] | None) -> float:
    """graphql-core alone: ``query`` on the contract's SDL over its own answer."""
    schema = contract_schema()
    document = parse(query)
    if errors := validate(schema, document):
        sys.exit(f"the contract's SDL refuses the query: {errors}")

    def run() -> None:
        result = execute_sync(schema, document, root_value=answer, variable_values=variables)
        if result.errors:
            sys.exit(f"graphql-core failed: {result.errors}")

    return best_cpu_ms(run, 500)


def project_figures(
    workdir: Path, requests: int
) -> tuple[dict[str, float], dict[str, dict[str, Any]]]:
    """Strawberry's fixed cost, the engine floors and the store's part, on the demo;
    and the answers :class:`EngineApp` serves (the headline query, load.py's reads)."""
    from api.core.config import ApiSettings
    from api.graphql.context import LineageContext
    from api.graphql.schema import build_schema as build_project_schema
    from lineage.demo.tree import demo_records
    from lineage.importing.records import SourcedRecord
    from lineage.stores.sqlite import SQLiteStore

    store = SQLiteStore(workdir / "floors.db")
    store.import_videos(SourcedRecord(r, "demo", n) for n, r in enumerate(demo_records(), 1))
    settings = ApiSettings()
    schema = build_project_schema(settings)
    loop = asyncio.new_event_loop()

    def answer(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        result = loop.run_until_complete(
            schema.execute(
                query, variable_values=variables, context_value=LineageContext(store, settings)
            )
        )
        if result.errors or result.data is None:
            sys.exit(f"query failed: {result.errors}")
        return result.data

    figures: dict[str, float] = {}
    figures["Strawberry { __typename } CPU ms"] = best_cpu_ms(
        lambda: answer("{ __typename }"), requests // 4
    )
    headline = answer(HEADLINE)
    figures["engine: headline CPU ms"] = engine_floor(HEADLINE, headline, None)
    figures["project: headline schema.execute CPU ms"] = best_cpu_ms(
        lambda: answer(HEADLINE), requests // 10
    )
    # Videos as load.py samples them: grandma's first 100 remixes and their
    # first 20 remixes each.
    sample = answer(
        '{ video(id: "grandma") { remixes(first: 100) { edges { node { child { id '
        "remixes(first: 20) { edges { node { child { id } } } } } } } } } }"
    )["video"]["remixes"]["edges"]
    sampled = [edge["node"]["child"]["id"] for edge in sample]
    sampled += [
        e["node"]["child"]["id"]
        for edge in sample
        for e in edge["node"]["child"]["remixes"]["edges"]
    ]
    picked = random.Random(0).sample(sampled, 60)
    ids = picked[:12]  # in the loop: a dozen of them, each query timed on each
    engine_reads = []
    for name, query in sorted(READS.items()):
        if "$id" not in query:
            costs = [engine_floor(query, answer(query), None)]
        else:
            costs = [
                engine_floor(query, answer(query, {"id": video_id}), {"id": video_id})
                for video_id in ids
            ]
        engine_reads.append(statistics.fmean(costs))
        figures[f"engine: load read {name} CPU ms"] = engine_reads[-1]
    figures["engine: load reads, mean CPU ms"] = statistics.fmean(engine_reads)
    remix_answer = {"remixVideo": {"child": {"id": "r1"}}}
    remix_variables = {"parent": "grandma", "id": "r1", "prompt": "A hippo"}
    figures["engine: remix mutation CPU ms"] = engine_floor(REMIX, remix_answer, remix_variables)

    def headline_reads() -> None:
        store.get_videos(["grandma"])
        store.generation_counts_many(["grandma"])
        store.children_many(["grandma"], VideoOrder.DERIVATIVES, 11)
        store.variant_groups_with_tops("grandma", 5)

    figures["store: headline's 4 reads CPU ms"] = best_cpu_ms(headline_reads, requests // 4)
    figures["store: one remix in a batch of 8 CPU ms"] = remix_batches(store)
    answers: dict[str, dict[str, Any]] = {HEADLINE: {"": headline}}
    for query in READS.values():
        if "$id" not in query:
            answers[query] = {"": answer(query)}
        else:
            answers[query] = {video_id: answer(query, {"id": video_id}) for video_id in picked}
    loop.close()
    store.close()
    return figures, answers


def remix_batches(store: Any, batches: int = 60) -> float:
    """CPU ms per remix, importing batches of 8 remixes of grandma (as group commit does)."""
    from lineage.importing.records import SourcedRecord

    def batch(number: int) -> list[SourcedRecord]:
        return [
            SourcedRecord(
                {
                    "id": f"floor-{number}-{k}",
                    "parent_id": "grandma",
                    "prompt": f"A grandmother chases a floor {number} {k} out of the yard",
                },
                "floors",
                number * 8 + k + 1,
            )
            for k in range(8)
        ]

    for number in range(10):
        store.import_videos(batch(number))
    started = time.process_time()
    for number in range(10, 10 + batches):
        store.import_videos(batch(number))
    return (time.process_time() - started) / (batches * 8) * 1000


def _touch_probe(tx: Any, number: int) -> None:
    tx.run("MERGE (p:FloorProbe {id: 'txn'}) SET p.n = $n", n=number).consume()


def _create_probes(tx: Any, cypher: str, rows: list[list[Any]]) -> None:
    tx.run(cypher, rows=rows).consume()


def neo4j_figures(rows: int) -> dict[str, float]:
    import neo4j

    uri = os.environ["NEO4J_URI"]
    auth = (os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", ""))
    database = os.environ.get("NEO4J_DATABASE", "neo4j")
    figures: dict[str, float] = {}
    with (
        neo4j.GraphDatabase.driver(uri, auth=auth) as driver,
        driver.session(database=database) as session,
    ):
        samples = []
        for number in range(300):
            started = time.perf_counter()
            session.run("RETURN 1").consume()
            if number >= 50:
                samples.append((time.perf_counter() - started) * 1000)
        figures["Neo4j RETURN 1 p50 ms"] = statistics.median(samples)
        samples = []
        for number in range(150):
            started = time.perf_counter()
            session.execute_write(_touch_probe, number)
            if number >= 30:
                samples.append((time.perf_counter() - started) * 1000)
        figures["Neo4j one-write transaction p50 ms"] = statistics.median(samples)
        figures["Neo4j UNWIND CREATE videos/s"] = neo4j_create_rate(session, rows)
        session.run(
            "MATCH (n:FloorProbe) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()
    return figures


def neo4j_create_rate(session: Any, rows: int) -> float:
    """Video-shaped nodes (20 properties) under one parent, 5,000 per statement."""
    session.run("CREATE INDEX floor_probe_id IF NOT EXISTS FOR (p:FloorProbe) ON (p.id)").consume()
    session.run("CALL db.awaitIndexes()").consume()
    session.run("MERGE (:FloorProbe {id: 'root'})").consume()
    create = (
        "UNWIND $rows AS row MATCH (p:FloorProbe {id: 'root'}) "
        "CREATE (:FloorProbe {id: row[0], prompt: row[1], parent_id: 'root', created_us: row[2], "
        "likes: 0, views: 0, generation: 1, original_id: 'root', derivative_count: 0, "
        "direct_remix_count: 0, tree_depth: 0, subtree_likes: 0, subtree_views: 0, "
        "rank_derivatives: 0, rank_direct: 0, rank_likes: 0, rank_views: 0, "
        "rank_newest: -row[2], variant_key: row[3]})"
        "-[:REMIX_OF {summary: row[3], variant_key: row[3], similarity: 0.9}]->(p)"
    )

    def create_rows(first: int, last: int) -> float:
        started = time.perf_counter()
        for start in range(first, last, 5000):
            batch = [
                [f"probe-{n}", f"A grandmother chases a probe {n}", n, f"crocodile→probe {n}"]
                for n in range(start, min(last, start + 5000))
            ]
            session.execute_write(_create_probes, create, batch)
        return time.perf_counter() - started

    create_rows(-20_000, 0)  # warm-up: the server compiles and caches the plan
    elapsed = create_rows(0, rows)
    session.run("DROP INDEX floor_probe_id IF EXISTS").consume()
    return rows / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="requests per HTTP figure")
    parser.add_argument("--neo4j-rows", type=int, default=100_000, help="videos to CREATE")
    parser.add_argument("--load-seconds", type=float, default=20, help="the served read load")
    args = parser.parse_args()
    figures = http_floor(args.requests) | framework_floor(args.requests)
    with tempfile.TemporaryDirectory() as workdir:
        project, answers = project_figures(Path(workdir), args.requests)
        figures |= project
        answers_path = Path(workdir) / "answers.json"
        answers_path.write_text(json.dumps(answers), encoding="utf-8")
        figures |= served_engine_floor(answers, answers_path, args.requests)
        figures |= served_engine_load(answers, answers_path, args.load_seconds)
        figures |= served_framework_load(args.load_seconds)
        figures |= served_cache_load(Path(workdir) / "floors.db", args.load_seconds)
    if os.environ.get("NEO4J_URI"):
        figures |= neo4j_figures(args.neo4j_rows)
    width = max(len(name) for name in figures)
    for name, value in figures.items():
        print(f"{name:<{width}}  {value:10.3f}")
    report(figures)


def report(f: dict[str, float]) -> None:
    """The sums against the targets."""
    print()
    headline = (
        f["p50 ms"]
        + f["Strawberry { __typename } CPU ms"]
        + f["engine: headline CPU ms"]
        + f["store: headline's 4 reads CPU ms"]
    )
    store = f["store: headline's 4 reads CPU ms"]
    print(
        f"headline p50 floor: HTTP {f['p50 ms']:.2f} + Strawberry "
        f"{f['Strawberry { __typename } CPU ms']:.2f} + engine {f['engine: headline CPU ms']:.2f}"
        f" + store {store:.2f} = {headline:.2f} ms (target < 2 ms)"
    )
    print(
        f"headline p50 served by uvicorn and graphql-core alone (no Strawberry, no store): "
        f"{f['served engine: headline p50 ms']:.2f} ms (target < 2 ms)"
    )
    per_request = (
        f["aiohttp CPU ms/request"]
        + f["server CPU ms/request, 8 aiohttp clients"]
        + f["Strawberry { __typename } CPU ms"]
    )
    read = per_request + f["engine: load reads, mean CPU ms"]
    print(
        f"a load read, CPU floor: client + HTTP server + Strawberry + engine = {read:.2f} ms: "
        f"at most {2000 / read:,.0f} reads/s on 2 cores; 32 clients without pause need "
        f"{32 / 0.05:,.0f}/s for a 50 ms latency"
    )
    framework = f["FastAPI + Strawberry served: server CPU ms/request, 8 clients"]
    rate = f["served engine, 2 workers, 32 clients: reads/s"]
    engine_served = 2000 / rate
    p99 = f["served engine, 2 workers, 32 clients: read p99 ms"]
    # Closed loop: mean latency = clients / throughput (Little's law); the
    # p99 is scaled by the engine run's own p99-to-mean ratio.
    with_framework = 2000 / (engine_served + framework)
    print(
        f"served, per read: the engine alone {engine_served:.2f} ms of the 2 cores (client "
        f"included), FastAPI + Strawberry's empty request {framework:.2f} ms more: at most "
        f"{with_framework:,.0f} reads/s, so 32 clients wait {32 / with_framework * 1000:.0f} ms "
        f"on average; at the engine run's p99/mean ratio ({p99 / (32 / rate * 1000):.1f}) a p99 "
        f"near {p99 * rate / with_framework:.0f} ms, before the store or any of the service's "
        "own work (estimate)"
    )
    print(
        f"load.py's reads served by uvicorn and graphql-core alone, 2 workers, 32 clients: "
        f"{f['served engine, 2 workers, 32 clients: reads/s']:,.0f}/s, p50 / p99 "
        f"{f['served engine, 2 workers, 32 clients: read p50 ms']:.1f} / "
        f"{f['served engine, 2 workers, 32 clients: read p99 ms']:.1f} ms (target p99 < 50 ms)"
    )
    for name, what in [
        ("FastAPI + Strawberry { __typename }", "FastAPI + Strawberry answering nothing"),
        ("service, cached { __typename }", "the service's response cache (no framework run)"),
    ]:
        print(
            f"{what}, 2 workers, 32 clients: {f[f'{name}, 2 workers, 32 clients: reads/s']:,.0f}"
            f"/s, p50 / p99 {f[f'{name}, 2 workers, 32 clients: read p50 ms']:.1f} / "
            f"{f[f'{name}, 2 workers, 32 clients: read p99 ms']:.1f} ms (target p99 < 50 ms)"
        )
    remix = (
        per_request
        + f["engine: remix mutation CPU ms"]
        + f["store: one remix in a batch of 8 CPU ms"]
    )
    print(
        f"a remix, CPU floor: client + HTTP server + Strawberry + engine + store = {remix:.2f} ms:"
        f" at most {2000 / remix:,.0f} remixes/s on 2 cores (target 1,000 with 8 clients)"
    )
    if "Neo4j one-write transaction p50 ms" in f:
        commit = f["Neo4j one-write transaction p50 ms"]
        print(
            f"Neo4j: 8 clients each waiting for one commit of {commit:.1f} ms: at most "
            f"{8 / commit * 1000:,.0f} remixes/s if every remix were one statement "
            f"(target 200); CREATE alone {f['Neo4j UNWIND CREATE videos/s']:,.0f} videos/s "
            "(import target 10,000/s)"
        )


if __name__ == "__main__":
    main()
