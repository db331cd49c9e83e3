#!/usr/bin/env python3
"""Benchmark of the Neo4j store on one server, in one run. Prints figures.

1. bulk import of the demo tree (42,084 videos) and of a synthetic forest
   (default 1,000,000 videos, shuffled), through ``lineage import`` as a
   user runs it (target: at least 10,000 videos/s);
2. the demo original's derivative count: our maintained counter against the
   naive Cypher ``MATCH (:Video {id: $id})<-[:REMIX_OF*]-(d) RETURN count(d)``
   (medians and ratio; target: ours at least 100x faster);
3. incremental remix inserts into the demo tree (median).

The database is emptied first, and the server is warmed up with one import
of a 20,000-video forest (a fresh JVM runs the first imports at half speed
while it compiles). Imports larger than 20,000 records are written one group
of whole subtrees per transaction, so the default heap of scripts/neo4j-local
(1 GB) is enough:

    eval "$(scripts/neo4j-local start)"; .venv/bin/python benchmarks/bench_neo4j.py

Lookups are timed on one open session (``session.run``), the same way for
both queries; ``RETURN 1`` on that session is the round-trip floor. The
store's own ``get_video`` (a whole record, through ``execute_query`` with
retries and bookmarks) is shown too.

Usage: benchmarks/bench_neo4j.py [--size N] [--naive-repeat N] [--inserts N]
Needs NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD (and NEO4J_DATABASE) in the environment.
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

import neo4j

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lineage.demo.synthetic import synthetic_forest  # noqa: E402
from lineage.demo.tree import DEMO_ORIGINAL_ID, demo_records  # noqa: E402
from lineage.importing.records import SourcedRecord  # noqa: E402
from lineage.stores.neo4j import BATCH_SIZE, Neo4jStore  # noqa: E402

NAIVE = "MATCH (:Video {id: $id})<-[:REMIX_OF*]-(d) RETURN count(d) AS n"
OURS = "MATCH (v:Video {id: $id}) RETURN v.derivative_count AS n"


def empty_database(driver: neo4j.Driver, database: str) -> None:
    with driver.session(database=database) as session:
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 20000 ROWS"
        ).consume()


def write_jsonl(path: Path, records: list[dict[str, object]], seed: int) -> None:
    shuffled = list(records)
    random.Random(seed).shuffle(shuffled)
    with path.open("w", encoding="utf-8") as out:
        for record in shuffled:
            out.write(json.dumps(record, ensure_ascii=False))
            out.write("\n")


def timed_child(
    command: list[str], env: dict[str, str], cwd: Path | None = None
) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Run ``command`` to its end: (wall seconds, its CPU seconds, the finished process)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return elapsed, cpu, result


def cli_import(path: Path, count: int, label: str) -> float:
    env = {**os.environ, "LINEAGE_STORE": "neo4j"}
    elapsed, cpu, result = timed_child(
        [sys.executable, "-m", "lineage", "import", str(path)], env, cwd=ROOT
    )
    if result.returncode != 0:
        sys.exit(f"import failed: {result.stdout}\n{result.stderr[-3000:]}")
    rate = count / elapsed
    print(f"bulk import, {label}: {result.stdout.strip()}")
    print(
        f"  {elapsed:.1f} s   {rate:,.0f} videos/s   (target >= 10,000); "
        f"import process CPU {cpu:.1f} s"
    )
    return rate


def median_us(session: neo4j.Session, query: str, repeat: int) -> tuple[float, int]:
    samples, answer = [], -1
    for _ in range(repeat):
        started = time.perf_counter_ns()
        record = session.run(query, id=DEMO_ORIGINAL_ID).single(strict=True)
        samples.append((time.perf_counter_ns() - started) / 1000)
        answer = record[0]
    return statistics.median(samples), answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--naive-repeat", type=int, default=20)
    parser.add_argument("--inserts", type=int, default=500)
    args = parser.parse_args()
    if not os.environ.get("NEO4J_URI"):
        sys.exit('set NEO4J_* first, e.g. eval "$(scripts/neo4j-local start)"')
    uri = os.environ["NEO4J_URI"]
    auth = (os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", ""))
    database = os.environ.get("NEO4J_DATABASE", "neo4j")
    workdir = Path(tempfile.mkdtemp(prefix="lineage-bench-neo4j-"))
    with neo4j.GraphDatabase.driver(uri, auth=auth) as driver:
        version = driver.execute_query(
            "CALL dbms.components() YIELD versions RETURN versions[0] AS v"
        )
        print(f"Neo4j {version.records[0]['v']} at {uri}; UNWIND batch {BATCH_SIZE:,} rows")
        empty_database(driver, database)
        Neo4jStore(uri, *auth, database).close()  # the schema
        warm = workdir / "warm.jsonl"
        write_jsonl(warm, list(synthetic_forest(20_000, seed=1)), seed=1)
        print("warm-up: ", end="")
        cli_import(warm, 20_000, "synthetic forest (20,000 videos)")
        empty_database(driver, database)

        demo = list(demo_records())
        demo_file = workdir / "demo.jsonl"
        write_jsonl(demo_file, demo, seed=3)
        cli_import(demo_file, len(demo), f"demo tree ({len(demo):,} videos, shuffled)")

        session = driver.session(database=database, default_access_mode=neo4j.READ_ACCESS)
        median_us(session, OURS, 500)  # warm both plans
        median_us(session, NAIVE, 3)
        floor, _ = median_us(session, "RETURN $id AS n", 2000)
        ours, our_answer = median_us(session, OURS, 2000)
        naive, naive_answer = median_us(session, NAIVE, args.naive_repeat)
        session.close()
        assert our_answer == naive_answer, (our_answer, naive_answer)
        store = Neo4jStore(uri, *auth, database)
        samples = []
        for _ in range(2000):
            started = time.perf_counter_ns()
            store.get_video(DEMO_ORIGINAL_ID)
            samples.append((time.perf_counter_ns() - started) / 1000)
        store.close()
        print(f"derivative count of {DEMO_ORIGINAL_ID!r} ({our_answer:,}), medians:")
        print(f"  round-trip floor (RETURN 1)          {floor:10,.0f} us")
        print(f"  ours: maintained counter             {ours:10,.0f} us")
        print(f"  naive: variable-length MATCH         {naive:10,.0f} us")
        print(f"  ratio {naive / ours:,.0f}x   (target >= 100x)")
        print(f"  store.get_video (whole record)       {statistics.median(samples):10,.0f} us")

        store = Neo4jStore(uri, *auth, database)
        rng = random.Random(5)
        samples = []
        for number in range(args.inserts):
            parent = rng.choice(demo)
            record = {
                "id": f"bench-{number}",
                "parent_id": parent["id"],
                "prompt": f"{parent['prompt']} at dawn",
            }
            started = time.perf_counter_ns()
            report = store.import_videos([SourcedRecord(record)])
            samples.append((time.perf_counter_ns() - started) / 1000)
            assert report.added == 1, report
        store.close()
        samples.sort()
        print(f"incremental remix insert into the demo tree, {args.inserts:,} inserts:")
        print(
            f"  median {statistics.median(samples):,.0f} us   "
            f"p99 {samples[int(0.99 * len(samples))]:,.0f} us"
        )

        empty_database(driver, database)
        forest = list(synthetic_forest(args.size, seed=args.size))
        forest_file = workdir / "forest.jsonl"
        write_jsonl(forest_file, forest, seed=11)
        del forest
        cli_import(forest_file, args.size, f"synthetic forest ({args.size:,} videos, shuffled)")
    for path in workdir.iterdir():
        path.unlink()
    workdir.rmdir()


if __name__ == "__main__":
    main()
