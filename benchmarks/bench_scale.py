#!/usr/bin/env python3
"""Benchmark of viral scale (issue 10), on SQLite and Neo4j in one run. Prints figures.

For each store, with the demo tree loaded and the API served by
``lineage serve`` on a loopback port:

1. the headline lineage query, one client: p50/p99 uncached
   (``Cache-Control: no-cache``, which bypasses the response cache) and
   cached, with ``{ __typename }`` as the floor; and the same query executed
   in this process (``schema.execute`` with a real context, no HTTP), with
   the Bolt queries it sends on Neo4j;
2. a page of ``remixes(first: 20)``, uncached: grandma (18,000 remixes)
   against a parent with about 20;
3. remixes/s into grandma through the API with 1, 8 and 32 clients (group
   commit on), then ``lineage check`` and a count of every acknowledged remix;
4. the cache hit rate of repeated reads about another tree (nainai) while
   grandma is remixed at 50 writes/s;
5. Neo4j only: ``lineage import`` of one lineage of ``--tree-size`` videos.

Usage: benchmarks/bench_scale.py [--stores sqlite,neo4j] [--seconds N] [--tree-size N]
       [--only reads,remixes,hits,import] [--clients 1,8,32] [--workers N]
Writes carry a writer token made for the run (the API's write rate is raised
for it: ``LINEAGE_API_WRITE_RATE`` would otherwise cap one token). The API
runs as ``lineage serve`` with ``--workers`` processes (default: one per
core); clients run here, on asyncio. Neo4j needs NEO4J_* in the
environment (``eval "$(scripts/neo4j-local start)"``); its database is emptied.
Targets (issue 10): Neo4j headline p50 within 3x of SQLite's; SQLite
uncached p50 < 2 ms; a page on grandma costs what it costs on a small
parent; >= 1,000 remixes/s (SQLite) and >= 200/s (Neo4j) with 8 clients;
>= 90% cache hits on another tree; >= 10,000 videos/s for the import.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lineage.access.tokens import Role, token_store_for  # noqa: E402
from lineage.demo.synthetic import synthetic_forest  # noqa: E402
from lineage.demo.tree import demo_records  # noqa: E402
from lineage.importing.records import SourcedRecord  # noqa: E402
from lineage.store import LineageStore, VideoOrder  # noqa: E402
from lineage.tree.check import check_store  # noqa: E402

HEADLINE = (
    '{ video(id: "grandma") { derivativeCount treeDepth generationCounts { generation count } '
    "topVariants(limit: 10) { child { id derivativeCount } promptDiff { summary variantKey } } "
    "variantGroups(limit: 5) { key remixCount reach top { child { id } } } } }"
)
PAGE = (
    '{ video(id: "%s") { remixes(first: 20) { edges { node { child { id derivativeCount } } } } } }'
)
OTHER_TREE = [
    '{ video(id: "nainai") { derivativeCount treeDepth topVariants(limit: 5) { child { id } } } }',
    '{ video(id: "nainai") { remixes(first: 10) { totalCount edges { node { child { id } } } } } }',
    '{ video(id: "nainai") { variantGroups(limit: 5) { key reach top { child { id } } } } }',
]
REMIX = (
    "mutation($parent: ID!, $id: ID!, $prompt: String!) { "
    "remixVideo(parentId: $parent, input: {id: $id, prompt: $prompt}) { child { id } } }"
)
PROMPT = "A grandmother chases a crocodile out of the yard"


@contextlib.contextmanager
def serve(kind: str, workdir: Path, workers: int) -> Iterator[str]:
    """``lineage serve`` in its own processes (clients here must not share its GIL)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "LINEAGE_STORE": kind,
        "LINEAGE_DB": str(workdir / "bench.db"),
        "LINEAGE_API_WRITE_RATE": "10000000/minute",
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "lineage"),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.post(f"{url}/graphql", json={"query": "{ __typename }"}, timeout=5)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def latencies(
    connection: http.client.HTTPConnection, query: str, count: int, *, cached: bool
) -> list[float]:
    """Sequential POSTs of ``query`` on one keep-alive connection, in ms.

    The standard library's client adds about 0.5 ms a request on this
    machine, httpx's synchronous one about 1.5 ms, which would sit in every
    figure measured here.
    """
    headers = {"content-type": "application/json"}
    if not cached:
        headers["cache-control"] = "no-cache"
    body = json.dumps({"query": query})
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        connection.request("POST", "/graphql", body=body, headers=headers)
        reply = connection.getresponse()
        text = reply.read()
        samples.append((time.perf_counter() - started) * 1000)
        if reply.status != 200 or "errors" in json.loads(text):
            sys.exit(f"query failed: {text[:500]!r}")
    return samples


def p(samples: list[float], q: float) -> float:
    return sorted(samples)[min(len(samples) - 1, int(q * len(samples)))]


