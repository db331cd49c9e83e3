#!/usr/bin/env python3
"""Mixed load against `lineage serve`: 90% reads, 10% remixes into one viral tree.

Starts `lineage serve` on a loopback port itself (the store from the
environment: LINEAGE_STORE, LINEAGE_DB or NEO4J_*; the demo is loaded when
the store has no `grandma`), makes a writer token, then runs --clients
clients for --seconds (at most 600) and stops by itself. Reads are the
contract's queries on random videos; writes remix random videos of the demo
tree. It prints throughput, p50/p99 per operation and errors, checks that
every acknowledged write is stored, then runs `lineage check`.

With ``--popularity zipf`` reads and remixes are drawn from one
heavy-tailed popularity (Zipf, s = 1) over ``--videos`` videos of the demo
tree, hottest first (grandma, then her remixes by derivatives...), and the
reads are a video's counts, a page of its remixes, its ancestors and its
variant groups with top variants (no list of originals). ``--probe`` makes
client 0 a stale-answer probe instead: it creates an original of its own,
then remixes it again and again, and after every acknowledgement reads the
original's counts back through the response cache (no ``cache-control``);
an answer that misses an acknowledged remix is stale, counted and printed.
``--json PATH`` writes the figures there too.

Usage: benchmarks/load.py [--seconds 60] [--clients 32] [--workers 2]
[--popularity uniform|zipf] [--videos 3000] [--probe] [--json PATH]
(LOAD_SERVER_LOG_LEVEL sets the served workers' log level, default warning;
the first five transport errors, if any, are printed with their timing.)
Targets (SQLite, demo, 2 workers, 32 clients, 60 s): no 5xx, no lost
acknowledged write, check clean, read p99 under 50 ms, no stale answer.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
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
LINEAGE = [sys.executable, "-m", "lineage"]

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
# The reads of the popularity mix: about one video each.
MIX_READS = ("stats", "remixes", "ancestors", "variants")
PROBE_CREATE = (
    "mutation Probe($id: ID!) { createOriginal(input: {id: $id, prompt: "
    '"A probe checks what the cache answers"}) { id } }'
)
PROBE_READ = "query Probe($id: ID!) { video(id: $id) { directRemixCount derivativeCount } }"
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


def wait_ready(base: str, server: subprocess.Popen[Any], seconds: float = 120) -> bool:
    """Wait until ``base`` answers ``/readyz``; False if ``server`` exits or time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as ready:
                if ready.status == 200:
                    return True
        except OSError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            return False
        time.sleep(0.3)


def zipf_weights(count: int) -> list[float]:
    """Cumulative Zipf (s = 1) weights of ranks 1..count, for ``random.choices``."""
    return list(itertools.accumulate(1 / rank for rank in range(1, count + 1)))


class Probe:
    """What the stale-answer probe saw: its acknowledged remixes and stale reads."""

    def __init__(self) -> None:
        self.acknowledged = 0
        self.reads = 0
        self.stale: list[str] = []
        self.hits = 0


