#!/usr/bin/env python3
"""Benchmark of JSONL export from SQLite (and Neo4j, if NEO4J_URI is set). Prints figures.

Imports a synthetic forest (default 1,000,000 videos) into a fresh SQLite
file, then runs ``lineage export --format jsonl -o FILE`` as a user would and
reports videos/s and the export process's peak memory (max RSS).
Targets (issue 6): at least 100,000 videos/s and under 300 MiB on SQLite.
With NEO4J_URI set, the same export from the Neo4j store (whatever it holds;
benchmarks/bench_neo4j.py leaves its 1,000,000-video forest there) is timed too.

Usage: benchmarks/bench_export.py [--size N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lineage.demo.synthetic import synthetic_forest  # noqa: E402

# Runs the export in a child and prints its peak RSS (KiB) on stderr's last line.
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so a child would
# report the size of the (large) process that started it.
MEASURED = (
    "import sys; from lineage.cli.main import main; code = main(sys.argv[1:]); "
    "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]; "
    "print(hwm.split()[1], file=sys.stderr); sys.exit(code)"
)


def export(output: Path, env: dict[str, str], label: str) -> int:
    """Export the whole store to ``output`` as JSONL; print and return the line count."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", MEASURED, "export", "--format", "jsonl", "-o", str(output)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{label} export failed:\n{result.stderr[-3000:]}")
    count = sum(1 for _ in output.open(encoding="utf-8"))
    peak_mib = int(result.stderr.strip().splitlines()[-1]) / 1024
    print(
        f"{label}, whole store: {count:,} videos in {elapsed:.1f} s = "
        f"{count / elapsed:,.0f} videos/s, peak memory {peak_mib:,.0f} MiB"
    )
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="lineage-bench-export-"))
    source, database, output = workdir / "f.jsonl", workdir / "f.db", workdir / "out.jsonl"
    records = list(synthetic_forest(args.size, seed=args.size))
    random.Random(11).shuffle(records)
    with source.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    del records
    env = {**os.environ, "LINEAGE_STORE": "sqlite", "LINEAGE_DB": str(database)}
    subprocess.run(
        [sys.executable, "-m", "lineage", "import", str(source)],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    lines = export(output, env, "SQLite")
    assert lines == args.size, lines
    if os.environ.get("NEO4J_URI"):
        export(output, {**os.environ, "LINEAGE_STORE": "neo4j"}, "Neo4j")
    for path in workdir.iterdir():
        path.unlink()
    workdir.rmdir()


if __name__ == "__main__":
    main()
