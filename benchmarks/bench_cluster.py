"""Throughput through HAProxy with 1, 2 and 3 API processes (scripts/cluster-local).

    .venv/bin/python benchmarks/bench_cluster.py [--seconds 8] [--clients 8] [--apis 1,2,3]

Starts the cluster once per process count (environment as for cluster-local:
LINEAGE_CLUSTER_*, LINEAGE_NEO4J_*), loads the front with reads (a video and
its remixes) and writes (remixes into many trees), prints requests per second
and latencies, then measures what Redis costs per request (the bookmark pull
every request makes, the publish after a write). Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import time
import uuid
from pathlib import Path

import aiohttp
import redis

ROOT = Path(__file__).resolve().parents[1]


def _cluster(*args: str) -> dict[str, str]:
    out = subprocess.run(
        [str(ROOT / "scripts" / "cluster-local"), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout
    return dict(line.removeprefix("export ").split("=", 1) for line in out.splitlines() if line)


async def _run(
    url: str, token: str, seconds: float, clients: int, write: bool
) -> tuple[int, list[float]]:
    latencies: list[float] = []
    stop = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {token}"}

    async def client(index: int) -> None:
        async with aiohttp.ClientSession(headers=headers) as session:
            root = f"b-{uuid.uuid4().hex[:10]}"
            query = 'mutation { createOriginal(input: {id: "%s", prompt: "a cat"}) { id } }' % root
            async with session.post(f"{url}/graphql", json={"query": query}) as answer:
                await answer.read()
            n = 0
            while time.monotonic() < stop:
                n += 1
                if write:
                    query = (
                        'mutation { remixVideo(parentId: "%s", input: {id: "%s-%d", prompt: "a dog %d"}) '
                        "{ child { id } } }" % (root, root, n, n)
                    )
                else:
                    query = (
                        '{ video(id: "%s") { id derivativeCount remixes(first: 5) { totalCount } } }'
                        % root
                    )
                started = time.perf_counter()
                async with session.post(f"{url}/graphql", json={"query": query}) as answer:
                    await answer.read()
                    assert answer.status == 200
                latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(client(i) for i in range(clients)))
    return len(latencies), latencies


def _redis_cost(url: str, rounds: int = 2000) -> tuple[float, float]:
    client = redis.Redis.from_url(url)
    client.hset("bench:bookmarks", "p", "FB:x")
    started = time.perf_counter()
    for _ in range(rounds):
        client.hvals("bench:bookmarks")
    pull = (time.perf_counter() - started) / rounds
    started = time.perf_counter()
    for _ in range(rounds):
        client.publish("lineage:tree:bench", "1")
    publish = (time.perf_counter() - started) / rounds
    client.delete("bench:bookmarks")
    return pull, publish


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--apis", default="1,2,3")
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} cores, load {os.getloadavg()}")
    try:
        for n in [int(x) for x in args.apis.split(",")]:
            env = _cluster("start", "--api", str(n))
            token = subprocess.run(
                [
                    str(ROOT / ".venv" / "bin" / "lineage"),
                    "token",
                    "create",
                    f"bench-{uuid.uuid4().hex[:8]}",
                    "--role",
                    "writer",
                ],
                env={**os.environ, **env, "LINEAGE_STORE": "neo4j"},
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()[-1]
            asyncio.run(_run(env["LINEAGE_URL"], token, 2, args.clients, True))  # warm up
            for write in (False, True):
                count, lat = asyncio.run(
                    _run(env["LINEAGE_URL"], token, args.seconds, args.clients, write)
                )
                lat.sort()
                print(
                    f"{n} API process(es), {'writes' if write else 'reads '}: "
                    f"{count / args.seconds:7.1f} req/s, p50 {statistics.median(lat) * 1000:6.1f} ms, "
                    f"p99 {lat[int(len(lat) * 0.99)] * 1000:6.1f} ms"
                )
        pull, publish = _redis_cost(env["LINEAGE_REDIS_URL"])
        print(
            f"Redis round trip: bookmark pull {pull * 1e6:.0f} us, publish {publish * 1e6:.0f} us"
        )
    finally:
        _cluster("stop")
        print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
