#!/usr/bin/env python3
"""`lineage import` of one big lineage into Neo4j against its floor, same run. Prints figures.

The lineage is ``synthetic_forest(N, seed=7, originals=1)`` (one original,
preferential attachment, so deep paths and a dense original), written as
JSONL in random order. For each size:

1. **Floor**: ``UNWIND ... CREATE`` of N video-shaped nodes with their
   ``REMIX_OF`` edges, 5,000 a statement (``bench_floors.neo4j_create_rate``),
   on the same server just before the import.
1b. **Schema floor**: the import's own ``CREATE`` statement of remixes
   (``writes._CREATE_REMIXES``, every property the import sets) of N remixes
   of one original into the store's real schema (its 13 indexes on
   ``:Video``, the text index included), 5,000 a transaction: what writing
   the videos alone costs, before any aggregate, closure or bucket.
2. **Import**: the database emptied (schema kept), ``lineage import FILE``
   in a subprocess, wall clock, the import process's CPU time and peak RSS;
   then ``lineage check`` (exit 0 required). With ``--compare``, the import
   runs first with its parts planned against the store one after another
   (``LINEAGE_NEO4J_IMPORT_PIPELINE=0``, as before the pipeline), then
   pipelined, each against the same floors.

The ratio import/floor is the figure the target speaks of.

Usage: benchmarks/bench_import_lineage.py [--sizes 100000,1000000] [--no-check] [--compare]
(needs ``NEO4J_URI``; the database is emptied)
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

import neo4j

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_floors import neo4j_create_rate  # noqa: E402
from bench_viral import load_average  # noqa: E402

from lineage.demo.synthetic import synthetic_forest  # noqa: E402
from lineage.stores.neo4j.writes import _CREATE_ORIGINALS, _CREATE_REMIXES  # noqa: E402


def _create(tx: neo4j.ManagedTransaction, cypher: str, rows: list[list[object]]) -> None:
    created = tx.run(cypher, rows=rows).single(strict=True)["created"]
    if created != len(rows):
        raise RuntimeError(f"created {created} of {len(rows)} videos")


def schema_create_rate(session: neo4j.Session, size: int) -> float:
    """Remixes of one original through the import's CREATE statement, videos/s."""

    def row(n: int, parent: str | None) -> list[object]:
        prompt = f"A grandmother chases a probe {n} out of her yard with a broom"
        text = f"{prompt.casefold()}\n\nuser-{n % 100_000}"
        return [
            f"floor-{n}" if n else "floor-root", prompt, parent, None, f"user-{n % 100_000}",
            1_760_000_000_000_000 + n,
            n % 7, n % 70, 0 if parent is None else 1, "floor-root", 0, 0, 0, None,
            None if parent is None else f"chases a probe {n}",
            None if parent is None else f"crocodile→probe {n}",
            None if parent is None else 0.9,
            None if parent is None else "[]", n % 7, n % 70, text,
        ]  # fmt: skip

    session.execute_write(_create, _CREATE_ORIGINALS, [row(0, None)])
    started = time.perf_counter()
    for start in range(1, size + 1, 5000):
        rows = [row(n, "floor-root") for n in range(start, min(size + 1, start + 5000))]
        session.execute_write(_create, _CREATE_REMIXES, rows)
    return size / (time.perf_counter() - started)


def empty_videos(driver: neo4j.Driver, database: str) -> None:
    """Every node gone; indexes and constraints (the schema) stay."""
    with driver.session(database=database) as session:
        session.run(
            "MATCH (n) WHERE NOT n:Migration "
            "CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 20000 ROWS"
        ).consume()


def write_lineage(path: Path, size: int) -> None:
    records = list(synthetic_forest(size, seed=7, originals=1))
    random.Random(5).shuffle(records)
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def lineage(
    *arguments: str, pipeline: bool = True
) -> tuple[float, float, float, subprocess.CompletedProcess[str]]:
    """Run ``lineage ARGUMENTS``: wall seconds, its CPU seconds, its peak RSS in MiB."""
    env = {
        **os.environ,
        "LINEAGE_STORE": "neo4j",
        "LINEAGE_NEO4J_IMPORT_PIPELINE": "1" if pipeline else "0",
    }
    command = [sys.executable, "-m", "lineage", *arguments]
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(command, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        result = subprocess.CompletedProcess(command, child.returncode, out.read(), err.read())
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed, cpu, usage.ru_maxrss / 1024, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--no-check", action="store_true")
    parser.add_argument(
        "--compare", action="store_true", help="also import with the parts one after another"
    )
    args = parser.parse_args()
    uri = os.environ["NEO4J_URI"]
    auth = (os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", ""))
    database = os.environ.get("NEO4J_DATABASE", "neo4j")
    workdir = Path(tempfile.mkdtemp(prefix="lineage-bench-lineage-"))
    print(f"cores {os.cpu_count()}, load average {load_average()}", flush=True)
    with neo4j.GraphDatabase.driver(uri, auth=auth) as driver:
        lineage("stats", "none")  # opens the store: the schema is there before the floor
        for size in [int(s) for s in args.sizes.split(",")]:
            path = workdir / f"lineage-{size}.jsonl"
            write_lineage(path, size)
            empty_videos(driver, database)
            with driver.session(database=database) as session:
                floor = neo4j_create_rate(session, size)
            empty_videos(driver, database)
            with driver.session(database=database) as session:
                schema_floor = schema_create_rate(session, size)
            for pipeline in [False, True] if args.compare else [True]:
                empty_videos(driver, database)
                load = load_average()
                elapsed, cpu, peak, result = lineage("import", str(path), pipeline=pipeline)
                if result.returncode:
                    sys.exit(f"import failed: {result.stdout}\n{result.stderr[-3000:]}")
                rate = size / elapsed
                how = "pipelined parts" if pipeline else "parts one after another"
                print(
                    f"one lineage of {size:,} videos, {how}: import {elapsed:,.1f} s = "
                    f"{rate:,.0f} videos/s (process CPU {cpu:,.1f} s, peak RSS {peak:,.0f} MiB); "
                    f"floor UNWIND CREATE {floor:,.0f} videos/s; import/floor {rate / floor:.0%}; "
                    f"schema floor {schema_floor:,.0f} videos/s, import/schema floor "
                    f"{rate / schema_floor:.0%}; load average {load} before, "
                    f"{load_average()} after",
                    flush=True,
                )
                if not args.no_check:
                    elapsed, _, _, checked = lineage("check")
                    print(
                        f"  lineage check: exit {checked.returncode} in {elapsed:,.1f} s "
                        f"{checked.stdout.strip()[-300:]}",
                        flush=True,
                    )
                    if checked.returncode:
                        sys.exit(1)
            path.unlink()


if __name__ == "__main__":
    main()
