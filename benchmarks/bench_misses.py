#!/usr/bin/env python3
"""Misses against the engine and the mix against the framework, in one run. Prints figures.

The speed targets of an uncached answer and of the read/remix mix are
ratios to floors measured here, in the same run, on the same machine:

1. **The headline query, uncached, over HTTP.** The README's query on the
   demo, sent with ``cache-control: no-cache`` to the service
   (``api.main.create_app`` under uvicorn, one worker, on SQLite) and, the
   same answer held as plain dicts, to graphql-core alone
   (:class:`bench_floors.EngineApp`, one worker); and, the floor of the
   framework under the service, to Strawberry alone serving the answer from
   memory (:func:`strawberry_floor.headline_app`: its ASGI view, its parser
   and validation caches, sync resolvers, nothing else): all three servers
   up at once, one keep-alive ``http.client`` connection each, rounds taken
   in turn, so that the machine's load falls on all alike. Target: the
   service's p50 within 2x the engine's.
2. **The same in process.** The project's ``schema.execute`` of the query
   against graphql-core's ``execute_sync`` over the answer (CPU ms, the best
   of five rounds).
3. **The mix.** ``load.py --popularity zipf --probe`` (90% reads, 10%
   remixes, Zipf over 3,000 videos of the demo tree, 2 workers, 32 clients,
   a stale-answer probe as client 0) against FastAPI + Strawberry answering
   ``{ __typename }`` (:func:`bench_floors.strawberry_app`, 2 workers, the
   same 32 clients), the floor measured before and after the mix. Targets:
   responses/s at least 75% of the floor's, read p99 within 3x the floor's,
   no stale answer. With ``--neo4j`` (and ``NEO4J_URI``) the mix runs on
   Neo4j too (its database gets the demo and the mix's remixes).

Usage: benchmarks/bench_misses.py [--requests 2000] [--seconds 30] [--neo4j] [--headline-only]
(about 3 minutes on SQLite alone; parts 1 and 2 alone, about 1)
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_floors import (  # noqa: E402
    _ANSWERS_VARIABLE,
    bare_server,
    best_cpu_ms,
    cpu_seconds,
    engine_floor,
    served_framework_load,
)
from bench_scale import latencies  # noqa: E402

# The README's headline query.
HEADLINE = (
    '{ video(id: "grandma") { derivativeCount treeDepth topVariants(limit: 2) '
    "{ child { id derivativeCount } promptDiff { variantKey } } "
    "variantGroups(limit: 2) { key remixCount reach } } }"
)
_SERVICE_ENV = {
    "LINEAGE_STORE": "sqlite",
    "LINEAGE_ACCESS_LOG": "false",
    "LINEAGE_API_RESPONSE_CACHE_ENTRIES": "512",
    "LINEAGE_API_PUBLIC_READS": "true",
}


def demo_database(workdir: Path) -> Path:
    """The demo tree in a fresh SQLite file."""
    database = workdir / "demo.db"
    env = {**os.environ, "LINEAGE_DB": str(database), "LINEAGE_STORE": "sqlite"}
    subprocess.run(
        [sys.executable, "-m", "lineage", "demo"],
        env=env,
        check=True,
        capture_output=True,
    )
    return database


def post(connection: http.client.HTTPConnection, query: str) -> Any:
    connection.request(
        "POST",
        "/graphql",
        body=json.dumps({"query": query}),
        headers={"content-type": "application/json", "cache-control": "no-cache"},
    )
    reply = connection.getresponse()
    answer = json.loads(reply.read())
    if reply.status != 200 or "errors" in answer:
        sys.exit(f"query failed: {answer}")
    return answer["data"]


def headline_over_http(database: Path, workdir: Path, requests: int) -> dict[str, float]:
    """The service's uncached p50, Strawberry's alone and graphql-core's, served side by side."""
    env = {**_SERVICE_ENV, "LINEAGE_DB": str(database)}
    with bare_server("service_app", env, factory=True) as (service_port, service_pid):
        service = http.client.HTTPConnection("127.0.0.1", service_port)
        answer = post(service, HEADLINE)
        answers = workdir / "answers.json"
        answers.write_text(json.dumps({HEADLINE: {"": answer}}), encoding="utf-8")
        floors = {_ANSWERS_VARIABLE: str(answers)}
        with (
            bare_server("engine_app", floors) as (engine_port, engine_pid),
            bare_server("strawberry_floor:headline_app", floors, factory=True) as (
                bare_port,
                bare_pid,
            ),
        ):
            # Fresh connections once all are up: uvicorn closes one idle for 5 s.
            service.close()
            servers = {
                "service": (http.client.HTTPConnection("127.0.0.1", service_port), service_pid),
                "engine": (http.client.HTTPConnection("127.0.0.1", engine_port), engine_pid),
                "strawberry": (http.client.HTTPConnection("127.0.0.1", bare_port), bare_pid),
            }
            for connection, _ in servers.values():
                if post(connection, HEADLINE) != answer:
                    sys.exit("a floor's answer differs from the service's")
                latencies(connection, HEADLINE, 300, cached=False)
            samples: dict[str, list[float]] = {name: [] for name in servers}
            cpu = dict.fromkeys(servers, 0.0)
            rounds = 10
            each = requests // rounds
            for _ in range(rounds):
                for name, (connection, pid) in servers.items():
                    before = cpu_seconds(pid)
                    samples[name] += latencies(connection, HEADLINE, each, cached=False)
                    cpu[name] += cpu_seconds(pid) - before
            for connection, _ in servers.values():
                connection.close()
    count = rounds * each
    return {
        "headline uncached over HTTP: service p50 ms": statistics.median(samples["service"]),
        "headline over HTTP: graphql-core alone p50 ms": statistics.median(samples["engine"]),
        "headline over HTTP: Strawberry alone p50 ms": statistics.median(samples["strawberry"]),
        "headline uncached over HTTP: service CPU ms/request": cpu["service"] / count * 1000,
        "headline over HTTP: graphql-core alone CPU ms/request": cpu["engine"] / count * 1000,
        "headline over HTTP: Strawberry alone CPU ms/request": cpu["strawberry"] / count * 1000,
    }


