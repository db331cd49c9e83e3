#!/usr/bin/env python3
"""The most load.py's popularity mix could do at a given hit rate, against its floor, in one run.

The mix (``load.py --popularity zipf``: 90% reads, 10% remixes, Zipf over
3,000 videos of the demo tree, 2 workers, 32 clients) has a target as a
share of the framework's empty request. Whatever the cache, a read is a hit
or a miss and a remix is a write, so at hit rate ``h`` over the reads the
mix can run at most at

    1 / (0.9 h t_hit + 0.9 (1 - h) t_miss + 0.1 t_write)

responses/s, where each ``t`` is the service's time per request of that
kind alone at the same concurrency (2 workers and 32 clients sharing the
machine): ``t_hit`` from the four reads on the 25 hottest videos with no
writes (after a warm-up, from the cache: the share is printed), ``t_miss``
from the same reads on the 3,000 videos with ``Cache-Control: no-cache``,
``t_write`` from remixes alone. All measured here, beside the framework's
``{ __typename }`` floor (:func:`bench_floors.served_framework_load`), the
mix itself (load.py with its stale probe) and the oracle hit rate of
:mod:`oracle_hits` (the best any exact cache could reach on this workload).

The floor under ``t_miss`` is measured too, at the same concurrency:
Strawberry alone (:func:`strawberry_mix_floor.mix_app`: its ASGI view, a
schema of the reads' shape, the answers held in memory, no store, no
extension but its parser and validation caches) serving the same misses,
its answers first checked equal to the service's. The bound with that
``t_miss`` in place of the service's says whether the target is reachable
at the measured hit rate on Strawberry at all.

Usage: benchmarks/bench_mix_bound.py [--seconds 20] [--requests 20000] [--neo4j]
(about 4 minutes on SQLite; ``--neo4j`` measures the service's times and the
mix on Neo4j too, from ``NEO4J_URI``)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_floors import bare_server, served_framework_load  # noqa: E402
from bench_misses import demo_database, mix  # noqa: E402
from load import (  # noqa: E402
    LINEAGE,
    MIX_READS,
    READS,
    REMIX,
    free_port,
    lineage,
    percentile,
    popular_ids,
    wait_ready,
    zipf_weights,
)

__all__ = ["bound", "miss_needed"]

# Answers of the service compared with the floor's before it is measured.
_CHECKED = 40


def bound(hit_rate: float, t_hit: float, t_miss: float, t_write: float) -> float:
    """The mix's best responses/s at ``hit_rate`` over its reads.

    >>> round(bound(0.5, 0.001, 0.002, 0.004))
    571
    """
    return 1 / (0.9 * hit_rate * t_hit + 0.9 * (1 - hit_rate) * t_miss + 0.1 * t_write)


def miss_needed(rate: float, hit_rate: float, t_hit: float, t_write: float) -> float:
    """The time per miss (s) at which :func:`bound` reaches ``rate`` (0: unreachable).

    >>> round(1000 * miss_needed(bound(0.5, 0.001, 0.002, 0.004), 0.5, 0.001, 0.004), 6)
    2.0
    """
    left = 1 / rate - 0.9 * hit_rate * t_hit - 0.1 * t_write
    return max(left, 0.0) / (0.9 * (1 - hit_rate)) if hit_rate < 1 else 0.0


def misses(ids: list[str]) -> Any:
    """The mix's reads on ``ids`` drawn by Zipf popularity: ``payload(rng, client, count)``."""
    weights = zipf_weights(len(ids))
    reads = sorted(MIX_READS)

    def miss(rng: random.Random, client: int, count: int) -> dict[str, Any]:
        video = rng.choices(ids, cum_weights=weights)[0]
        return {"query": READS[rng.choice(reads)], "variables": {"id": video}}

    return miss


async def answers(base: str, bodies: list[dict[str, Any]]) -> list[Any]:
    """Each body's ``data``, uncached, one at a time."""
    found = []
    async with aiohttp.ClientSession(base, timeout=aiohttp.ClientTimeout(total=120)) as http:
        for body in bodies:
            headers = {"cache-control": "no-cache"}
            async with http.post("/graphql", json=body, headers=headers) as reply:
                found.append((await reply.json(content_type=None)).get("data"))
    return found


def floor_misses(
    database: Path, ids: list[str], checked: list[tuple[dict[str, Any], Any]], seconds: float
) -> dict[str, float]:
    """Strawberry alone (:func:`strawberry_mix_floor.mix_app`, 2 workers) serving the
    misses of :func:`service_times` from memory, 32 clients, after checking that it
    answers ``checked``'s bodies as the service did."""
    with tempfile.TemporaryDirectory() as name:
        named = Path(name) / "ids.json"
        named.write_text(json.dumps(ids), encoding="utf-8")
        env = {"BENCH_MIX_IDS": str(named), "LINEAGE_DB": str(database)}
        with bare_server("strawberry_mix_floor:mix_app", env, workers=2, factory=True) as (
            port,
            _,
        ):
            base = f"http://127.0.0.1:{port}"
            # Twice: each worker loads its answers before it serves, and either may answer.
            for _ in range(2):
                found = asyncio.run(answers(base, [body for body, _ in checked]))
                if found != [data for _, data in checked]:
                    sys.exit("the floor's answers differ from the service's")
            asyncio.run(closed_loop(base, "", 5, misses(ids), {}))  # warm-up
            samples, _ = asyncio.run(closed_loop(base, "", seconds, misses(ids), {}))
    figures = {
        "floor misses alone: responses/s": len(samples) / seconds,
        "floor misses alone: p99 ms": percentile(samples, 0.99) * 1000,
        "t_miss floor ms": 1000 * seconds / len(samples),
    }
    print(json.dumps(figures, indent=1), flush=True)
    return figures