async def run_load(
    base: str,
    token: str,
    ids: list[str],
    clients: int,
    seconds: float,
    write_share: float,
    run_tag: str,
    *,
    zipf: bool = False,
    probe: Probe | None = None,
    hits: dict[str, int] | None = None,
) -> tuple[dict[str, list[float]], dict[str, int], list[str], int]:
    """Run the mix; ``hits``, when given, counts per operation the answers the
    response cache gave (``x-lineage-cache: hit``)."""
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    acknowledged: list[str] = []
    transport_errors: list[str] = []
    server_errors = 0
    deadline = time.monotonic() + seconds
    parents = list(ids)
    weights = zipf_weights(len(ids)) if zipf else None
    reads = sorted(MIX_READS if zipf else READS)

    def pick(rng: random.Random) -> str:
        if weights is None:
            return rng.choice(ids)
        return rng.choices(ids, cum_weights=weights)[0]

    async def send(
        http: aiohttp.ClientSession, name: str, payload: dict[str, Any], **options: Any
    ) -> tuple[int, dict[str, Any], str] | None:
        """POST one operation, its latency noted under ``name``; None on a transport error."""
        nonlocal server_errors
        started = time.perf_counter()
        try:
            async with http.post("/graphql", json=payload, **options) as reply:
                status = reply.status
                cache = reply.headers.get("x-lineage-cache", "")
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
            return None
        latencies[name].append(time.perf_counter() - started)
        if hits is not None and cache == "hit":
            hits[name] = hits.get(name, 0) + 1
        if status >= 500:
            server_errors += 1
        if status != 200 or body.get("errors"):
            codes = {e.get("extensions", {}).get("code") for e in body.get("errors") or []}
            errors[f"{name}: {status} {sorted(map(str, codes))}"] += 1
        return status, body, cache

    async def probing(http: aiohttp.ClientSession) -> None:
        """Remix an original of its own; after each acknowledgement read its counts
        back through the cache: an answer missing an acknowledged remix is stale."""
        assert probe is not None
        parent = f"probe-{run_tag}"
        created = await send(http, "remix", {"query": PROBE_CREATE, "variables": {"id": parent}})
        if created is None or created[1].get("errors"):
            errors["probe: its original was not created"] += 1
            return
        count = 0
        while time.monotonic() < deadline:
            child = f"{parent}-{count}"
            payload = {
                "query": REMIX,
                "variables": {"parent": parent, "id": child, "prompt": f"A probe remix {count}"},
            }
            count += 1
            sent = await send(http, "remix", payload)
            if sent is None or sent[0] != 200 or sent[1].get("errors"):
                continue
            acknowledged.append(child)
            probe.acknowledged += 1
            read = await send(
                http, "probe read", {"query": PROBE_READ, "variables": {"id": parent}}
            )
            if read is None or read[1].get("errors"):
                continue
            probe.reads += 1
            probe.hits += read[2] == "hit"
            video = (read[1].get("data") or {}).get("video") or {}
            seen = video.get("directRemixCount")
            # More is possible (a remix whose answer was lost); fewer is stale.
            if not isinstance(seen, int) or seen < probe.acknowledged:
                probe.stale.append(
                    f"after {probe.acknowledged} acknowledged remixes the cache ({read[2]!r}) "
                    f"answered directRemixCount {seen}"
                )

    async def client(number: int, http: aiohttp.ClientSession) -> None:
        if probe is not None and number == 0:
            await probing(http)
            return
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
                        # Remixes of remixes made in the run too (uniform), or
                        # the same popularity as the reads (zipf).
                        "parent": pick(rng) if zipf else rng.choice(parents),
                        "id": video_id,
                        "prompt": f"A grandmother chases a load-test robot {number} {count}",
                    },
                }
            else:
                name = rng.choice(reads)
                video_id = ""
                payload = {"query": READS[name], "variables": {"id": pick(rng)}}
            count += 1
            sent = await send(http, name, payload)
            ok = sent is not None and sent[0] == 200 and not sent[1].get("errors")
            if ok and name == "remix":
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


