#!/usr/bin/env python3
"""Benchmark of the GraphQL API over HTTP with wrk. Prints figures.

Serves the demo tree (SQLite) with ``lineage serve`` and as many uvicorn
workers as cores, and loads it with wrk (keep-alive, loopback):

1. one client in sequence: p50 and p99 of the issue's lineage query;
2. 32 concurrent clients: requests/s and p99 of that query, beside
   (i) a minimal FastAPI endpoint returning fixed JSON (the HTTP floor) and
   (ii) ``{ __typename }`` on our own GraphQL endpoint (the GraphQL floor).

Runs everything twice: without the response cache and with it (the default,
see ``LINEAGE_API_RESPONSE_CACHE_ENTRIES``). The targets are judged on the
uncached run only: with the cache on, the lineage query and the GraphQL floor
are both answered from the cache, so their ratio compares cache hits with
cache hits; that run is printed for contrast (what a repeated query costs).

Usage: benchmarks/bench_api.py [--seconds N] [--workers N] [--cache on|off|both]
(needs wrk: apt-get install wrk)
Targets (issue 4), uncached: p50 < 5 ms, p99 < 15 ms in sequence; at 32 clients,
our query at >= 30% of the HTTP floor and >= 60% of the GraphQL floor.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent

QUERY = (
    '{ video(id: "grandma") { derivativeCount treeDepth generationCounts { generation count } '
    "topVariants(limit: 10) { child { id derivativeCount } promptDiff { summary variantKey } } "
    "variantGroups(limit: 5) { key remixCount reach } } }"
)
TYPENAME = "{ __typename }"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, body: bytes, timeout: float = 60) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            request = urllib.request.Request(
                url, data=body, headers={"content-type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=5) as reply:
                return bytes(reply.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def lua_script(workdir: Path, name: str, query: str) -> Path:
    path = workdir / f"{name}.lua"
    body = json.dumps({"query": query})
    path.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(body)}\n"
    )
    return path


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(url: str, script: Path, connections: int, seconds: int) -> dict[str, float]:
    threads = min(connections, 2)
    output = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        sys.exit(f"wrk saw errors:\n{output}")
    figures: dict[str, float] = {}
    for percentile in ("50", "99"):
        match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        assert match, output
        figures[f"p{percentile}"] = float(match.group(1)) * _UNITS[match.group(2)]
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    assert rate, output
    figures["rps"] = float(rate.group(1))
    return figures


def serve(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cache", choices=("on", "off", "both"), default="both")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("needs wrk (Debian: apt-get install wrk)")
    workdir = Path(tempfile.mkdtemp(prefix="lineage-bench-api-"))
    database = workdir / "demo.db"
    env = {**os.environ, "LINEAGE_DB": str(database), "LINEAGE_STORE": "sqlite"}
    subprocess.run([VENV_BIN / "lineage", "demo"], env=env, check=True, stdout=subprocess.DEVNULL)

    print(
        f"machine: {os.cpu_count()} cores; uvicorn workers: {args.workers}; "
        "wrk, keep-alive, loopback"
    )
    modes = {"on": [True], "off": [False], "both": [False, True]}[args.cache]
    try:
        for cached in modes:
            cache_env = {**env, "LINEAGE_API_RESPONSE_CACHE_ENTRIES": "512" if cached else "0"}
            label = "on (default): cache hits, not judged" if cached else "off: judged"
            print(f"\n== response cache {label} ==")
            measure(args, workdir, cache_env, judged=not cached)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def verdict(met: bool, judged: bool) -> str:
    if not judged:
        return "not judged: cache hits"
    return "met" if met else "NOT met"


def measure(args: argparse.Namespace, workdir: Path, env: dict[str, str], *, judged: bool) -> None:
    ours_port, floor_port = free_port(), free_port()
    common = ["--workers", str(args.workers), "--log-level", "warning", "--no-access-log"]
    servers = [
        serve([str(VENV_BIN / "lineage"), "serve", "--port", str(ours_port), *common], env),
        serve(
            [
                str(VENV_BIN / "uvicorn"),
                "bench_api_floor:app",
                "--app-dir",
                str(ROOT / "benchmarks"),
                "--port",
                str(floor_port),
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env,
        ),
    ]
    try:
        ours_url = f"http://127.0.0.1:{ours_port}/graphql"
        floor_url = f"http://127.0.0.1:{floor_port}/graphql"
        answer = json.loads(wait_for(ours_url, json.dumps({"query": QUERY}).encode()))
        assert "errors" not in answer, answer
        wait_for(floor_url, b"{}")
        query_lua = lua_script(workdir, "query", QUERY)
        typename_lua = lua_script(workdir, "typename", TYPENAME)
        # Warm every worker's caches (parser, validation, SQLite pages).
        run_wrk(ours_url, query_lua, 8, 3)
        run_wrk(ours_url, typename_lua, 8, 2)
        run_wrk(floor_url, typename_lua, 8, 2)

        print(f"demo tree: grandma has {answer['data']['video']['derivativeCount']:,} derivatives")
        sequential = run_wrk(ours_url, query_lua, 1, args.seconds)
        print("one client in sequence, the lineage query:")
        print(
            f"  p50 {sequential['p50']:.2f} ms (target < 5: "
            f"{verdict(sequential['p50'] < 5, judged)})   p99 {sequential['p99']:.2f} ms "
            f"(target < 15: {verdict(sequential['p99'] < 15, judged)})   "
            f"{sequential['rps']:,.0f} req/s"
        )
        ours = run_wrk(ours_url, query_lua, 32, args.seconds)
        graphql_floor = run_wrk(ours_url, typename_lua, 32, args.seconds)
        http_floor = run_wrk(floor_url, typename_lua, 32, args.seconds)
        print("32 concurrent clients:")
        for label, figures in (
            ("lineage query", ours),
            ("GraphQL floor { __typename }", graphql_floor),
            ("HTTP floor (fixed JSON)", http_floor),
        ):
            print(f"  {label:<30} {figures['rps']:>9,.0f} req/s   p99 {figures['p99']:7.2f} ms")
        http_share = ours["rps"] / http_floor["rps"]
        graphql_share = ours["rps"] / graphql_floor["rps"]
        print(
            f"  lineage query / HTTP floor    {http_share:6.1%}  "
            f"(target >= 30%: {verdict(http_share >= 0.3, judged)})"
        )
        print(
            f"  lineage query / GraphQL floor {graphql_share:6.1%}  "
            f"(target >= 60%: {verdict(graphql_share >= 0.6, judged)})"
        )
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