async def closed_loop(
    base: str, token: str, seconds: float, payload: Any, headers: dict[str, str]
) -> tuple[list[float], int]:
    """32 clients sending ``payload(rng, client, count)`` without pause: latencies (s)
    and how many answers came from the response cache. Any error ends the run."""
    samples: list[float] = []
    hits = 0
    deadline = time.monotonic() + seconds

    async def client(number: int, http: aiohttp.ClientSession) -> None:
        nonlocal hits
        rng = random.Random(number)
        count = 0
        while time.monotonic() < deadline:
            body = payload(rng, number, count)
            count += 1
            started = time.perf_counter()
            async with http.post("/graphql", json=body, headers=headers) as reply:
                answer = await reply.json(content_type=None)
                hits += reply.headers.get("x-lineage-cache") == "hit"
            samples.append(time.perf_counter() - started)
            if reply.status != 200 or answer.get("errors"):
                sys.exit(f"the run failed: {reply.status} {answer}")

    async with aiohttp.ClientSession(
        base,
        headers={"authorization": f"Bearer {token}"},
        connector=aiohttp.TCPConnector(limit=32),
        timeout=aiohttp.ClientTimeout(total=60),
    ) as http:
        await asyncio.gather(*(client(number, http) for number in range(32)))
    return samples, hits


