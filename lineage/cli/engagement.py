"""``lineage engagement FILE...``: likes/views deltas from JSONL, in batches.

Each line is ``{"video_id": ..., "likes": ..., "views": ...}`` (deltas; a
missing counter is 0). Events are applied in batches of 1,000, each batch
one transaction with its subtree totals, so a file of any size streams
through in bounded memory. A batch that names an unknown video or would
take a total below zero is refused whole: what came before it stays
applied, nothing after it is written, and the command says which lines.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path

from lineage.errors import LineageError
from lineage.over_time.engagement import MAX_EVENTS_PER_CALL, EngagementEvent, iter_engagement_jsonl
from lineage.store import LineageStore

__all__ = ["add_engagement_command"]

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


def _events(paths: list[str]) -> Iterator[tuple[str, EngagementEvent]]:
    for path in paths:
        if path == "-":
            yield from (("-", event) for event in iter_engagement_jsonl(sys.stdin.buffer, "-"))
            continue
        with Path(path).open("rb") as stream:
            yield from ((path, event) for event in iter_engagement_jsonl(stream, path))


def run_engagement(store: LineageStore, paths: list[str], batch_size: int) -> int:
    """Apply the files' events in batches; print the outcome; the exit code."""
    applied = 0
    events = _events(paths)
    try:
        while batch := list(islice(events, batch_size)):
            try:
                applied += store.record_engagement([event for _, event in batch])
            except LineageError as error:
                print(
                    f"lineage engagement: a batch of {len(batch):,} events after the first "
                    f"{applied:,} was refused, it and the rest were not applied: "
                    f"{error.message}",
                    file=sys.stderr,
                )
                print(f"applied {applied:,} events")
                return EXIT_REFUSED
    except LineageError as error:  # an unreadable line: the batches before it stay applied
        print(f"lineage engagement: {error.message}", file=sys.stderr)
        print(f"applied {applied:,} events")
        return EXIT_REFUSED
    print(f"applied {applied:,} events")
    return EXIT_OK


def add_engagement_command(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    common: argparse.ArgumentParser,
    open_store: Callable[[argparse.Namespace], LineageStore],
) -> None:
    """Register ``lineage engagement`` on the CLI's subcommands."""

    def handler(args: argparse.Namespace) -> int:
        for path in args.files:
            if path != "-" and not Path(path).is_file():
                print(f"lineage engagement: no such file: {path}", file=sys.stderr)
                return EXIT_USAGE
        store = open_store(args)
        try:
            return run_engagement(store, args.files, MAX_EVENTS_PER_CALL)
        finally:
            store.close()

    command = commands.add_parser(
        "engagement",
        parents=[common],
        help='apply likes/views deltas from JSONL {"video_id", "likes", "views"}',
    )
    command.add_argument("files", nargs="+", metavar="FILE")
    command.set_defaults(handler=handler)