def headline_in_process(database: Path) -> dict[str, float]:
    """``schema.execute`` on the store against graphql-core over the answer, CPU ms."""
    from api.core.config import ApiSettings
    from api.graphql.context import LineageContext
    from api.graphql.schema import build_schema
    from lineage.stores.sqlite import SQLiteStore

    store = SQLiteStore(database)
    settings = ApiSettings(response_cache_entries=0)
    schema = build_schema(settings)
    loop = asyncio.new_event_loop()

    def answer() -> Any:
        result = loop.run_until_complete(
            schema.execute(HEADLINE, context_value=LineageContext(store, settings))
        )
        if result.errors or result.data is None:
            sys.exit(f"query failed: {result.errors}")
        return result.data

    figures = {
        "headline in process: schema.execute CPU ms": best_cpu_ms(answer, 500),
        "headline in process: graphql-core alone CPU ms": engine_floor(HEADLINE, answer(), None),
    }
    loop.close()
    store.close()
    return figures


def mix(env: dict[str, str], seconds: float, workdir: Path, name: str) -> dict[str, float]:
    """load.py's popularity mix with the stale probe; its figures."""
    out = workdir / f"mix-{name}.json"
    command = [
        sys.executable, str(ROOT / "benchmarks" / "load.py"), "--seconds", str(seconds),
        "--clients", "32", "--workers", "2", "--popularity", "zipf", "--videos", "3000",
        "--probe", "--json", str(out),
    ]  # fmt: skip
    run = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True)
    print(run.stdout, flush=True)
    if not out.exists():
        sys.exit(f"load.py failed: {run.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return {f"mix ({name}): {key}": float(value) for key, value in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="per headline figure")
    parser.add_argument("--seconds", type=float, default=30, help="per load figure")
    parser.add_argument("--neo4j", action="store_true", help="the mix on Neo4j too")
    parser.add_argument("--headline-only", action="store_true", help="parts 1 and 2 only (no mix)")
    args = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"{started}, {os.cpu_count()} cores, load average {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory() as name:
        workdir = Path(name)
        database = demo_database(workdir)
        figures = headline_over_http(database, workdir, args.requests)
        figures |= headline_in_process(database)
        if args.headline_only:
            print_figures(figures)
            report(figures, os.getloadavg())
            return
        floor = served_framework_load(args.seconds)
        mixed = workdir / "mix.db"
        shutil.copy(database, mixed)
        figures |= mix({"LINEAGE_STORE": "sqlite", "LINEAGE_DB": str(mixed)}, args.seconds,
                       workdir, "sqlite")  # fmt: skip
        if args.neo4j and os.environ.get("NEO4J_URI"):
            figures |= mix({"LINEAGE_STORE": "neo4j"}, args.seconds, workdir, "neo4j")
        after = served_framework_load(args.seconds)
    key = "FastAPI + Strawberry { __typename }, 2 workers, 32 clients: "
    for what in ("reads/s", "read p50 ms", "read p99 ms"):
        figures[f"floor {what} (before the mix)"] = floor[key + what]
        figures[f"floor {what} (after the mix)"] = after[key + what]
    print_figures(figures)
    report(figures, os.getloadavg())


def print_figures(figures: dict[str, float]) -> None:
    width = max(len(name) for name in figures)
    for name, value in figures.items():
        print(f"{name:<{width}}  {value:10.3f}")


def report(f: dict[str, float], load: tuple[float, float, float]) -> None:
    """The ratios against the targets."""
    print()
    ours = f["headline uncached over HTTP: service p50 ms"]
    engine = f["headline over HTTP: graphql-core alone p50 ms"]
    print(
        f"headline uncached over HTTP: {ours:.2f} ms p50 against graphql-core alone {engine:.2f}"
        f" ms: {ours / engine:.2f}x (target at most 2x)"
    )
    bare = f["headline over HTTP: Strawberry alone p50 ms"]
    print(
        f"headline over HTTP: Strawberry alone (its view and its caches, the answer in memory, "
        f"sync resolvers) {bare:.2f} ms p50: {bare / engine:.2f}x graphql-core's; the service "
        f"{ours / bare:.2f}x Strawberry's"
    )
    served = [
        f[f"headline {what} CPU ms/request"]
        for what in ("uncached over HTTP: service", "over HTTP: graphql-core alone",
                     "over HTTP: Strawberry alone")
    ]  # fmt: skip
    print(
        f"server CPU per request (the steadier figure on a loaded machine): service "
        f"{served[0]:.2f} ms, graphql-core alone {served[1]:.2f} ms "
        f"({served[0] / served[1]:.2f}x), Strawberry alone {served[2]:.2f} ms "
        f"({served[2] / served[1]:.2f}x)"
    )
    project = f["headline in process: schema.execute CPU ms"]
    core = f["headline in process: graphql-core alone CPU ms"]
    print(
        f"headline in process: schema.execute {project:.2f} ms CPU against graphql-core "
        f"{core:.2f} ms: {project / core:.1f}x (store reads included)"
    )
    if "floor reads/s (before the mix)" not in f:
        print(f"load average at the end: {load}")
        return
    rate = statistics.fmean(
        [f["floor reads/s (before the mix)"], f["floor reads/s (after the mix)"]]
    )
    p99 = statistics.fmean(
        [f["floor read p99 ms (before the mix)"], f["floor read p99 ms (after the mix)"]]
    )
    for store in ("sqlite", "neo4j"):
        prefix = f"mix ({store}): "
        if prefix + "responses/s" not in f:
            continue
        print(
            f"the mix on {store}: {f[prefix + 'responses/s']:,.0f} responses/s, "
            f"{f[prefix + 'responses/s'] / rate:.0%} of the framework's empty request "
            f"({rate:,.0f}/s; target at least 75%); read p99 {f[prefix + 'read p99 ms']:.1f} ms, "
            f"{f[prefix + 'read p99 ms'] / p99:.1f}x the floor's {p99:.1f} ms (target at most 3x); "
            f"stale answers {f[prefix + 'stale']:.0f} of {f[prefix + 'probe reads']:.0f} "
            f"probe reads (target 0); lost writes {f[prefix + 'lost']:.0f}, "
            f"5xx {f[prefix + '5xx']:.0f}"
        )
    print(f"load average at the end: {load}")


if __name__ == "__main__":
    main()
