#!/usr/bin/env python3
"""Where one cache miss of the popularity mix spends its time, stage by stage, in one worker.

The service (``api.main.create_app``, SQLite, the demo tree, the default
settings) is driven in process as uvicorn drives it, one ASGI call per
request, with no socket: the mix's four reads (load.py's ``MIX_READS``) on
videos drawn from the same Zipf popularity over the same 3,000 videos, each
sent with ``cache-control: no-cache`` and a writer's token, as
``bench_mix_bound.py``'s misses are. Printed:

1. the wall time per request without a profiler (the figure the stages below
   share, and their floor: this process's time per ``{ __typename }`` through
   the same app, uncached);
2. under cProfile, each stage's cumulative share of the request (a stage
   holds the stages it calls: the ASGI middlewares nest) and each package's
   own time (``tottime`` summed by where the code lives).

cProfile's overhead grows with the number of calls, so its shares weigh
Python-heavy stages more than the wall clock does; the deterministic figure
is its call count per request, printed beside them.

With ``--through-cache`` each (query, video) is asked once, without
``no-cache``: every request misses through the cache's lookup and remembers
its answer, as a miss of the mix does.

Usage: benchmarks/profile_miss.py [--requests 2000] [--query stats|remixes|ancestors|variants]
[--through-cache] [--neo4j]

``--neo4j`` profiles the same on the Neo4j store (``NEO4J_*`` in the
environment: ``eval "$(scripts/neo4j-local start)"``; its database is emptied
and the demo loaded), where the store's reads go through the official async
driver: its own time is printed as a package of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_misses import demo_database  # noqa: E402
from load import MIX_READS, READS, lineage, zipf_weights  # noqa: E402

__all__ = ["STAGES", "main"]

# (label, file suffix, function name): the stages of a miss, outermost first.
STAGES = (
    ("ASGI entry: request id, access log", "api/logging.py", "__call__"),
    ("body size limit", "api/middleware.py", "__call__"),
    ("request time limit", "api/timelimit.py", "__call__"),
    ("private-answer marks", "api/cache_headers.py", "__call__"),
    ("read scopes", "api/read_scopes.py", "__call__"),
    ("response cache (pass-through)", "api/cache.py", "__call__"),
    ("  its partition: token lookup", "api/security.py", "partition"),
    ("  its body read", "api/cache.py", "_read_body"),
    ("  its lookup (version reads)", "api/cache.py", "_lookup"),
    ("  remembering the answer", "api/cache.py", "_remember"),
    ("Strawberry's view", "strawberry/http/async_base_view.py", "run"),
    ("  context (store, caller, loaders)", "api/graphql/http.py", "get_context"),
    ("  body parse", "strawberry/http/async_base_view.py", "parse_http_body"),
    ("  schema.execute", "strawberry/schema/schema.py", "execute"),
    ("    parse (document cache)", "api/graphql/document_cache.py", "on_parse"),
    ("    validate (document cache)", "api/graphql/document_cache.py", "_validate"),
    ("    cost limit", "api/graphql/guards.py", "on_execute"),
    ("    metrics", "api/metrics.py", "on_operation"),
    ("    graphql-core execution", "graphql/execution/executor.py", "execute_operation"),
    ("      permission (read)", "api/graphql/permissions.py", "has_permission"),
    ("      store reads (SQLite)", "api/graphql/context.py", "read_now"),
    ("      store reads (Neo4j: a wave's query)", "lineage/stores/neo4j/async_reads.py", "_send"),
    ("      dependency noting", "api/graphql/context.py", "note_videos"),
    ("      fixed-field checks", "api/graphql/dependencies.py", "asks_fixed_only"),
    ("  result processing", "api/graphql/http.py", "process_result"),
    ("  encode (orjson)", "api/graphql/http.py", "encode_answer"),
    ("  response", "api/graphql/http.py", "create_response"),
)
# Own time summed by where the code lives.
PACKAGES = (
    ("neo4j driver", "/neo4j/"),
    ("project: api/", "/api/"),
    ("project: lineage/", "/lineage/"),
    ("strawberry", "/strawberry/"),
    ("graphql-core", "/graphql/"),
    ("starlette / fastapi", "/starlette/"),
    ("starlette / fastapi", "/fastapi/"),
    ("asyncio", "/asyncio/"),
)


def ranked_ids(store: Any, count: int) -> list[str]:
    """load.py's ``popular_ids`` read from the store: grandma, her remixes by
    derivatives, then theirs, breadth first."""
    from lineage.store import VideoOrder

    ranked, level = ["grandma"], ["grandma"]
    while level and len(ranked) < count:
        below = [r.id for p in level for r in store.children(p, VideoOrder.DERIVATIVES, 100)]
        ranked += below
        level = below
    return ranked[:count]


class Driver:
    """One ASGI app called as uvicorn calls it, a request at a time, no socket."""

    def __init__(self, app: Any, token: str, through_cache: bool = False) -> None:
        self.app = app
        self.headers = [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
        ]
        if not through_cache:
            self.headers.append((b"cache-control", b"no-cache"))

    async def post(self, body: dict[str, Any]) -> bytes:
        raw = orjson.dumps(body)
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "POST", "scheme": "http", "path": "/graphql", "raw_path": b"/graphql",
            "root_path": "", "query_string": b"", "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000), "state": {},
            "headers": [*self.headers, (b"content-length", str(len(raw)).encode())],
        }  # fmt: skip
        sent: list[bytes] = []
        status: list[int] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": raw, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            elif message["type"] == "http.response.body":
                sent.append(message.get("body", b""))

        await self.app(scope, receive, send)
        answer = b"".join(sent)
        if status != [200] or b'"errors"' in answer:
            sys.exit(f"the request failed: {status} {answer[:300]!r}")
        return answer


async def timed(post: Callable[[dict[str, Any]], Awaitable[bytes]], bodies: list[Any]) -> float:
    started = time.perf_counter()
    for body in bodies:
        await post(body)
    return (time.perf_counter() - started) / len(bodies)


def report(profile: cProfile.Profile, requests: int) -> None:
    stats = pstats.Stats(profile)
    entries: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for (_, _, tt, _, _) in entries.values())
    calls = sum(nc for (_, nc, _, _, _) in entries.values())
    print(f"\nunder cProfile: {1000 * total / requests:.3f} ms and {calls / requests:,.0f} "
          "function calls per request")  # fmt: skip
    print(f"{'stage (cumulative, nests)':<42} {'ms/request':>10} {'share':>7} {'calls/req':>9}")
    for label, suffix, name in STAGES:
        cumulative = 0.0
        count = 0
        for (filename, _, function), (_, nc, _, ct, _) in entries.items():
            if function == name and filename.endswith(suffix):
                cumulative += ct
                count += nc
        print(f"{label:<42} {1000 * cumulative / requests:>10.3f} {cumulative / total:>7.1%} "
              f"{count / requests:>9.1f}")  # fmt: skip
    own: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, tt, _, _) in entries.items():
        where = next((label for label, part in PACKAGES if part in filename), "other (C, stdlib)")
        if "/lineage/stores/neo4j/" in filename:
            where = "project: lineage/"
        if "sqlite" in filename:
            where = "other (C, stdlib)"
        own[where] += tt
    print(f"\n{'own time by package':<42} {'ms/request':>10} {'share':>7}")
    for where, seconds in sorted(own.items(), key=lambda item: -item[1]):
        print(f"{where:<42} {1000 * seconds / requests:>10.3f} {seconds / total:>7.1%}")
    print("\nthe 25 functions of most own time:")
    stats.sort_stats("tottime").print_stats(25)


async def run(
    database: Path, token: str, requests: int, query: str | None, through_cache: bool
) -> None:
    from api.core.config import ApiSettings
    from api.main import create_app
    from lineage.config import read_settings

    app = create_app(read_settings(ApiSettings))
    async with app.router.lifespan_context(app):
        driver = Driver(app, token, through_cache)
        empty_driver = Driver(app, token)
        ids = ranked_ids(app.state.store, 3000)
        weights = zipf_weights(len(ids))
        rng = random.Random(1)
        names = [query] if query else sorted(MIX_READS)
        if through_cache:
            # Each (query, video) once: every request a miss through the cache's
            # lookup, execution and remembering, in a random order.
            pairs = [(name, video) for name in names for video in ids]
            rng.shuffle(pairs)
            if len(pairs) < 4 * requests + 1000:
                sys.exit(f"--through-cache asks for at most {(len(pairs) - 1000) // 4} requests")
            bodies = [{"query": READS[n], "variables": {"id": v}} for n, v in pairs]
        else:
            bodies = [
                {"query": READS[rng.choice(names)],
                 "variables": {"id": rng.choices(ids, cum_weights=weights)[0]}}
                for _ in range(4 * requests + 500)
            ]  # fmt: skip
        warm, rounds, profiled = bodies[:500], bodies[500:], bodies[-requests:]
        typename = [{"query": "{ __typename }"}] * requests
        await timed(driver.post, warm)  # warm-up
        await timed(empty_driver.post, typename[:500])
        # In turn, so that the machine's load falls on both alike.
        miss, empty = [], []
        for round_ in range(3):
            chunk = rounds[round_ * requests : (round_ + 1) * requests]
            miss.append(await timed(driver.post, chunk))
            empty.append(await timed(empty_driver.post, typename))
        print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
              f"load average {os.getloadavg()}")  # fmt: skip
        how = "first asked, through the cache" if through_cache else "no-cache"
        print(f"miss ({'/'.join(names)}; {how}), in process, no profiler: best of 3 "
              f"{1000 * min(miss):.3f} ms per request; floor, the same app's uncached "
              f"{{ __typename }}: {1000 * min(empty):.3f} ms "
              f"({min(miss) / min(empty):.2f}x)")  # fmt: skip
        profile = cProfile.Profile()
        profile.enable()
        for body in profiled:
            await driver.post(body)
        profile.disable()
        report(profile, requests)


def neo4j_env() -> dict[str, str]:
    """The service's settings for the Neo4j of ``NEO4J_*``, its database emptied."""
    from bench_viral import store_env

    env = store_env("neo4j", Path("."))
    return {
        "LINEAGE_STORE": "neo4j",
        "LINEAGE_NEO4J_URI": env["NEO4J_URI"],
        "LINEAGE_NEO4J_USER": env.get("NEO4J_USER", "neo4j"),
        "LINEAGE_NEO4J_PASSWORD": env.get("NEO4J_PASSWORD", ""),
        "LINEAGE_NEO4J_DATABASE": env.get("NEO4J_DATABASE", "neo4j"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="per round")
    parser.add_argument("--query", choices=sorted(MIX_READS), help="one read only")
    parser.add_argument(
        "--through-cache",
        action="store_true",
        help="misses through the response cache (each query and video asked once) "
        "rather than past it with no-cache",
    )
    parser.add_argument("--neo4j", action="store_true", help="the Neo4j store (NEO4J_*)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        if args.neo4j:
            database = Path(name) / "unused.db"
            env = {**os.environ, **neo4j_env()}
            loaded = lineage("demo", env=env)
            if loaded.returncode != 0:
                sys.exit(loaded.stderr)
        else:
            database = demo_database(Path(name))
            env = {**os.environ, "LINEAGE_STORE": "sqlite", "LINEAGE_DB": str(database)}
        created = lineage("token", "create", "profile", "--role", "writer", env=env)
        token = created.stdout.strip().splitlines()[-1]
        os.environ.update({k: v for k, v in env.items() if k.startswith("LINEAGE_")})
        os.environ["LINEAGE_ACCESS_LOG"] = "false"
        asyncio.run(run(database, token, args.requests, args.query, args.through_cache))


if __name__ == "__main__":
    main()
