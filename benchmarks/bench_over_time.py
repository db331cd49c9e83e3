#!/usr/bin/env python3
"""Benchmarks of the aggregates over time on the demo tree. Prints figures.

1. ``record_engagement`` throughput: batches of 1,000 likes/views deltas aimed
   at the viral branches (remixes below the hippo and giraffe stars and their
   siblings), each batch one transaction with every ancestor's subtree totals.
2. ``remixes_in(DAY)`` and ``trending(DAY)`` of ``grandma`` through the store,
   for the busiest day of the demo: median and p99.

Usage: benchmarks/bench_over_time.py [--batches N] [--store sqlite|neo4j]
(neo4j: from NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD, NEO4J_DATABASE; the
database is emptied first). Targets (issue 12): >= 20,000 events/s on SQLite;
remixesIn(DAY) and trendingVariants(DAY) median < 2 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lineage.demo.tree import demo_records  # noqa: E402
from lineage.importing.records import SourcedRecord  # noqa: E402
from lineage.over_time.engagement import MAX_EVENTS_PER_CALL, EngagementEvent  # noqa: E402
from lineage.over_time.trending import Window, busiest_day, end_of_day, window_hours  # noqa: E402
from lineage.store import LineageStore  # noqa: E402


def open_bench_store(kind: str, workdir: Path) -> LineageStore:
    if kind == "sqlite":
        from lineage.stores.sqlite import SQLiteStore

        return SQLiteStore(workdir / "demo.db")
    import neo4j

    from lineage.stores.neo4j import Neo4jStore

    uri, user = os.environ["NEO4J_URI"], os.environ.get("NEO4J_USER", "neo4j")
    password, database = os.environ["NEO4J_PASSWORD"], os.environ.get("NEO4J_DATABASE", "neo4j")
    # CALL ... IN TRANSACTIONS runs only in an auto-commit transaction.
    with (
        neo4j.GraphDatabase.driver(uri, auth=(user, password)) as driver,
        driver.session(database=database) as session,
    ):
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()
    return Neo4jStore(uri, user, password, database)


def quantiles(samples: list[float]) -> str:
    samples = sorted(samples)
    return (
        f"median {statistics.median(samples):,.0f} us   "
        f"p99 {samples[int(0.99 * (len(samples) - 1))]:,.0f} us"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--store", choices=["sqlite", "neo4j"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        store = open_bench_store(args.store, Path(directory))
        records = demo_records()
        store.import_videos(SourcedRecord(r, "demo", n) for n, r in enumerate(records, 1))
        print(f"demo tree: {len(records):,} videos on {args.store}")

        # Viral branches: every remix that is not a direct remix of an original.
        targets = [r["id"] for r in records if r["parent_id"] not in (None, "grandma", "nainai")]
        rng = random.Random(12)
        batches = [
            [
                EngagementEvent(rng.choice(targets), rng.randrange(0, 5), rng.randrange(1, 50))
                for _ in range(MAX_EVENTS_PER_CALL)
            ]
            for _ in range(args.batches)
        ]
        started, cpu_started = time.perf_counter(), time.process_time()
        for batch in batches:
            store.record_engagement(batch)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        events = args.batches * MAX_EVENTS_PER_CALL
        print(
            f"record_engagement: {events:,} events in batches of {MAX_EVENTS_PER_CALL:,} "
            f"aimed at the viral branches: {events / elapsed:,.0f} events/s "
            f"({elapsed / args.batches * 1000:,.1f} ms a batch)   (target >= 20,000 on SQLite)"
        )
        # On a shared machine the wall clock includes waiting for a core; the
        # process's own CPU time is what one free core would take (SQLite
        # runs in this process; Neo4j's work is in the server's).
        print(
            f"  this process's CPU time: {cpu:.2f} s, {events / cpu:,.0f} events per CPU second"
            f"   (load average {os.getloadavg()[0]:.1f})"
        )

        busiest = busiest_day(store, "grandma")
        assert busiest is not None
        as_of: datetime = end_of_day(busiest[0])
        first, last = window_hours(Window.DAY, as_of)
        for name, call in (
            ("remixes_in(DAY)", lambda: store.remixes_in("grandma", first, last)),
            ("trending(DAY, 10)", lambda: store.trending("grandma", first, last, 10)),
        ):
            for _ in range(20):
                call()
            samples = []
            for _ in range(500):
                begun = time.perf_counter_ns()
                call()
                samples.append((time.perf_counter_ns() - begun) / 1000)
            print(
                f"{name} of grandma, busiest day {busiest[0]}: {quantiles(samples)}"
                "   (target: median < 2,000 us)"
            )
        print(f"remixes that day: {store.remixes_in('grandma', first, last):,}")
        store.close()


if __name__ == "__main__":
    main()
