#!/usr/bin/env python3
"""The best hit rate any exact response cache could reach on load.py's popularity mix.

Replays load.py's ``--popularity zipf`` workload offline, in process, on the
demo tree in SQLite: the same 3,000 videos ranked as load.py ranks them, the
same per-client random draws (client ``n`` draws from ``random.Random(n)``:
10% remixes of a Zipf-drawn parent, 90% one of the four ``MIX_READS`` of a
Zipf-drawn video), every write applied to the store as the API applies it,
every read executed by the project's schema with no cache. For each read it
tells three things:

* **oracle**: a hit if the previous answer to the same request in the same
  cache is byte-equal to this one. The mix's only writes are remixes, under
  which every count only grows, so an equal answer means no write since
  changed a value it contains: this is what perfect per-field dependency
  tracking could serve.
* **versions**: a hit if the versions of the videos and trees the run noted
  (the GraphQL context's dependencies, as the response cache keeps them) are
  unchanged since the cached run: what the service's rule gives.
* both again with a least-recently-used bound per cache (``--entries``, by
  default the service's ``LINEAGE_API_RESPONSE_CACHE_ENTRIES``).

Assumptions: the clients' requests interleave round-robin (one request of
each client in turn); each request lands on one of ``--workers`` caches at
random (each worker has its own cache); the stale probe (load.py's client
0) is left out; an answer is cached on its first run (the service caches a
first run on SQLite when nothing was written while it ran).

Usage: benchmarks/oracle_hits.py [--requests 20000] [--workers 2] [--entries N]
(about a minute per 10,000 requests)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, OrderedDict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from load import MIX_READS, READS, zipf_weights  # noqa: E402

__all__ = ["replay"]


def demo_store(workdir: Path) -> Any:
    """The demo tree in a fresh SQLite file, opened."""
    from lineage.stores.sqlite import SQLiteStore

    database = workdir / "demo.db"
    env = {**os.environ, "LINEAGE_DB": str(database), "LINEAGE_STORE": "sqlite"}
    subprocess.run([sys.executable, "-m", "lineage", "demo"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    return SQLiteStore(database)


def popular(store: Any, count: int) -> list[str]:
    """load.py's ``popular_ids``: grandma, her remixes by derivatives, breadth first."""
    from lineage.store import VideoOrder

    ranked, level = ["grandma"], ["grandma"]
    while level and len(ranked) < count:
        below = [
            record.id
            for parent in level
            for record in store.children(parent, VideoOrder.DERIVATIVES, 100)
        ]
        ranked += below
        level = below
    return ranked[:count]


def requests(ids: list[str], total: int, clients: int = 32) -> list[tuple[str, str]]:
    """load.py's draws of clients 1 to ``clients - 1``, round-robin: (operation, video)."""
    weights = zipf_weights(len(ids))
    reads = sorted(MIX_READS)
    rngs = [random.Random(number) for number in range(1, clients)]
    drawn: list[tuple[str, str]] = []
    while len(drawn) < total:
        for rng in rngs:
            if rng.random() < 0.10:
                drawn.append(("remix", rng.choices(ids, cum_weights=weights)[0]))
            else:
                name = rng.choice(reads)
                drawn.append((name, rng.choices(ids, cum_weights=weights)[0]))
    return drawn[:total]


class _Cache:
    """One worker's cache as the replay models it: per key, the last answer and the
    versions its run noted, least recently used first."""

    def __init__(self, entries: int | None) -> None:
        self.entries = entries
        self.held: OrderedDict[tuple[str, str], tuple[str, Any]] = OrderedDict()

    def get(self, key: tuple[str, str]) -> tuple[str, Any] | None:
        found = self.held.get(key)
        if found is not None:
            self.held.move_to_end(key)
        return found

    def put(self, key: tuple[str, str], value: tuple[str, Any]) -> None:
        self.held[key] = value
        self.held.move_to_end(key)
        if self.entries is not None and len(self.held) > self.entries:
            self.held.popitem(last=False)


