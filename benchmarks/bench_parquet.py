#!/usr/bin/env python3
"""Parquet export against JSONL export, in the same run, as a user runs them. Prints figures.

Imports a synthetic forest (default 300,000 videos) into a fresh SQLite file,
then times ``lineage export [ID] --format jsonl|parquet -o FILE`` in child
processes, alternating the formats (JSONL, Parquet, Parquet, JSONL, ... so
that drift in the machine's speed falls on both alike), for the whole store
and for the subtree of its largest tree. Each run reports its wall time and
the child's CPU time (user + system: the steadier figure on a shared
machine), videos/s by each, the child's peak memory (VmHWM) and the file's
size; the Parquet file is read back with pyarrow and its row count checked.
A one-video export of each format gives the fixed start-up cost that every
run includes.

The floor it is read against: the JSONL export of the same lineage in the
same run (issue 30: Parquet at least as fast, by the medians of wall clock
and of CPU time). Peak memory shows whether the export streams: it should
not grow with the lineage.

With ``--neo4j`` (and NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD set), the same
pairs are timed on the Neo4j store's whole content, whatever it holds.

Usage: benchmarks/bench_parquet.py [--size N] [--pairs P] [--db FILE] [--neo4j]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

# The CLI in a child, its peak RSS (KiB) on stderr's last line.
from bench_export import MEASURED  # noqa: E402

from lineage.demo.synthetic import synthetic_forest  # noqa: E402
from lineage.store import VideoOrder  # noqa: E402
from lineage.stores.sqlite import SQLiteStore  # noqa: E402


def export(
    env: dict[str, str], video_id: str | None, file_format: str, output: Path
) -> tuple[float, float, float]:
    """One ``lineage export``: (wall seconds, CPU seconds, peak MiB)."""
    argv = ["export", *([video_id] if video_id else []), "--format", file_format, "-o", str(output)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", MEASURED, *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if result.returncode != 0:
        sys.exit(f"lineage {' '.join(argv)} failed:\n{result.stderr[-3000:]}")
    return elapsed, cpu, int(result.stderr.strip().splitlines()[-1]) / 1024


def count_rows(path: Path, file_format: str) -> int:
    if file_format == "parquet":
        return int(pq.ParquetFile(path).metadata.num_rows)
    with path.open("rb") as lines:
        return sum(1 for _ in lines)


def compare(
    label: str, env: dict[str, str], video_id: str | None, videos: int, pairs: int, work: Path
) -> None:
    """Alternating runs of both formats on one lineage; prints each run and the medians."""
    order = []
    for pair in range(pairs):
        order += ["jsonl", "parquet"] if pair % 2 == 0 else ["parquet", "jsonl"]
    runs: dict[str, list[tuple[float, float, float]]] = {"jsonl": [], "parquet": []}
    sizes: dict[str, int] = {}
    for file_format in order:
        output = work / f"out.{file_format}"
        elapsed, cpu, peak = export(env, video_id, file_format, output)
        rows = count_rows(output, file_format)
        assert rows == videos, (file_format, rows, videos)
        sizes[file_format] = output.stat().st_size
        runs[file_format].append((elapsed, cpu, peak))
        print(
            f"  {label:<34} {file_format:<8} wall {elapsed:6.2f} s {videos / elapsed:>8,.0f}/s"
            f"  cpu {cpu:6.2f} s {videos / cpu:>8,.0f}/s  peak {peak:5,.0f} MiB"
        )
        output.unlink()
    wall, cpu = {}, {}
    for file_format, timings in runs.items():
        wall[file_format] = statistics.median(run[0] for run in timings)
        cpu[file_format] = statistics.median(run[1] for run in timings)
        peak = max(run[2] for run in timings)
        print(
            f"  {label:<34} {file_format:<8} median wall {videos / wall[file_format]:>8,.0f} "
            f"videos/s, cpu {videos / cpu[file_format]:>8,.0f} videos/s, peak {peak:,.0f} MiB, "
            f"file {sizes[file_format] / 2**20:,.1f} MiB"
        )
    for measure, medians in (("wall clock", wall), ("CPU time", cpu)):
        ratio = medians["jsonl"] / medians["parquet"]
        verdict = "met" if ratio >= 1 else "NOT met"
        print(
            f"  {label:<34} Parquet / JSONL speed by {measure}: {ratio:.2f}x "
            f"(floor 1.00x: {verdict})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=300_000, help="videos in the forest")
    parser.add_argument("--pairs", type=int, default=3, help="runs of each format per lineage")
    parser.add_argument("--db", type=Path, help="reuse this SQLite store instead of a new forest")
    parser.add_argument("--neo4j", action="store_true", help="also time the Neo4j store")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lineage-bench-parquet-"))
    database = args.db or work / "forest.db"
    env = {**os.environ, "LINEAGE_STORE": "sqlite", "LINEAGE_DB": str(database)}
    if args.db is None:
        source = work / "forest.jsonl"
        records = list(synthetic_forest(args.size, seed=args.size))
        random.Random(11).shuffle(records)
        with source.open("w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        del records
        subprocess.run(
            [sys.executable, "-c", MEASURED, "import", str(source)],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        source.unlink()
    store = SQLiteStore(database)
    total = store.count_videos()
    (largest,) = store.children(None, VideoOrder.DERIVATIVES, 1)
    store.close()

    print(
        f"bench_parquet: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}, Python {platform.python_version()}, "
        f"pyarrow {pa.__version__}"
    )
    print(
        f"SQLite store: {total:,} videos; largest tree {largest.id} "
        f"({largest.derivative_count + 1:,} videos)"
    )
    one = store_one_video(database)
    for file_format in ("jsonl", "parquet"):
        seconds, cpu, peak = export(env, one, file_format, work / f"one.{file_format}")
        print(
            f"  {'start-up (a one-video export)':<34} {file_format:<8} wall {seconds:6.2f} s"
            f"  cpu {cpu:6.2f} s  peak {peak:5,.0f} MiB"
        )
    compare("SQLite, whole store", env, None, total, args.pairs, work)
    compare(
        f"SQLite, subtree of {largest.id}",
        env,
        largest.id,
        largest.derivative_count + 1,
        args.pairs,
        work,
    )
    if args.neo4j:
        from lineage.stores.neo4j import Neo4jStore

        neo4j_env = {**os.environ, "LINEAGE_STORE": "neo4j"}
        graph = Neo4jStore(
            os.environ["NEO4J_URI"],
            os.environ.get("NEO4J_USER", "neo4j"),
            os.environ.get("NEO4J_PASSWORD", ""),
            os.environ.get("NEO4J_DATABASE", "neo4j"),
        )
        videos = graph.count_videos()
        graph.close()
        print(f"Neo4j store: {videos:,} videos")
        compare("Neo4j, whole store", neo4j_env, None, videos, args.pairs, work)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    for path in work.iterdir():
        path.unlink()
    work.rmdir()


def store_one_video(database: Path) -> str:
    """A video with no remixes (a one-row export)."""
    store = SQLiteStore(database)
    try:
        for video in store.iter_videos():
            if video.derivative_count == 0:
                return video.id
    finally:
        store.close()
    raise SystemExit("no leaf video in the store")


if __name__ == "__main__":
    main()
