"""First view of the explorer: the demo's leading original opened from ``/``.

Loads the demo into a temporary SQLite store, serves it with ``lineage serve``
and opens ``/`` in headless Chromium (web/e2e/run.mjs, scenario
``firstview``), each time in a fresh browser context (nothing cached), until
the counts and the tree are drawn. Prints every time and the median; the
target is under 1 s. Needs what the e2e tests need (scripts/test installs it).

Usage: .venv/bin/python benchmarks/bench_explorer.py [RUNS]
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINEAGE = Path(sys.executable).with_name("lineage")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def main() -> int:
    runs = sys.argv[1] if len(sys.argv) > 1 else "10"
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "LINEAGE_STORE": "sqlite", "LINEAGE_DB": str(Path(tmp) / "demo.db")}
        subprocess.run([str(LINEAGE), "demo"], env=env, check=True, stdout=subprocess.DEVNULL)
        port = free_port()
        server = subprocess.Popen(
            [str(LINEAGE), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"{url}/readyz", timeout=1)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            done = subprocess.run(
                ["node", "e2e/run.mjs", "firstview", url, runs],
                cwd=ROOT / "web",
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "E2E_ARTIFACTS": str(Path(tmp) / "shots")},
            )
        finally:
            server.terminate()
            server.wait(timeout=10)
    times = json.loads(done.stdout)["times"]
    print(f"first view of / (fresh context each), ms: {' '.join(map(str, times))}")
    print(f"median {statistics.median(times):.0f} ms, max {max(times)} ms (target: under 1000 ms)")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
