#!/usr/bin/env python3
"""The viral moment on SQLite and Neo4j in one run: remixes/s into one tree, and reads
of that tree while it is remixed. Prints figures and their floors.

For each store, the demo loaded, ``lineage serve --workers N`` (default 2) with
the default settings but for ``LINEAGE_API_GROUP_COMMIT_MS`` when ``--windows``
lists windows to compare:

1. remixes/s into grandma and grandma-r00012 (clients alternate between the
   two parents) with each of ``--clients`` (default 1, 8, 32) remixing
   without pause, per group commit window;
2. the read-only mix: 32 clients reading a video's counts, a page of its
   remixes, its ancestors or its variant groups, the video drawn from a Zipf
   popularity (exponent 1) over ``--videos`` (3,000) videos of the demo tree;
3. the viral mix: the same, with one request in ten a remix of a video drawn
   from the same popularity.

Each phase prints responses/s, p50 and p99 per kind; ``lineage check`` runs at
the end of each store. The floors printed beside Neo4j's figures are a
one-write transaction's p50 on the same server (benchmarks/bench_floors.py)
and, after the mixes, bare reads of one video by id through the async driver
from 32 concurrent clients (no HTTP, no GraphQL: what the read p99 stands
on); the load average is printed with every phase.

Each server first takes ``--warmup`` seconds (3) of the same load, unmeasured.

``--only batches`` instead times the store alone (no server): importing a batch
of 1, 8 or 32 remixes into one tree, as one group commit does.

Usage: benchmarks/bench_viral.py [--stores sqlite,neo4j] [--seconds 5]
       [--clients 1,8,32] [--windows default] [--only remixes,reads,viral|batches]
       [--workers 2]
(``--windows 0,1,2,5,10`` measures those group commit windows, in ms; "default"
is the server's own setting.) Neo4j needs NEO4J_* in the environment
(``eval "$(scripts/neo4j-local start)"``); its database is emptied.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiohttp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from cpu_meter import CpuMeter, listening_pid  # noqa: E402
from load import (  # noqa: E402
    LINEAGE,
    READS,
    REMIX,
    free_port,
    lineage,
    percentile,
    wait_ready,
    zipf_weights,
)

# The reads of the mix (load.py's queries): counts, a page of remixes, ancestors, groups.
MIX = ["stats", "remixes", "ancestors", "variants"]
PARENTS = ["grandma", "grandma-r00012"]


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def meter_of(kind: str, server: Server | None) -> CpuMeter:
    """CPU accounting of a phase: the server's processes, Neo4j's JVM (when it runs on
    this machine) and this process (the load generator)."""
    database = listening_pid(os.environ["NEO4J_URI"]) if kind == "neo4j" else None
    return CpuMeter(server.process.pid if server else None, database)


def store_env(kind: str, workdir: Path) -> dict[str, str]:
    env = {**os.environ, "LINEAGE_API_WRITE_RATE": "100000000/minute"}
    if kind == "sqlite":
        env |= {"LINEAGE_STORE": "sqlite", "LINEAGE_DB": str(workdir / "viral.db")}
        return env
    import neo4j

    auth = (os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", ""))
    with (
        neo4j.GraphDatabase.driver(os.environ["NEO4J_URI"], auth=auth) as driver,
        driver.session(database=os.environ.get("NEO4J_DATABASE", "neo4j")) as session,
    ):
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()
    return env | {"LINEAGE_STORE": "neo4j"}


class Server:
    """``lineage serve`` on a loopback port, for one phase."""

    def __init__(self, env: dict[str, str], workers: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                *LINEAGE,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        if not wait_ready(self.base, self.process):
            sys.exit("the server did not start")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=60)


async def tree_ids(base: str, count: int) -> list[str]:
    """grandma and ``count - 1`` of its derivatives, generation by generation."""
    query = (
        'query($after: String) { video(id: "grandma") { descendants(first: 100, after: $after) '
        "{ pageInfo { hasNextPage endCursor } edges { node { child { id } } } } } }"
    )
    ids = ["grandma", "grandma-r00012"]
    after = None
    async with aiohttp.ClientSession(base, timeout=aiohttp.ClientTimeout(total=60)) as http:
        while len(ids) < count:
            async with http.post(
                "/graphql", json={"query": query, "variables": {"after": after}}
            ) as reply:
                body = await reply.json()
            if not body.get("data"):
                sys.exit(f"reading the tree failed: {body}")
            page = body["data"]["video"]["descendants"]
            ids += [edge["node"]["child"]["id"] for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    return list(dict.fromkeys(ids))[:count]


async def closed_loop(
    base: str,
    token: str,
    clients: int,
    seconds: float,
    choose: Any,
    tag: str,
) -> tuple[dict[str, list[float]], int, list[str]]:
    """``clients`` clients sending what ``choose(rng, number, count)`` picks, without pause."""
    latencies: dict[str, list[float]] = defaultdict(list)
    failures: list[str] = []
    refused = 0

    async def client(number: int, http: aiohttp.ClientSession, stop: float) -> None:
        nonlocal refused
        rng = random.Random(f"{tag}-{number}")
        count = 0
        while time.monotonic() < stop:
            kind, payload = choose(rng, number, count)
            count += 1
            started = time.perf_counter()
            async with http.post("/graphql", json=payload) as reply:
                body = await reply.read()
            if reply.status != 200 or b'"errors"' in body:
                refused += 1
                if len(failures) < 3:
                    failures.append(body.decode(errors="replace")[:200])
                continue
            latencies[kind].append(time.perf_counter() - started)

    async with aiohttp.ClientSession(
        base,
        headers={"authorization": f"Bearer {token}"},
        connector=aiohttp.TCPConnector(limit=clients),
        timeout=aiohttp.ClientTimeout(total=120),
    ) as http:
        stop = time.monotonic() + seconds
        await asyncio.gather(*(client(n, http, stop) for n in range(clients)))
    return latencies, refused, failures


def remix_payload(parent: str, video_id: str) -> dict[str, Any]:
    return {
        "query": REMIX,
        "variables": {
            "parent": parent,
            "id": video_id,
            "prompt": f"A grandmother chases a viral {video_id} out of the yard",
        },
    }


def remixes(base: str, token: str, clients: int, seconds: float, tag: str) -> dict[str, float]:
    def choose(rng: random.Random, number: int, count: int) -> tuple[str, dict[str, Any]]:
        parent = PARENTS[(number + count) % len(PARENTS)]
        return "remix", remix_payload(parent, f"viral-{tag}-{number}-{count}")

    latencies, refused, failures = asyncio.run(
        closed_loop(base, token, clients, seconds, choose, tag)
    )
    done = latencies["remix"]
    if failures:
        print(f"    {refused} refused, e.g. {failures[0]}")
    return {
        "per_s": len(done) / seconds,
        "p50": percentile(done, 0.5) * 1000,
        "p99": percentile(done, 0.99) * 1000,
    }


def mix(
    base: str, token: str, ids: list[str], seconds: float, write_share: float, tag: str
) -> dict[str, float]:
    weights = zipf_weights(len(ids))

    def choose(rng: random.Random, number: int, count: int) -> tuple[str, dict[str, Any]]:
        (video_id,) = rng.choices(ids, cum_weights=weights)
        if rng.random() < write_share:
            return "remix", remix_payload(video_id, f"mix-{tag}-{number}-{count}")
        kind = MIX[rng.randrange(len(MIX))]
        return kind, {"query": READS[kind], "variables": {"id": video_id}}

    latencies, refused, failures = asyncio.run(closed_loop(base, token, 32, seconds, choose, tag))
    if failures:
        print(f"    {refused} refused, e.g. {failures[0]}")
    reads = [value for kind, values in latencies.items() if kind != "remix" for value in values]
    writes = latencies.get("remix", [])
    return {
        "per_s": (len(reads) + len(writes)) / seconds,
        "read_p50": percentile(reads, 0.5) * 1000,
        "read_p99": percentile(reads, 0.99) * 1000,
        "remix_p50": percentile(writes, 0.5) * 1000,
        "remix_p99": percentile(writes, 0.99) * 1000,
    }


async def _bare_reads(ids: list[str], clients: int, seconds: float) -> list[float]:
    """Latencies of one-video reads by id (auto-commit, read access), ``clients`` at once."""
    import neo4j

    weights = zipf_weights(len(ids))
    auth = (os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", ""))
    database = os.environ.get("NEO4J_DATABASE", "neo4j")
    found: list[float] = []
    async with neo4j.AsyncGraphDatabase.driver(os.environ["NEO4J_URI"], auth=auth) as driver:

        async def client(number: int, stop: float) -> None:
            rng = random.Random(f"floor-{number}")
            while time.monotonic() < stop:
                (video_id,) = rng.choices(ids, cum_weights=weights)
                started = time.perf_counter()
                async with driver.session(
                    database=database, default_access_mode=neo4j.READ_ACCESS
                ) as session:
                    result = await session.run(
                        "MATCH (v:Video {id: $id}) RETURN v.id AS id, v.derivative_count AS d",
                        id=video_id,
                    )
                    await result.data()
                found.append(time.perf_counter() - started)

        await asyncio.gather(*(client(n, time.monotonic() + 1) for n in range(clients)))
        found.clear()  # the first second warms the pool and the plan
        stop = time.monotonic() + seconds
        await asyncio.gather(*(client(n, stop) for n in range(clients)))
    return found


def read_floor(ids: list[str], seconds: float, clients: int = 32) -> dict[str, Any]:
    """The floor under the read mixes: a bare Neo4j read of one video by id through the
    async driver, ``clients`` concurrent clients in one process, on the same server."""
    meter = meter_of("neo4j", None)
    with meter.measure() as measured:  # the first second warms up, inside the measure
        found = asyncio.run(_bare_reads(ids, clients, seconds))
    assert measured.result is not None
    # CPU over the warm-up second too: per read, scaled to the measured seconds' share.
    share = seconds / measured.result.wall
    return {
        "per_s": len(found) / seconds,
        "p50": percentile(found, 0.5) * 1000,
        "p99": percentile(found, 0.99) * 1000,
        "cpu": measured.result.line(round(len(found) / share)),
    }


def write_floor() -> float:
    """A one-write Neo4j transaction's p50 in ms (bench_floors' floor)."""
    import bench_floors

    return bench_floors.neo4j_figures(20_000)["Neo4j one-write transaction p50 ms"]


def write_cpu_floor(count: int = 2000) -> str:
    """CPU per bare one-write transaction (``MERGE`` of one node, one after another):
    the database's and the driver's, the least a committed remix batch costs."""
    import neo4j
    from bench_floors import _touch_probe

    auth = (os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", ""))
    meter = meter_of("neo4j", None)
    with (
        neo4j.GraphDatabase.driver(os.environ["NEO4J_URI"], auth=auth) as driver,
        driver.session(database=os.environ.get("NEO4J_DATABASE", "neo4j")) as session,
    ):
        for number in range(200):
            session.execute_write(_touch_probe, number)
        with meter.measure() as measured:
            for number in range(count):
                session.execute_write(_touch_probe, number)
        session.run("MATCH (n:FloorProbe) DETACH DELETE n").consume()
    assert measured.result is not None
    rate = count / measured.result.wall
    return f"{rate:.0f} transactions/s one at a time; {measured.result.line(count)}"


def batch_latency(kind: str, workdir: Path, sizes: tuple[int, ...] = (1, 8, 32)) -> None:
    """The store alone: p50 ms of importing a batch of remixes into one tree (what one
    group commit writes), after a warm-up, on an empty store but for the tree."""
    import statistics

    from lineage.importing.records import SourcedRecord

    env = store_env(kind, workdir)
    if kind == "sqlite":
        from lineage.stores.sqlite import SQLiteStore

        store: Any = SQLiteStore(Path(env["LINEAGE_DB"]))
    else:
        from lineage.stores.neo4j import Neo4jStore

        store = Neo4jStore(
            os.environ["NEO4J_URI"],
            os.environ.get("NEO4J_USER", "neo4j"),
            os.environ.get("NEO4J_PASSWORD", ""),
            os.environ.get("NEO4J_DATABASE", "neo4j"),
        )
    prompt = "A grandmother chases a crocodile out of the yard"
    store.import_videos(
        [
            SourcedRecord({"id": "g", "prompt": prompt}, "bench", 1),
            SourcedRecord({"id": "g1", "parent_id": "g", "prompt": prompt + " hippo"}, "bench", 2),
        ]
    )
    for size in sizes:
        samples = []
        for number in range(50):
            batch = [
                SourcedRecord(
                    {
                        "id": f"b{size}-{number}-{k}",
                        "parent_id": "g1" if k % 2 else "g",
                        "prompt": prompt.replace("crocodile", f"owl {number} {k}"),
                    },
                    "bench",
                    k + 1,
                )
                for k in range(size)
            ]
            started = time.perf_counter()
            store.import_videos(batch)
            if number >= 10:
                samples.append((time.perf_counter() - started) * 1000)
        print(
            f"  {kind} store batch of {size} remixes: p50 {statistics.median(samples):.1f} ms "
            f"(load {load_average()})",
            flush=True,
        )
    store.close()


def bench_store(kind: str, args: argparse.Namespace, workdir: Path) -> None:
    if args.only == "batches":
        batch_latency(kind, workdir)
        if kind == "neo4j":
            print(f"  floor: Neo4j one-write transaction p50 {write_floor():.2f} ms", flush=True)
        return
    env = store_env(kind, workdir)
    started = time.monotonic()
    demo = lineage("demo", env=env)
    if demo.returncode != 0:
        sys.exit(demo.stderr)
    print(f"{kind}: demo loaded in {time.monotonic() - started:.0f} s", flush=True)
    created = lineage("token", "create", f"viral-{os.getpid()}", "--role", "writer", env=env)
    token = created.stdout.strip().splitlines()[-1]
    only = set(args.only.split(","))
    tag = f"{kind}-{os.getpid()}"
    if "remixes" in only:
        for window in args.windows.split(","):
            served = dict(env)
            if window != "default":
                served["LINEAGE_API_GROUP_COMMIT_MS"] = window
            server = Server(served, args.workers)
            try:
                # Unmeasured: each worker's first writes (the server plans new statements).
                remixes(server.base, token, 8, args.warmup, f"{tag}-{window}-warm")
                meter = meter_of(kind, server)
                for clients in [int(c) for c in args.clients.split(",")]:
                    with meter.measure() as measured:
                        figures = remixes(
                            server.base, token, clients, args.seconds, f"{tag}-{window}-{clients}"
                        )
                    print(
                        f"  {kind} remixes window={window} clients={clients}: "
                        f"{figures['per_s']:.0f}/s p50 {figures['p50']:.1f} ms "
                        f"p99 {figures['p99']:.1f} ms (load {load_average()})",
                        flush=True,
                    )
                    cpu_line(measured.result, figures["per_s"] * args.seconds)
            finally:
                server.stop()
    if only & {"reads", "viral"}:
        server = Server(env, args.workers)
        try:
            ids = asyncio.run(tree_ids(server.base, args.videos))
            mix(server.base, token, ids, args.warmup, 0.1, f"{tag}-warm")  # unmeasured
            for name, share in (("reads", 0.0), ("viral", 0.1)):
                if name not in only:
                    continue
                with meter_of(kind, server).measure() as measured:
                    figures = mix(server.base, token, ids, args.seconds, share, f"{tag}-{name}")
                print(
                    f"  {kind} {name} mix (32 clients, {len(ids)} videos, {share:.0%} remixes): "
                    f"{figures['per_s']:.0f}/s read p50 {figures['read_p50']:.1f} ms "
                    f"p99 {figures['read_p99']:.1f} ms remix p50 {figures['remix_p50']:.1f} ms "
                    f"p99 {figures['remix_p99']:.1f} ms (load {load_average()})",
                    flush=True,
                )
                cpu_line(measured.result, figures["per_s"] * args.seconds)
        finally:
            server.stop()
        if kind == "neo4j":
            floor = read_floor(ids, args.seconds)
            print(
                f"  floor: bare Neo4j read by id, 32 clients: {floor['per_s']:.0f}/s "
                f"p50 {floor['p50']:.1f} ms p99 {floor['p99']:.1f} ms (load {load_average()})",
                flush=True,
            )
            print(f"    {floor['cpu']}", flush=True)
    check = lineage("check", env=env)
    print(f"  {kind} lineage check: {(check.stdout or check.stderr).strip()}", flush=True)
    if kind == "neo4j":
        print(f"  floor: Neo4j one-write transaction p50 {write_floor():.2f} ms", flush=True)
        print(f"  floor: bare one-write transactions: {write_cpu_floor()}", flush=True)


def cpu_line(phase: Any, responses: float) -> None:
    """The phase's CPU per response, by process (benchmarks/cpu_meter.py)."""
    if phase is not None:
        print(f"    {phase.line(round(responses))}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stores", default="sqlite,neo4j")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--windows", default="default")
    parser.add_argument("--only", default="remixes,reads,viral")
    parser.add_argument("--videos", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load {load_average()}", flush=True)
    with tempfile.TemporaryDirectory() as workdir:
        for kind in args.stores.split(","):
            bench_store(kind, args, Path(workdir))


if __name__ == "__main__":
    main()
