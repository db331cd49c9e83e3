#!/usr/bin/env python3
"""Benchmarks of the lineage core on the embedded SQLite store. Prints figures.

1. Bulk import of a synthetic forest (default 1,000,000 videos, shuffled so
   remixes often come before their parents) through ``lineage import`` in a
   child process: videos/s and peak memory (the child's max RSS).
2. Incremental remix inserts into the demo tree: median and p99.
3. Derivative count / tree depth lookups in stores of 1k, 10k, 100k videos and
   the big one: median, and the ratio against recomputing the same answers for
   the same video's tree with networkx (graph already in memory).

Usage: benchmarks/bench_core.py [--videos N] [--workdir DIR]
Targets (issue 3): import >= 20,000 videos/s under 1.5 GiB; insert median < 1 ms;
lookups median < 50 us, flat across store sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lineage.demo.synthetic import synthetic_forest  # noqa: E402
from lineage.demo.tree import demo_records  # noqa: E402
from lineage.importing.records import SourcedRecord  # noqa: E402
from lineage.stores.sqlite import SQLiteStore  # noqa: E402


def write_forest(path: Path, size: int, seed: int) -> list[tuple[str, str | None]]:
    records = list(synthetic_forest(size, seed=seed))
    edges = [(r["id"], r["parent_id"]) for r in records]
    random.Random(seed).shuffle(records)
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False))
            out.write("\n")
    return edges


def bench_import(workdir: Path, size: int) -> tuple[Path, list[tuple[str, str | None]]]:
    source = workdir / f"forest-{size}.jsonl"
    database = workdir / f"forest-{size}.db"
    for leftover in workdir.glob(f"forest-{size}.db*"):
        leftover.unlink()
    edges = write_forest(source, size, seed=11)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "lineage", "import", str(source), "--db", str(database)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if result.returncode != 0:
        sys.exit(f"import failed: {result.stdout}\n{result.stderr[-2000:]}")
    assert peak_kib >= before
    print(f"bulk import, {size:,} videos (shuffled JSONL, prompt diffs included)")
    print(f"  {result.stdout.strip()}")
    print(f"  time {elapsed:.1f} s   rate {size / elapsed:,.0f} videos/s   (target >= 20,000)")
    print(f"  peak memory {peak_kib / 1024:,.0f} MiB   (target < 1,536 MiB)")
    return database, edges


def timed(call, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        started = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - started) / 1000)
    return samples


def bench_inserts(workdir: Path, count: int = 3000) -> None:
    database = workdir / "demo.db"
    for leftover in workdir.glob("demo.db*"):
        leftover.unlink()
    store = SQLiteStore(database)
    records = list(demo_records())
    store.import_videos(SourcedRecord(r, "demo", n) for n, r in enumerate(records, 1))
    rng = random.Random(5)
    targets = records
    samples = []
    for number in range(count):
        parent = rng.choice(targets)
        record = {
            "id": f"bench-{number}",
            "parent_id": parent["id"],
            "prompt": parent["prompt"] + " at dawn",
        }
        started = time.perf_counter_ns()
        report = store.import_videos([SourcedRecord(record)])
        samples.append((time.perf_counter_ns() - started) / 1000)
        assert report.added == 1
    samples.sort()
    print(
        f"incremental remix insert into the demo tree ({len(records):,} videos), {count:,} inserts"
    )
    print(
        f"  median {statistics.median(samples):,.0f} us"
        f"   p99 {samples[int(0.99 * len(samples))]:,.0f} us"
        "   (target: median < 1,000 us)"
    )
    store.close()


def bench_lookups(label: str, database: Path, edges: list[tuple[str, str | None]]) -> None:
    store = SQLiteStore(database)
    tree = nx.DiGraph()
    tree.add_edges_from((parent, child) for child, parent in edges if parent is not None)
    tree.add_nodes_from(child for child, _ in edges)
    originals = [child for child, parent in edges if parent is None]
    biggest = max(originals, key=lambda v: store.get_video(v).derivative_count)  # type: ignore[union-attr]
    rng = random.Random(3)
    ids = [rng.choice(edges)[0] for _ in range(2000)]
    ours = []
    for video_id in ids:
        started = time.perf_counter_ns()
        video = store.get_video(video_id)
        assert video is not None
        _ = (video.derivative_count, video.tree_depth)
        ours.append((time.perf_counter_ns() - started) / 1000)
    ours_root = timed(lambda: store.get_video(biggest), 200)

    def recompute() -> tuple[int, int]:
        depths = nx.single_source_shortest_path_length(tree, biggest)
        return len(depths) - 1, max(depths.values())

    expected = recompute()
    video = store.get_video(biggest)
    assert video is not None
    assert (video.derivative_count, video.tree_depth) == expected
    reference = timed(recompute, 5)
    ours_median = statistics.median(ours)
    print(
        f"  {label:>10} videos: lookup median {ours_median:6.1f} us (random ids), "
        f"{statistics.median(ours_root):6.1f} us (largest original, {expected[0]:,} derivatives); "
        f"networkx recompute {statistics.median(reference) / 1000:9.2f} ms; "
        f"ratio {statistics.median(reference) / statistics.median(ours_root):,.0f}x"
    )
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--videos", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="lineage-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, workdir {workdir}")
    database, edges = bench_import(workdir, args.videos)
    bench_inserts(workdir)
    print("derivative count + tree depth lookup (store.get_video), vs networkx recompute")
    for size in (1_000, 10_000, 100_000):
        if size >= args.videos:
            continue
        small_db = workdir / f"small-{size}.db"
        for leftover in workdir.glob(f"small-{size}.db*"):
            leftover.unlink()
        records = list(synthetic_forest(size, seed=size))
        store = SQLiteStore(small_db)
        store.import_videos(SourcedRecord(r) for r in records)
        store.close()
        bench_lookups(f"{size:,}", small_db, [(r["id"], r["parent_id"]) for r in records])
    bench_lookups(f"{args.videos:,}", database, edges)


if __name__ == "__main__":
    main()