def service_times(
    env: dict[str, str], seconds: float
) -> tuple[dict[str, float], list[str], list[tuple[dict[str, Any], Any]]]:
    """``lineage serve --workers 2`` on ``env``'s store: hits, misses and remixes
    alone, 32 clients each: responses/s, p99 and time per request; the videos
    drawn from, and the uncached answers to some misses (before any write)."""
    env = {**os.environ, **env, "LINEAGE_API_WRITE_RATE": "1000000/minute"}
    if lineage("stats", "grandma", env=env).returncode != 0:
        lineage("demo", env=env)
    tag = f"{os.getpid()}-{int(time.time())}"
    created = lineage("token", "create", f"bound-{tag}", "--role", "writer", env=env)
    token = created.stdout.strip().splitlines()[-1]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [*LINEAGE, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
         "--no-access-log", "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    figures: dict[str, float] = {}
    try:
        if not wait_ready(base, server):
            sys.exit("the server did not start")
        ids = asyncio.run(popular_ids(base, 3000))
        weights = zipf_weights(len(ids))
        reads = sorted(MIX_READS)
        hot = [(name, video) for name in reads for video in ids[:25]]
        miss = misses(ids)
        drawn = [miss(random.Random(-n), 0, 0) for n in range(1, _CHECKED + 1)]
        checked = list(zip(drawn, asyncio.run(answers(base, drawn)), strict=True))

        def hit(rng: random.Random, client: int, count: int) -> dict[str, Any]:
            name, video = rng.choice(hot)
            return {"query": READS[name], "variables": {"id": video}}

        def write(rng: random.Random, client: int, count: int) -> dict[str, Any]:
            parent = rng.choices(ids, cum_weights=weights)[0]
            video = f"bound-{tag}-{client}-{count}"
            prompt = f"A grandmother chases a bound robot {client} {count}"
            return {"query": REMIX, "variables": {"parent": parent, "id": video, "prompt": prompt}}

        # Every hot answer cached in both workers first (a remote store caches
        # an answer on its second run).
        for _ in range(6):
            samples, hits = asyncio.run(closed_loop(base, token, 5, hit, {}))
            if hits >= 0.98 * len(samples):
                break
        runs = (("hit", "hits", hit, {}), ("miss", "misses", miss, {"cache-control": "no-cache"}),
                ("write", "writes", write, {}))  # fmt: skip
        for name, label, payload, headers in runs:
            samples, hits = asyncio.run(closed_loop(base, token, seconds, payload, headers))
            if name == "hit":
                figures["hits alone: share from the cache"] = hits / len(samples)
            figures[f"{label} alone: responses/s"] = len(samples) / seconds
            figures[f"{label} alone: p99 ms"] = percentile(samples, 0.99) * 1000
            figures[f"t_{name} ms"] = 1000 * seconds / len(samples)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        lineage("token", "revoke", f"bound-{tag}", env=env)
    print(json.dumps(figures, indent=1), flush=True)
    return figures, ids, checked


def oracle(requests: int) -> dict[str, float]:
    """:mod:`oracle_hits` on load.py's workload: its hit rates, read back from its JSON."""
    with tempfile.TemporaryDirectory() as name:
        out = Path(name) / "oracle.json"
        command = [sys.executable, str(ROOT / "benchmarks" / "oracle_hits.py"),
                   "--requests", str(requests), "--json", str(out)]  # fmt: skip
        run = subprocess.run(command, capture_output=True, text=True)
        print(run.stdout, flush=True)
        if not out.exists():
            sys.exit(f"oracle_hits.py failed: {run.stderr[-2000:]}")
        found: dict[str, float] = json.loads(out.read_text(encoding="utf-8"))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20, help="per load figure")
    parser.add_argument("--requests", type=int, default=20000, help="replayed by the oracle")
    parser.add_argument("--neo4j", action="store_true", help="the service on Neo4j too")
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()}", flush=True)  # fmt: skip
    stores = ["sqlite", *(["neo4j"] if args.neo4j and os.environ.get("NEO4J_URI") else [])]
    figures: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as name:
        workdir = Path(name)
        database = demo_database(workdir)
        rates = oracle(args.requests)
        floor = served_framework_load(args.seconds)
        print(json.dumps(floor, indent=1), flush=True)
        for store in stores:
            env = {"LINEAGE_STORE": store}
            if store == "sqlite":
                copy = workdir / "times.db"
                copy.write_bytes(database.read_bytes())
                env["LINEAGE_DB"] = str(copy)
            figures[store], ids, checked = service_times(env, args.seconds)
            if "floor" not in figures:
                # The store's part is not in it: measured once, beside the first store's.
                figures["floor"] = floor_misses(database, ids, checked, args.seconds)
            if store == "sqlite":
                env["LINEAGE_DB"] = str(workdir / "mix.db")
                (workdir / "mix.db").write_bytes(database.read_bytes())
            figures[store] |= mix(env, args.seconds * 1.5, workdir, store)
            print(f"load average {os.getloadavg()}", flush=True)
        after = served_framework_load(args.seconds)
        print(json.dumps(after, indent=1), flush=True)
    key = "FastAPI + Strawberry { __typename }, 2 workers, 32 clients: "
    rate = (floor[key + "reads/s"] + after[key + "reads/s"]) / 2
    p99 = (floor[key + "read p99 ms"] + after[key + "read p99 ms"]) / 2
    print(f"floor: {floor[key + 'reads/s']:,.0f} and {after[key + 'reads/s']:,.0f} responses/s "
          f"(before, after), p99 {floor[key + 'read p99 ms']:.1f} and "
          f"{after[key + 'read p99 ms']:.1f} ms; target 75% = {0.75 * rate:,.0f}/s")  # fmt: skip
    below = figures.pop("floor")
    t_floor = below["t_miss floor ms"] / 1000
    print(f"Strawberry alone serving the misses from memory: "
          f"{below['floor misses alone: responses/s']:,.0f}/s, t_miss {1000 * t_floor:.2f} ms, "
          f"p99 {below['floor misses alone: p99 ms']:.1f} ms")  # fmt: skip
    for store, found in figures.items():
        t_hit, t_miss, t_write = (found[f"t_{kind} ms"] / 1000 for kind in ("hit", "miss", "write"))
        print(f"{store}: hits alone {found['hits alone: responses/s']:,.0f}/s "
              f"({found['hits alone: share from the cache']:.0%} from the cache), misses alone "
              f"{found['misses alone: responses/s']:,.0f}/s, remixes alone "
              f"{found['writes alone: responses/s']:,.0f}/s")  # fmt: skip
        prefix = f"mix ({store}): "
        measured = found[prefix + "read cache hits"] / max(found[prefix + "reads"], 1)
        for label, hit_rate in (
            ("measured", measured),
            ("oracle, LRU as served", rates["oracle, LRU"]),
            ("oracle, unbounded", rates["oracle"]),
            ("every read a hit", 1.0),
        ):
            best = bound(hit_rate, t_hit, t_miss, t_write)
            least = bound(hit_rate, t_hit, t_floor, t_write)
            needed = miss_needed(0.75 * rate, hit_rate, t_hit, t_write)
            # With every read a hit, no miss is left to need anything of.
            need = (
                ""
                if hit_rate >= 1
                else (
                    f"; 75% needs t_miss <= {1000 * needed:.2f} ms (service "
                    f"{1000 * t_miss:.2f}, floor {1000 * t_floor:.2f})"
                )
            )
            print(f"  at {label} hit rate {hit_rate:.1%}: at most {best:,.0f} responses/s, "
                  f"{best / rate:.0%} of the floor; with misses at Strawberry's floor "
                  f"{least:,.0f}/s, {least / rate:.0%}{need}")  # fmt: skip
        print(f"  the mix: {found[prefix + 'responses/s']:,.0f} responses/s, "
              f"{found[prefix + 'responses/s'] / rate:.0%} of the floor (target 75%); read p99 "
              f"{found[prefix + 'read p99 ms']:.1f} ms, {found[prefix + 'read p99 ms'] / p99:.1f}x "
              f"the floor's {p99:.1f} ms (target 3x); read hits {measured:.1%}; stale "
              f"{found[prefix + 'stale']:.0f}")  # fmt: skip
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
