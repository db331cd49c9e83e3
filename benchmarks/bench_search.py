#!/usr/bin/env python3
"""Benchmark of search (issue 28) on a 1,000,000-video store, SQLite and Neo4j. Prints figures.

For each store, in one run:

1. the bulk import of a shuffled synthetic forest (``lineage.demo.synthetic``,
   seed 11, as ``bench_core.py``) through ``lineage import``, first with the
   code of ``--before`` (the last commit without search, unpacked from git
   into the work directory) and then with this checkout's: videos/s of each
   and their ratio (floor: at least 85%);
2. the index's size: SQLite, what the search tables and indexes take (the
   ``dbstat`` table) and the file's growth; Neo4j, the files of the text
   index and of the ranking index (``--neo4j-home``);
3. the first page (20) of a rare term (about 10 matches: one creator) and of
   a frequent one (about 100,000: a word of the prompts), next to
   ``video(id)`` of random videos in the same run, each executed in this
   process through the GraphQL schema (``schema.execute`` with a real
   context, no HTTP) and through the store (``search`` and ``get_video``):
   medians, and the ratio of the GraphQL ones (floor: at most 20x); then the
   exact ``totalCount`` of each term, and the frequent term's first page by
   the other orders (for the record: only DERIVATIVES is walked).

Usage: benchmarks/bench_search.py [--videos N] [--stores sqlite,neo4j] [--before REV]
       [--workdir DIR] [--samples N] [--neo4j-home DIR] [--compare-imports sqlite,neo4j]
       [--order AB|BAAB]
Neo4j needs NEO4J_* in the environment (``eval "$(scripts/neo4j-local start)"``);
its database is emptied, and its constraints and indexes dropped before each
import so that each version's schema is the only one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lineage.demo.synthetic import synthetic_forest  # noqa: E402
from lineage.search import search  # noqa: E402
from lineage.store import LineageStore, VideoOrder  # noqa: E402

# The last commit before search: its import is the "before".
BEFORE = "69932e8"
PAGE = """query($t: String!) { search(text: $t, first: 20) {
  pageInfo { hasNextPage endCursor } edges { node { id title derivativeCount } } } }"""
TOTAL = "query($t: String!) { search(text: $t, first: 20) { totalCount } }"
VIDEO = "query($id: ID!) { video(id: $id) { id title derivativeCount } }"
FLOOR_RATIO = 20.0
FLOOR_IMPORT = 0.85


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


# -- the forest and its terms ------------------------------------------------------
def write_forest(path: Path, size: int) -> list[dict[str, Any]]:
    records = list(synthetic_forest(size, seed=11))
    shuffled = list(records)
    random.Random(11).shuffle(shuffled)
    with path.open("w", encoding="utf-8") as out:
        for record in shuffled:
            out.write(json.dumps(record, ensure_ascii=False))
            out.write("\n")
    return records


def pick_terms(records: list[dict[str, Any]], rare: int, frequent: int) -> dict[str, int]:
    """A creator held by about ``rare`` videos and a prompt word by about
    ``frequent``, with their exact counts (brute force over every text)."""
    texts = [
        normalise("\n".join([r["prompt"], r.get("title") or "", r.get("creator") or ""]))
        for r in records
    ]

    def count(term: str) -> int:
        return sum(term in text for text in texts)

    creators = Counter(r["creator"] for r in records if len(r.get("creator") or "") == 10)
    near = sorted(creators, key=lambda c: (abs(creators[c] - rare), c))[:20]
    rare_term = min(near, key=lambda c: (abs(count(normalise(c)) - rare), c))
    words = Counter(
        word for r in records[:: max(1, len(records) // 50_000)] for word in r["prompt"].split()
    )
    candidates = [w for w, _ in words.most_common(60) if len(w) >= 3]
    counted = {w: count(normalise(w)) for w in candidates}
    frequent_term = min(counted, key=lambda w: (abs(counted[w] - frequent), w))
    return {
        normalise(rare_term): count(normalise(rare_term)),
        frequent_term: counted[frequent_term],
    }


# -- imports -------------------------------------------------------------------------------
def unpack(revision: str, workdir: Path) -> Path:
    target = workdir / f"before-{revision}"
    if not (target / "lineage").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", revision], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def timed_import(code: Path, source: Path, env: dict[str, str], db: Path | None) -> float:
    command = [sys.executable, "-m", "lineage.cli.main", "import", str(source)]
    if db is not None:
        command += ["--db", str(db)]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=code, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"import failed ({code}): {done.stdout}\n{done.stderr[-3000:]}")
    return elapsed


def compare_imports(
    label: str, size: int, run: Callable[[Path], float], before: Path | None, order: str = "AB"
) -> dict[str, float]:
    """Time the import of ``before``'s code (A) and this checkout's (B) in ``order``
    (``BAAB`` spreads a drift of the machine or the server over both); the ratio is of
    the mean times."""
    if before is None:  # this checkout's import only (no ratio)
        print(f"[{label}] bulk import of {size:,} videos, this checkout only; {load()}")
        new = run(ROOT)
        print(f"  after:  {new:.1f} s, {size / new:,.0f} videos/s; {load()}")
        return {"after_s": new}
    print(
        f"[{label}] bulk import of {size:,} videos, {before.name} (A) and this checkout (B), "
        f"order {order}; {load()}"
    )
    times: dict[str, list[float]] = {"A": [], "B": []}
    for letter in order:
        elapsed = run(before if letter == "A" else ROOT)
        times[letter].append(elapsed)
        name = "before" if letter == "A" else "after: "
        print(f"  {name} {elapsed:.1f} s, {size / elapsed:,.0f} videos/s; {load()}")
    old, new = statistics.mean(times["A"]), statistics.mean(times["B"])
    ratio = old / new
    verdict = "met" if ratio >= FLOOR_IMPORT else "NOT met"
    print(
        f"  after / before (mean times {old:.1f} and {new:.1f} s): {ratio:.1%} of the speed "
        f"(floor >= {FLOOR_IMPORT:.0%}: {verdict})"
    )
    return {"before_s": old, "after_s": new, "import_ratio": ratio}


# -- latencies --------------------------------------------------------------------------
def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def latencies(
    label: str, store: LineageStore, terms: dict[str, int], ids: list[str], samples: int
) -> dict[str, float]:
    from api.core.config import ApiSettings
    from api.graphql.context import LineageContext
    from api.graphql.schema import build_schema

    settings = ApiSettings()
    schema = build_schema(settings)
    figures: dict[str, float] = {}

    async def graphql(query: str, variables: dict[str, Any]) -> float:
        started = time.perf_counter()
        result = await schema.execute(
            query, variable_values=variables, context_value=LineageContext(store, settings)
        )
        elapsed = time.perf_counter() - started
        if result.errors:
            sys.exit(f"query failed: {result.errors}")
        return elapsed

    async def series(query: str, variables: Callable[[int], dict[str, Any]]) -> list[float]:
        for number in range(10):  # warm-up
            await graphql(query, variables(number))
        return [await graphql(query, variables(n)) for n in range(samples)]

    def store_series(call: Callable[[int], object]) -> list[float]:
        for number in range(10):
            call(number)
        out = []
        for number in range(samples):
            started = time.perf_counter()
            call(number)
            out.append(time.perf_counter() - started)
        return out

    async def run() -> None:
        print(f"[{label}] latencies, medians of {samples}; {load()}")
        lookup = await series(VIDEO, lambda n: {"id": ids[n % len(ids)]})
        figures["video_ms"] = median_ms(lookup)
        get = store_series(lambda n: store.get_video(ids[n % len(ids)]))
        figures["get_video_ms"] = median_ms(get)
        print(
            f"  video(id), GraphQL in process: {figures['video_ms']:.2f} ms; "
            f"store.get_video: {figures['get_video_ms']:.3f} ms"
        )
        for kind, term in zip(("rare", "frequent"), terms, strict=True):
            page = await series(PAGE, lambda n, t=term: {"t": t})
            direct = store_series(lambda n, t=term: search(store, t, first=20))
            plan = search(store, term, first=20).plan
            figures[f"{kind}_ms"] = median_ms(page)
            figures[f"{kind}_ratio"] = figures[f"{kind}_ms"] / figures["video_ms"]
            verdict = "met" if figures[f"{kind}_ratio"] <= FLOOR_RATIO else "NOT met"
            print(
                f"  {kind} term {term!r} ({terms[term]:,} matches), first page: "
                f"GraphQL {figures[f'{kind}_ms']:.2f} ms = {figures[f'{kind}_ratio']:.1f}x "
                f"video(id) (floor <= {FLOOR_RATIO:.0f}x: {verdict}); store "
                f"{median_ms(direct):.3f} ms = {median_ms(direct) / figures['get_video_ms']:.1f}x "
                f"get_video; plan {plan.strategy.value if plan else None}"
            )
            total = await series(TOTAL, lambda n, t=term: {"t": t})
            figures[f"{kind}_total_ms"] = median_ms(total)
            print(f"    with totalCount: {median_ms(total):.2f} ms (counts every match)")
        frequent = list(terms)[1]
        for order in (VideoOrder.NEWEST, VideoOrder.LIKES):
            others = store_series(lambda n, o=order: search(store, frequent, first=20, order=o))
            print(f"  frequent term by {order.value}: store {median_ms(others):.1f} ms (no walk)")
        print(f"  {load()}")

    asyncio.run(run())
    reads: Any = getattr(store, "async_reads", None)
    if reads is not None:
        reads.close()
    return figures


# -- SQLite ------------------------------------------------------------------------------------
def sqlite_sizes(path: Path) -> dict[str, int]:
    import sqlite3

    connection = sqlite3.connect(path)
    try:
        rows = connection.execute(
            "SELECT name, sum(pgsize) FROM dbstat WHERE name LIKE 'search%' "
            "OR name IN ('videos_by_prompt_text', 'videos_by_title_text', "
            "'videos_by_creator_text', 'videos_by_derivatives', 'videos_ranked_by_derivatives') "
            "GROUP BY name"
        ).fetchall()
    except sqlite3.OperationalError:  # no dbstat in this build
        rows = []
    connection.close()
    return {name: int(size) for name, size in rows}


def bench_sqlite(
    args: argparse.Namespace, source: Path, before: Path, terms: dict[str, int]
) -> None:
    from lineage.stores.sqlite import SQLiteStore

    env = {**os.environ, "LINEAGE_STORE": "sqlite"}
    dbs = {before: args.workdir / "before.db", ROOT: args.workdir / "after.db"}

    def run(code: Path) -> float:
        for leftover in args.workdir.glob(f"{dbs[code].name}*"):
            leftover.unlink()
        return timed_import(code, source, env, dbs[code])

    compared = "sqlite" in args.compare_imports.split(",")
    compare_imports("sqlite", args.videos, run, before if compared else None, args.order)
    new_size = dbs[ROOT].stat().st_size
    old_size = dbs[before].stat().st_size if compared else new_size
    sizes = sqlite_sizes(dbs[ROOT])
    print(
        f"  file: {old_size / 2**20:,.0f} MiB before, {new_size / 2**20:,.0f} MiB after "
        f"(+{(new_size - old_size) / 2**20:,.0f} MiB)"
    )
    if sizes:
        total = sum(sizes.values())
        parts = ", ".join(f"{name} {size / 2**20:.1f}" for name, size in sorted(sizes.items()))
        print(f"  search's tables and indexes: {total / 2**20:,.1f} MiB ({parts} MiB)")
    store = SQLiteStore(dbs[ROOT])
    ids = [video.id for video in store.iter_videos()][:: max(1, args.videos // 5000)]
    random.Random(3).shuffle(ids)
    latencies("sqlite", store, terms, ids, args.samples)
    store.close()


# -- Neo4j -------------------------------------------------------------------------------------
def neo4j_reset() -> None:
    import neo4j

    uri, auth = os.environ["NEO4J_URI"], (os.environ["NEO4J_USER"], os.environ["NEO4J_PASSWORD"])
    database = os.environ.get("NEO4J_DATABASE", "neo4j")
    with neo4j.GraphDatabase.driver(uri, auth=auth) as driver:
        with driver.session(database=database) as session:  # auto-commit: IN TRANSACTIONS
            session.run(
                "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
            ).consume()
        names, _, _ = driver.execute_query("SHOW CONSTRAINTS YIELD name", database_=database)
        for record in names:
            driver.execute_query(f"DROP CONSTRAINT `{record['name']}`", database_=database)
        names, _, _ = driver.execute_query(
            "SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP'", database_=database
        )
        for record in names:
            driver.execute_query(f"DROP INDEX `{record['name']}`", database_=database)


def neo4j_sizes(home: Path | None) -> dict[str, int]:
    import neo4j

    uri, auth = os.environ["NEO4J_URI"], (os.environ["NEO4J_USER"], os.environ["NEO4J_PASSWORD"])
    database = os.environ.get("NEO4J_DATABASE", "neo4j")
    with neo4j.GraphDatabase.driver(uri, auth=auth) as driver:
        rows, _, _ = driver.execute_query(
            "SHOW INDEXES YIELD id, name, indexProvider WHERE name IN "
            "['video_search_text', 'video_rank_derivatives'] RETURN id, name, indexProvider",
            database_=database,
        )
    if home is None:
        return {}
    base = home / "data" / "databases" / database / "schema" / "index"
    sizes = {}
    for row in rows:
        folder = base / row["indexProvider"] / str(row["id"])
        sizes[row["name"]] = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return sizes


def bench_neo4j(
    args: argparse.Namespace, source: Path, before: Path, terms: dict[str, int]
) -> None:
    from lineage.stores.neo4j import Neo4jStore

    env = {**os.environ, "LINEAGE_STORE": "neo4j"}

    def run(code: Path) -> float:
        neo4j_reset()
        return timed_import(code, source, env, None)

    compared = "neo4j" in args.compare_imports.split(",")
    compare_imports("neo4j", args.videos, run, before if compared else None, args.order)
    sizes = neo4j_sizes(args.neo4j_home)
    for name, size in sizes.items():
        print(f"  index {name}: {size / 2**20:,.1f} MiB on disk (files as the server left them)")
    store = Neo4jStore(
        os.environ["NEO4J_URI"],
        os.environ["NEO4J_USER"],
        os.environ["NEO4J_PASSWORD"],
        os.environ.get("NEO4J_DATABASE", "neo4j"),
    )
    ids = [f"s11-{n:06d}" for n in random.Random(3).sample(range(args.videos), 5000)]
    latencies("neo4j", store, terms, ids, args.samples)
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--videos", type=int, default=1_000_000)
    parser.add_argument("--stores", default="sqlite,neo4j")
    parser.add_argument("--before", default=BEFORE, help="the revision without search")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument(
        "--compare-imports",
        default="sqlite,neo4j",
        help="stores whose import runs before and after (elsewhere: this checkout's only)",
    )
    parser.add_argument(
        "--order",
        default="AB",
        help="the imports' order, A the code before search and B this checkout's "
        "(BAAB); it ends with B, whose store the latencies read",
    )
    default_home = os.environ.get("LINEAGE_NEO4J_INSTANCE")
    parser.add_argument(
        "--neo4j-home",
        type=Path,
        default=Path(default_home) if default_home else None,
        help="the Neo4j instance directory, for index sizes (LINEAGE_NEO4J_INSTANCE)",
    )
    args = parser.parse_args()
    if set(args.order) - {"A", "B"} or not args.order.endswith("B") or "A" not in args.order:
        parser.error("--order: A and B only, with an A, ending with B (say AB or BAAB)")
    args.workdir = args.workdir or Path(tempfile.mkdtemp(prefix="lineage-search-bench-"))
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, Python "
        f"{sys.version.split()[0]}, {load()}, workdir {args.workdir}"
    )
    source = args.workdir / f"forest-{args.videos}.jsonl"
    records = write_forest(source, args.videos)
    terms = pick_terms(records, rare=10, frequent=args.videos // 10)
    del records
    print("terms: " + ", ".join(f"{t!r} ({n:,} matches)" for t, n in terms.items()))
    before = unpack(args.before, args.workdir)
    stores = args.stores.split(",")
    if "sqlite" in stores:
        bench_sqlite(args, source, before, terms)
    if "neo4j" in stores:
        bench_neo4j(args, source, before, terms)


if __name__ == "__main__":
    main()