def replay(
    store: Any, drawn: list[tuple[str, str]], workers: int, entries: int
) -> dict[str, Counter[str]]:
    """Run ``drawn`` against ``store``; per operation, counts of reads and of hits
    under each rule (``oracle``, ``versions``, and both with the LRU bound)."""
    from api.core.config import ApiSettings
    from api.graphql.context import LineageContext
    from api.graphql.schema import build_schema
    from lineage.importing.records import SourcedRecord

    settings = ApiSettings(response_cache_entries=0)
    schema = build_schema(settings)
    loop = asyncio.new_event_loop()
    chance = random.Random(1)
    rules = ("oracle", "versions", "oracle, LRU", "versions, LRU")
    caches = [{rule: _Cache(entries if "LRU" in rule else None) for rule in rules}
              for _ in range(workers)]  # fmt: skip
    counts: dict[str, Counter[str]] = {}
    for number, (name, video_id) in enumerate(drawn):
        tally = counts.setdefault(name, Counter())
        tally["requests"] += 1
        if name == "remix":
            record = {"id": f"oracle-{number}", "parent_id": video_id,
                      "prompt": f"A grandmother chases a load-test robot {number}"}  # fmt: skip
            report = store.import_videos([SourcedRecord(record, "remixVideo", 0)], atomic=True)
            if report.rejected:
                sys.exit(f"the remix was refused: {report.rejected[0]}")
            continue
        context = LineageContext(store, settings)
        result = loop.run_until_complete(
            schema.execute(READS[name], variable_values={"id": video_id}, context_value=context)
        )
        if result.errors:
            sys.exit(f"{name} failed: {result.errors}")
        answer = json.dumps(result.data, sort_keys=True)
        videos, trees = sorted(context.videos_read), sorted(context.trees)
        found = store.video_versions(videos, trees)
        versions = (videos, trees, [found[0].get(v) for v in videos],
                    [found[1].get(t) for t in trees])  # fmt: skip
        cache = caches[chance.randrange(workers)]
        key = (name, video_id)
        for rule in rules:
            held = cache[rule].get(key)
            if held is not None:
                if rule.startswith("oracle"):
                    tally[rule] += held[0] == answer
                else:
                    tally[rule] += held[1] == versions
            cache[rule].put(key, (answer, versions))
        tally["noted videos"] += len(videos)
    loop.close()
    return counts


def _default_entries() -> int:
    """The service's own bound (LINEAGE_API_RESPONSE_CACHE_ENTRIES)."""
    from api.core.config import ApiSettings

    return ApiSettings().response_cache_entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--videos", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2, help="caches (one per worker)")
    parser.add_argument(
        "--entries", type=int, default=_default_entries(), help="LRU bound per cache"
    )
    parser.add_argument("--json", type=Path, help="write the hit rates there too")
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()}", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as name:
        store = demo_store(Path(name))
        ids = popular(store, args.videos)
        drawn = requests(ids, args.requests)
        counts = replay(store, drawn, args.workers, args.entries)
        store.close()
    rules = ("oracle", "versions", "oracle, LRU", "versions, LRU")
    print(f"{args.requests} requests, {len(ids)} videos, {args.workers} caches, "
          f"LRU {args.entries} entries each")  # fmt: skip
    print(f"{'operation':<10} {'reads':>7} " + " ".join(f"{rule:>14}" for rule in rules)
          + f" {'noted/read':>10}")  # fmt: skip
    total: Counter[str] = Counter()
    for op in sorted(MIX_READS):
        tally = counts.get(op, Counter())
        total.update(tally)
        shares = " ".join(f"{tally[rule] / max(tally['requests'], 1):>14.1%}" for rule in rules)
        noted = tally["noted videos"] / max(tally["requests"], 1)
        print(f"{op:<10} {tally['requests']:>7} {shares} {noted:>10.1f}")
    shares = " ".join(f"{total[rule] / max(total['requests'], 1):>14.1%}" for rule in rules)
    print(f"{'all reads':<10} {total['requests']:>7} {shares}")
    print(f"remixes: {counts.get('remix', Counter())['requests']}")
    if args.json is not None:
        figures = {rule: total[rule] / max(total["requests"], 1) for rule in rules}
        for op in MIX_READS:
            tally = counts.get(op, Counter())
            for rule in rules:
                figures[f"{op}: {rule}"] = tally[rule] / max(tally["requests"], 1)
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
