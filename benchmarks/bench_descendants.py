#!/usr/bin/env python3
"""Benchmark of ``descendants`` pages on the demo tree. Prints figures.

Walks every derivative of ``grandma`` (41,640, read through the index
``(original_id, generation, id)``) and of its largest remix (read through the
descendant closure) in pages of 20 with ``after`` cursors, through the store,
and prints the median time of the first and the last 50 pages: a page must
cost about the same at the end as at the start (issue 12, item 3).

Usage: benchmarks/bench_descendants.py [--store sqlite|neo4j] [--page N]
(neo4j: from NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD, NEO4J_DATABASE; the
database is emptied first).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_over_time import open_bench_store  # noqa: E402

from lineage.demo.tree import DEMO_ORIGINAL_ID, demo_records  # noqa: E402
from lineage.importing.records import SourcedRecord  # noqa: E402
from lineage.store import LineageStore, VideoOrder  # noqa: E402

EDGE = 50  # pages measured at each end


def walk(
    store: LineageStore, video_id: str, original: bool, page: int, pages: int | None = None
) -> list[float]:
    """Milliseconds of every page of the video's derivatives (or the first ``pages``)."""
    times: list[float] = []
    after = None
    while pages is None or len(times) < pages:
        start = time.perf_counter()
        found = store.descendant_page(video_id, original, page, after)
        times.append((time.perf_counter() - start) * 1000)
        if len(found) < page:
            return times
        after = (found[-1].generation, found[-1].id)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["sqlite", "neo4j"], default="sqlite")
    parser.add_argument("--page", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        store = open_bench_store(args.store, Path(directory))
        records = demo_records()
        store.import_videos(SourcedRecord(r, "demo", n) for n, r in enumerate(records, 1))
        print(f"demo tree: {len(records):,} videos on {args.store}; pages of {args.page}")
        largest = store.children(DEMO_ORIGINAL_ID, VideoOrder.DERIVATIVES, 1)[0]
        for video_id, original in ((DEMO_ORIGINAL_ID, True), (largest.id, False)):
            video = store.get_video(video_id)
            assert video is not None
            walk(store, video_id, original, args.page, EDGE)  # warm the query plans
            times = walk(store, video_id, original, args.page)
            first = statistics.median(times[:EDGE])
            last = statistics.median(times[-EDGE:])
            print(
                f"{video_id} ({video.derivative_count:,} derivatives, {len(times):,} pages): "
                f"first {EDGE} pages median {first:.2f} ms, last {EDGE} {last:.2f} ms, "
                f"whole walk {sum(times) / 1000:.1f} s"
            )
        store.close()


if __name__ == "__main__":
    main()