async def popular_ids(base: str, count: int) -> list[str]:
    """``count`` videos of the demo tree, hottest first: grandma, her remixes by
    derivatives, then each of those's remixes by derivatives, breadth first."""
    ranked = ["grandma"]
    level = ["grandma"]
    async with aiohttp.ClientSession(base, timeout=aiohttp.ClientTimeout(total=60)) as http:
        while level and len(ranked) < count:
            below: list[str] = []
            for start in range(0, len(level), 25):
                batch = level[start : start + 25]
                query = "{ %s }" % " ".join(  # noqa: UP031
                    f'v{n}: video(id: "{video_id}") {{ remixes(first: 100) '
                    "{ edges { node { child { id } } } } }"
                    for n, video_id in enumerate(batch)
                )
                data = (await post_json(http, {"query": query}))["data"]
                for n in range(len(batch)):
                    edges = data[f"v{n}"]["remixes"]["edges"]
                    below += [edge["node"]["child"]["id"] for edge in edges]
            ranked += below
            level = below
    return ranked[:count]


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
    parser.add_argument("--popularity", choices=("uniform", "zipf"), default="uniform")
    parser.add_argument("--videos", type=int, default=3000, help="videos drawn from (zipf)")
    parser.add_argument("--probe", action="store_true", help="client 0 probes for stale answers")
    parser.add_argument("--json", type=Path, help="write the figures to this file too")
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
        if not wait_ready(base, server):
            print("the server did not start", file=sys.stderr)
            return 2
        zipf = args.popularity == "zipf"
        ids = asyncio.run(popular_ids(base, args.videos) if zipf else sample_ids(base))
        print(
            f"store={store} workers={args.workers} clients={args.clients} "
            f"seconds={args.seconds:g} writes={args.write_share:.0%} ({len(ids)} videos, "
            f"{args.popularity}{', stale probe' if args.probe else ''})",
            flush=True,
        )
        probe = Probe() if args.probe else None
        hits: dict[str, int] = {}
        latencies, errors, acknowledged, server_errors = asyncio.run(
            run_load(
                base,
                token,
                ids,
                args.clients,
                args.seconds,
                args.write_share,
                run_tag,
                zipf=zipf,
                probe=probe,
                hits=hits,
            )
        )
        lost = asyncio.run(missing_writes(base, acknowledged))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        lineage("token", "revoke", name, env=env)
    total = sum(len(v) for v in latencies.values())
    # The mix's reads (the probe's read-backs are counted apart).
    reads = [x for op, values in latencies.items() if op in READS for x in values]
    print(f"{total} responses in {args.seconds:g} s: {total / args.seconds:.0f}/s")
    print(f"{'operation':<10} {'count':>7} {'p50 ms':>8} {'p99 ms':>8} {'cache hits':>10}")

    def hit_share(count: int, total: int) -> str:
        return f"{count / total:.1%}" if total else "-"

    asked = sorted(MIX_READS if zipf else READS)
    for op in [*asked, "remix", *(["probe read"] if args.probe else [])]:
        values = latencies.get(op, [])
        print(
            f"{op:<10} {len(values):>7} {percentile(values, 0.5) * 1000:>8.1f} "
            f"{percentile(values, 0.99) * 1000:>8.1f} {hit_share(hits.get(op, 0), len(values)):>10}"
        )
    read_hits = sum(hits.get(op, 0) for op in READS)
    print(
        f"{'all reads':<10} {len(reads):>7} {percentile(reads, 0.5) * 1000:>8.1f} "
        f"{percentile(reads, 0.99) * 1000:>8.1f} {hit_share(read_hits, len(reads)):>10}"
    )
    print(f"5xx responses: {server_errors}")
    print(f"errors: {dict(errors) or 'none'}")
    print(f"acknowledged writes: {len(acknowledged)}, lost: {len(lost)}")
    stale = 0
    if probe is not None:
        stale = len(probe.stale)
        print(
            f"stale probe: {probe.acknowledged} remixes acknowledged, {probe.reads} read back "
            f"({probe.hits} cache hits), stale answers: {stale}"
        )
        for line in probe.stale[:5]:
            print(f"stale: {line}")
    check = lineage("check", env=env)
    print(f"lineage check: {check.stdout.strip() or check.stderr.strip()}")
    if args.json is not None:
        figures = {
            "responses/s": total / args.seconds,
            "read p50 ms": percentile(reads, 0.5) * 1000,
            "read p99 ms": percentile(reads, 0.99) * 1000,
            "reads": len(reads),
            "read cache hits": read_hits,
            "remixes": len(latencies.get("remix", [])),
            "5xx": server_errors,
            "errors": sum(errors.values()),
            "lost": len(lost),
            "stale": stale,
            "probe reads": probe.reads if probe is not None else 0,
            "check ok": check.returncode == 0,
        }
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    ok = server_errors == 0 and not lost and check.returncode == 0 and stale == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