def remix_rate(
    url: str, token: str, clients: int, seconds: float, tag: str
) -> tuple[float, list[str]]:
    """Remixes/s into grandma from ``clients`` concurrent clients (asyncio, one thread).

    The clients use aiohttp: httpx's client costs about ten times its CPU per
    request, and on a 2-core machine shared with the server a costly client
    caps the rate it measures.
    """
    acknowledged: list[str] = []
    failures: list[str] = []

    async def client(http: aiohttp.ClientSession, number: int, stop: float) -> None:
        step = 0
        while time.monotonic() < stop:
            video_id = f"{tag}-{number}-{step}"
            prompt = PROMPT.replace("crocodile", f"creature {tag} {number} {step}")
            async with http.post(
                "/graphql",
                json={
                    "query": REMIX,
                    "variables": {"parent": "grandma", "id": video_id, "prompt": prompt},
                },
            ) as reply:
                body = await reply.read()
                if reply.status == 200 and b'"errors"' not in body:
                    acknowledged.append(video_id)
                else:
                    failures.append(body.decode(errors="replace")[:200])
            step += 1

    async def run() -> float:
        async with aiohttp.ClientSession(
            url,
            headers={"authorization": f"Bearer {token}"},
            connector=aiohttp.TCPConnector(limit=clients),
            timeout=aiohttp.ClientTimeout(total=120),
        ) as http:
            started = time.monotonic()
            stop = started + seconds
            await asyncio.gather(*(client(http, n, stop) for n in range(clients)))
            return time.monotonic() - started

    elapsed = asyncio.run(run())
    if failures:
        print(f"  {len(failures)} refused, e.g. {failures[0]}")
    return len(acknowledged) / elapsed, acknowledged


