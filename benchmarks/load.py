#!/usr/bin/env python3
"""Mixed load against `lineage serve`: 90% reads, 10% remixes into one viral tree.

Starts `lineage serve` on a loopback port itself (the store from the
environment: LINEAGE_STORE, LINEAGE_DB or NEO4J_*; the demo is loaded when
the store has no `grandma`), makes a writer token, then runs --clients
clients for --seconds (at most 600) and stops by itself. Reads are the
contract's queries on random videos; writes remix random videos of the demo
tree. It prints throughput, p50/p99 per operation and errors, checks that
every acknowledged write is stored, then runs `lineage check`.

Usage: benchmarks/load.py [--seconds 60] [--clients 32] [--workers 2]
(LOAD_SERVER_LOG_LEVEL sets the served workers' log level, default warning;
the first five transport errors, if any, are printed with their timing.)
Targets (issue 11, SQLite, demo, 2 workers, 32 clients, 60 s): no 5xx, no
lost acknowledged write, check clean, read p99 under 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
LINEAGE = [sys.executable, "-m", "lineage.cli.main"]

READS = {
    "stats": "query Stats($id: ID!) { video(id: $id) { id generation derivativeCount "
    "directRemixCount treeDepth generationCounts { generation count } original { id } } }",
    "remixes": "query Remixes($id: ID!) { video(id: $id) { remixes(first: 20) { totalCount "
    "pageInfo { hasNextPage endCursor } edges { node { child { id derivativeCount } "
    "promptDiff { summary variantKey } } } } } }",
    "variants": "query Variants($id: ID!) { video(id: $id) { topVariants(limit: 10) "
    "{ child { id derivativeCount } promptDiff { variantKey } } "
    "variantGroups(limit: 5) { key remixCount reach } } }",
    "ancestors": "query Ancestors($id: ID!) { video(id: $id) { ancestors { id generation } } }",
    "originals": "query Originals { originals(first: 20) { totalCount edges { node { id "
    "derivativeCount } } } }",
}
REMIX = (
    "mutation Remix($parent: ID!, $id: ID!, $prompt: String!) { remixVideo(parentId: $parent, "
    "input: {id: $id, prompt: $prompt}) { child { id generation } } }"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def lineage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LINEAGE, *args], env=env, capture_output=True, text=True, check=False)


async def run_load(
    base: str,
    token: str,
    ids: list[str],
    clients: int,
    seconds: float,
    write_share: float,
    run_tag: str,
) -> tuple[dict[str, list[float]], dict[str, int], list[str], int]:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    acknowledged: list[str] = []
    transport_errors: list[str] = []
    server_errors = 0
    deadline = time.monotonic() + seconds
    parents = list(ids)

    async def client(number: int, http: aiohttp.ClientSession) -> None:
        nonlocal server_errors
        rng = random.Random(number)
        count = 0
        while time.monotonic() < deadline:
            if rng.random() < write_share:
                name = "remix"
                # The run's tag keeps ids new when the same store is loaded again.
                video_id = f"load-{run_tag}-{number}-{count}"
                payload = {
                    "query": REMIX,
                    "variables": {
                        "parent": rng.choice(parents),
                        "id": video_id,
                        "prompt": f"A grandmother chases a load-test robot {number} {count}",
                    },
                }
            else:
                name = rng.choice(sorted(READS))
                video_id = ""
                payload = {"query": READS[name], "variables": {"id": rng.choice(ids)}}
            count += 1
            started = time.perf_counter()
            try:
                async with http.post("/graphql", json=payload) as reply:
                    status = reply.status
                    # Also application/graphql-response+json; any other body has no errors list.
                    body: dict[str, Any] = (
                        await reply.json(content_type=None)
                        if reply.content_type.endswith("json")
                        else {}
                    )
            except (aiohttp.ClientError, TimeoutError) as error:
                errors[f"{name}: {type(error).__name__}"] += 1
                if len(transport_errors) < 5:
                    elapsed = time.perf_counter() - started
                    into_run = seconds - (deadline - time.monotonic())
                    transport_errors.append(
                        f"{name} after {elapsed * 1000:.0f} ms, {into_run:.1f} s "
                        f"into the run: {error!r}"
                    )
                continue
            latencies[name].append(time.perf_counter() - started)
            if status >= 500:
                server_errors += 1
            if status != 200 or body.get("errors"):
                codes = {e.get("extensions", {}).get("code") for e in body.get("errors") or []}
                errors[f"{name}: {status} {sorted(map(str, codes))}"] += 1
            elif name == "remix":
                acknowledged.append(video_id)
                parents.append(video_id)

    # aiohttp's client costs about a tenth of httpx's CPU per request; on a
    # 2-core machine shared with the server, a costlier client would measure
    # its own queue rather than the server's latency.
    async with aiohttp.ClientSession(
        base,
        headers={"authorization": f"Bearer {token}"},
        connector=aiohttp.TCPConnector(limit=clients),
        timeout=aiohttp.ClientTimeout(total=30),
    ) as http:
        await asyncio.gather(*(client(n, http) for n in range(clients)))
    for line in transport_errors:
        print(f"transport error: {line}", flush=True)
    return latencies, errors, acknowledged, server_errors


async def post_json(http: aiohttp.ClientSession, payload: dict[str, Any]) -> Any:
    async with http.post("/graphql", json=payload, headers={"cache-control": "no-cache"}) as reply:
        reply.raise_for_status()
        return await reply.json()


async def sample_ids(base: str) -> list[str]:
    async with aiohttp.ClientSession(base, timeout=aiohttp.ClientTimeout(total=30)) as http:
        reply = await post_json(
            http,
            {
                "query": '{ video(id: "grandma") { id remixes(first: 100) { edges { node { '
                "child { id remixes(first: 20) { edges { node { child { id } } } } } } } } } "
                "originals(first: 100) { edges { node { id } } } }"
            },
        )
        data = reply["data"]
    found = {"grandma"}
    for edge in data["video"]["remixes"]["edges"]:
        child = edge["node"]["child"]
        found.add(child["id"])
        found.update(e["node"]["child"]["id"] for e in child["remixes"]["edges"])
    found.update(e["node"]["id"] for e in data["originals"]["edges"])
    return sorted(found)


async def missing_writes(base: str, acknowledged: list[str]) -> list[str]:
    missing: list[str] = []
    async with aiohttp.ClientSession(base, timeout=aiohttp.ClientTimeout(total=60)) as http:
        for start in range(0, len(acknowledged), 25):
            batch = acknowledged[start : start + 25]
            query = "{ %s }" % " ".join(  # noqa: UP031
                f'v{n}: video(id: "{video_id}") {{ id }}' for n, video_id in enumerate(batch)
            )
            data = (await post_json(http, {"query": query}))["data"]
            missing += [video_id for n, video_id in enumerate(batch) if data[f"v{n}"] is None]
    return missing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--write-share", type=float, default=0.10)
    args = parser.parse_args()
    if not 0 < args.seconds <= 600:
        parser.error("--seconds must be in (0, 600]")
    if not 1 <= args.clients <= 256:
        parser.error("--clients must be 1 to 256")
    env = {**os.environ, "LINEAGE_API_WRITE_RATE": "1000000/minute"}
    store = env.get("LINEAGE_STORE", "sqlite")
    if lineage("stats", "grandma", env=env).returncode != 0:
        print("loading the demo ...", flush=True)
        demo = lineage("demo", env=env)
        if demo.returncode != 0:
            print(demo.stderr, file=sys.stderr)
            return 2
    run_tag = f"{os.getpid()}-{int(time.time())}"
    name = f"load-{run_tag}"
    created = lineage("token", "create", name, "--role", "writer", env=env)
    if created.returncode != 0:
        print(created.stderr, file=sys.stderr)
        return 2
    token = created.stdout.strip().splitlines()[-1]
    port = free_port()
    base = f"http://127.0.0.1:{port}"  # loopback only, always
    server = subprocess.Popen(
        [
            *LINEAGE,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--no-access-log",
            "--log-level",
            os.environ.get("LOAD_SERVER_LOG_LEVEL", "warning"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2) as ready:
                    if ready.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                print("the server did not start", file=sys.stderr)
                return 2
            time.sleep(0.3)
        ids = asyncio.run(sample_ids(base))
        print(
            f"store={store} workers={args.workers} clients={args.clients} "
            f"seconds={args.seconds:g} writes={args.write_share:.0%} ({len(ids)} videos sampled)",
            flush=True,
        )
        latencies, errors, acknowledged, server_errors = asyncio.run(
            run_load(base, token, ids, args.clients, args.seconds, args.write_share, run_tag)
        )
        lost = asyncio.run(missing_writes(base, acknowledged))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        lineage("token", "revoke", name, env=env)
    total = sum(len(v) for v in latencies.values())
    reads = [x for op, values in latencies.items() if op != "remix" for x in values]
    print(f"{total} responses in {args.seconds:g} s: {total / args.seconds:.0f}/s")
    print(f"{'operation':<10} {'count':>7} {'p50 ms':>8} {'p99 ms':>8}")
    for op in [*sorted(READS), "remix"]:
        values = latencies.get(op, [])
        print(
            f"{op:<10} {len(values):>7} {percentile(values, 0.5) * 1000:>8.1f} "
            f"{percentile(values, 0.99) * 1000:>8.1f}"
        )
    print(
        f"{'all reads':<10} {len(reads):>7} {percentile(reads, 0.5) * 1000:>8.1f} "
        f"{percentile(reads, 0.99) * 1000:>8.1f}"
    )
    print(f"5xx responses: {server_errors}")
    print(f"errors: {dict(errors) or 'none'}")
    print(f"acknowledged writes: {len(acknowledged)}, lost: {len(lost)}")
    check = lineage("check", env=env)
    print(f"lineage check: {check.stdout.strip() or check.stderr.strip()}")
    ok = server_errors == 0 and not lost and check.returncode == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
