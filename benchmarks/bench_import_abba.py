#!/usr/bin/env python3
"""Bulk import speed of two revisions, in ABBA order. Prints one line a run.

Imports the synthetic forest (``bench_core.write_forest``: shuffled JSONL,
default 1,000,000 videos, seed 11) with ``lineage import`` into a new SQLite
file, once per letter of ``--order``: A is ``--before`` (default 4fb79e1, the
code before the aggregates over time), B the working tree. Before each run the
last run's files are removed, ``sync`` writes the page cache back and the
machine rests 5 s: a run straight after another one otherwise also pays for
writing back the last run's gigabyte of files, which biases a fixed order.
Each run is pinned to one core when ``taskset`` exists.

Usage: benchmarks/bench_import_abba.py [--before REV] [--videos N] [--order ABBA]
Target (issue 12): B at or above A's speed (user CPU and wall clock).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_core import write_forest  # noqa: E402

IMPORT = "import sys; sys.argv = ['lineage', 'import', sys.argv[1]]; " + (
    "from lineage.cli.main import main; sys.exit(main())"
)


def run_import(code: Path, forest: Path, database: Path) -> tuple[float, float, float, int]:
    """Wall, user and system seconds and peak memory (KiB) of one import."""
    for stale in database.parent.glob(database.name + "*"):
        stale.unlink()
    subprocess.run(["sync"], check=True)
    time.sleep(5)
    pin = ["taskset", "-c", "1"] if shutil.which("taskset") and os.cpu_count() != 1 else []
    env = {**os.environ, "PYTHONPATH": str(code), "LINEAGE_STORE": "sqlite"}
    env["LINEAGE_DB"] = str(database)
    started = time.perf_counter()
    child = subprocess.Popen(
        [*pin, sys.executable, "-c", IMPORT, str(forest)],
        cwd=code,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    exit_code = os.waitstatus_to_exitcode(status)
    if exit_code:
        raise SystemExit(f"lineage import failed in {code} (exit {exit_code})")
    return wall, usage.ru_utime, usage.ru_stime, usage.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="4fb79e1", help="revision A (default 4fb79e1)")
    parser.add_argument("--videos", type=int, default=1_000_000)
    parser.add_argument("--order", default="ABBA", help="letters A and B (default ABBA)")
    args = parser.parse_args()
    if set(args.order) - {"A", "B"}:
        parser.error("--order takes the letters A and B only")

    with tempfile.TemporaryDirectory(prefix="bench-abba-") as scratch:
        work = Path(scratch)
        forest = work / f"forest-{args.videos}.jsonl"
        print(f"writing the {args.videos:,}-video forest ...", flush=True)
        write_forest(forest, args.videos, seed=11)
        before = work / "before"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(before), args.before],
            check=True,
        )
        try:
            codes = {"A": before, "B": ROOT}
            users: dict[str, list[float]] = {"A": [], "B": []}
            walls: dict[str, list[float]] = {"A": [], "B": []}
            for letter in args.order:
                wall, user, system, peak = run_import(codes[letter], forest, work / "runs.db")
                users[letter].append(user)
                walls[letter].append(wall)
                print(
                    f"{letter} ({args.before if letter == 'A' else 'working tree'}): "
                    f"wall {wall:.1f} s, user {user:.1f} s, system {system:.1f} s, "
                    f"peak {peak / 1024:,.0f} MiB",
                    flush=True,
                )
            if users["A"] and users["B"]:
                for name, runs in (("wall clock", walls), ("user CPU", users)):
                    mean_a = sum(runs["A"]) / len(runs["A"])
                    mean_b = sum(runs["B"]) / len(runs["B"])
                    print(
                        f"{name}, mean: A {mean_a:.1f} s, B {mean_b:.1f} s "
                        f"({(mean_b / mean_a - 1) * 100:+.1f}% for B)"
                    )
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)],
                check=False,
            )


if __name__ == "__main__":
    main()