def hit_rate(url: str, token: str, seconds: float) -> float:
    stop = time.monotonic() + seconds

    def writer() -> None:
        headers = {"authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, timeout=60, headers=headers) as http:
            step = 0
            while time.monotonic() < stop:
                began = time.monotonic()
                http.post(
                    "/graphql",
                    json={
                        "query": REMIX,
                        "variables": {
                            "parent": "grandma",
                            "id": f"hit-{step}",
                            "prompt": PROMPT.replace("crocodile", f"hit {step}"),
                        },
                    },
                )
                step += 1
                time.sleep(max(0.0, 0.02 - (time.monotonic() - began)))  # 50 writes/s

    thread = threading.Thread(target=writer)
    thread.start()
    hits = total = 0
    with httpx.Client(base_url=url, timeout=60) as http:
        for query in OTHER_TREE:  # a first sight of each query learns its trees
            http.post("/graphql", json={"query": query})
        while time.monotonic() < stop:
            for query in OTHER_TREE:
                reply = http.post("/graphql", json={"query": query})
                total += 1
                hits += reply.headers.get("x-lineage-cache") == "hit"
    thread.join()
    return hits / max(total, 1)


def open_store(kind: str, workdir: Path) -> LineageStore:
    if kind == "sqlite":
        from lineage.stores.sqlite import SQLiteStore

        return SQLiteStore(workdir / "bench.db")
    from lineage.stores.neo4j import Neo4jStore

    uri = os.environ["NEO4J_URI"]
    auth = (os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", ""))
    database = os.environ.get("NEO4J_DATABASE", "neo4j")
    import neo4j

    with (
        neo4j.GraphDatabase.driver(uri, auth=auth) as driver,
        driver.session(database=database) as session,
    ):
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()
    return Neo4jStore(uri, *auth, database)


def in_process(store: LineageStore, count: int) -> tuple[list[float], int]:
    """The headline query executed here (schema and context, no HTTP): latencies in
    ms, and the Bolt read queries one execution sends (0 for in-process stores)."""
    from api.core.config import ApiSettings
    from api.graphql.context import LineageContext
    from api.graphql.schema import build_schema

    settings = ApiSettings()
    schema = build_schema(settings)
    reads: Any = getattr(store, "async_reads", None)

    async def run() -> tuple[list[float], int]:
        samples = []
        for number in range(count + 20):
            before = reads.queries_sent if reads is not None else 0
            started = time.perf_counter()
            result = await schema.execute(HEADLINE, context_value=LineageContext(store, settings))
            elapsed = (time.perf_counter() - started) * 1000
            if result.errors:
                sys.exit(f"query failed: {result.errors}")
            sent = (reads.queries_sent if reads is not None else 0) - before
            if number >= 20:  # warm-up left out
                samples.append(elapsed)
        if reads is not None:
            await reads.aclose()
        return samples, sent

    return asyncio.run(run())


def bench_store(kind: str, args: argparse.Namespace, workdir: Path) -> dict[str, float]:
    figures: dict[str, float] = {}
    only = set(args.only.split(","))
    store = open_store(kind, workdir)
    started = time.perf_counter()
    store.import_videos(SourcedRecord(r, "demo", n) for n, r in enumerate(demo_records(), 1))
    print(f"[{kind}] demo loaded in {time.perf_counter() - started:.1f} s")
    tokens = token_store_for(store)
    token = tokens.create(f"bench-{os.getpid()}", Role.WRITER)
    tokens.close()
    small = next(
        video.id
        for video in store.children("grandma", VideoOrder.DIRECT_REMIXES, 100)
        if 18 <= video.direct_remix_count <= 22
    )
    if "reads" in only:
        local, bolt = in_process(store, args.requests)
        print(
            f"[{kind}] headline query in process (schema.execute): p50 "
            f"{statistics.median(local):.2f} ms p99 {p(local, 0.99):.2f} ms"
            + (f"; {bolt} Bolt queries per execution" if kind == "neo4j" else "")
        )
    with serve(kind, workdir, args.workers) as url:
        if "reads" in only:
            address = urllib.parse.urlsplit(url)
            connection = http.client.HTTPConnection(
                address.hostname or "127.0.0.1", address.port, timeout=60
            )
            try:
                read_figures(kind, connection, args, figures, store, small)
            finally:
                connection.close()
        if "remixes" in only:
            for clients in (int(n) for n in args.clients.split(",")):
                load = os.getloadavg()[0]
                rate, acknowledged = remix_rate(url, token, clients, args.seconds, f"b{clients}")
                found = store.get_videos(acknowledged)
                lost = len(acknowledged) - len(found)
                figures[f"remixes/s {clients}"] = rate
                print(
                    f"[{kind}] {clients:>2} clients remixing grandma: {rate:,.0f} remixes/s "
                    f"({len(acknowledged):,} acknowledged, {lost} lost; "
                    f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after)"
                )
        if "hits" in only:
            rate = hit_rate(url, token, args.seconds)
            figures["hit rate"] = rate
            print(f"[{kind}] cache hits on nainai while grandma takes 50 writes/s: {rate:.0%}")
    mismatches = check_store(store)
    print(f"[{kind}] lineage check: {len(mismatches)} mismatches")
    store.close()
    return figures


def read_figures(
    kind: str,
    connection: http.client.HTTPConnection,
    args: argparse.Namespace,
    figures: dict[str, float],
    store: LineageStore,
    small: str,
) -> None:
    latencies(connection, HEADLINE, 50, cached=False)
    uncached = latencies(connection, HEADLINE, args.requests, cached=False)
    latencies(connection, HEADLINE, 3, cached=True)
    cached = latencies(connection, HEADLINE, args.requests, cached=True)
    floor = latencies(connection, "{ __typename }", args.requests, cached=False)
    figures["headline p50"] = statistics.median(uncached)
    print(
        f"[{kind}] headline query uncached p50 {statistics.median(uncached):.2f} ms "
        f"p99 {p(uncached, 0.99):.2f} ms; cached p50 {statistics.median(cached):.2f} ms "
        f"p99 {p(cached, 0.99):.2f} ms; {{ __typename }} p50 {statistics.median(floor):.2f} ms"
    )
    big = latencies(connection, PAGE % "grandma", args.requests, cached=False)
    little = latencies(connection, PAGE % small, args.requests, cached=False)
    print(
        f"[{kind}] remixes(first: 20) uncached p50: grandma (18,000) "
        f"{statistics.median(big):.2f} ms vs {small} ({store.count_children(small)}) "
        f"{statistics.median(little):.2f} ms"
    )


def import_one_tree(size: int, workdir: Path) -> None:
    path = workdir / "tree.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for record in synthetic_forest(size, seed=7, originals=1):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    open_store("neo4j", workdir).close()  # empty, with the schema
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "lineage", "import", str(path)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "LINEAGE_STORE": "neo4j"},
    )
    elapsed = time.perf_counter() - started
    if result.returncode:
        print(f"[neo4j] import failed: {result.stderr[-2000:]}")
        return
    print(
        f"[neo4j] one lineage of {size:,} videos, lineage import: {elapsed:.1f} s, "
        f"{size / elapsed:,.0f} videos/s (target >= 10,000)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stores", default="sqlite,neo4j")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--tree-size", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--only",
        default="reads,remixes,hits,import",
        help="what to measure, comma-separated: reads, remixes, hits, import",
    )
    parser.add_argument("--clients", default="1,8,32", help="remixing clients, comma-separated")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="lineage-bench-scale-"))
    results = {}
    for kind in args.stores.split(","):
        if kind == "neo4j" and not os.environ.get("NEO4J_URI"):
            sys.exit('set NEO4J_* first, e.g. eval "$(scripts/neo4j-local start)"')
        results[kind] = bench_store(kind, args, workdir)
    if "headline p50" in results.get("sqlite", {}) and "headline p50" in results.get("neo4j", {}):
        ratio = results["neo4j"]["headline p50"] / results["sqlite"]["headline p50"]
        print(f"headline p50 Neo4j / SQLite: {ratio:.1f}x (target <= 3x)")
    if "neo4j" in args.stores.split(",") and "import" in args.only.split(",") and args.tree_size:
        import_one_tree(args.tree_size, workdir)


if __name__ == "__main__":
    main()
