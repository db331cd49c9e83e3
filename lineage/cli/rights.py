"""``lineage takedown``, ``lineage restore`` and ``lineage provenance``.

The commands are added to the main parser by :func:`add_rights_commands`.
The command line is the operator's: takedowns made here are logged with the
actor ``cli`` (or ``LINEAGE_ACTOR`` when set).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

from lineage.models import VideoRecord
from lineage.rights import policy as rights
from lineage.store import LineageStore
from lineage.text import plural
from lineage.tree.descendants import descendant_page

__all__ = ["add_rights_commands"]

StoreOpener = Callable[[argparse.Namespace], LineageStore]


def _actor() -> str:
    return os.environ.get("LINEAGE_ACTOR") or "cli"


# Derivatives a takedown names as examples of its blast radius.
_BLAST_EXAMPLES = 5


def _blast_radius(store: LineageStore, video: VideoRecord) -> list[str]:
    """The takedown's blast radius: its descendants' totalCount and the first few of them."""
    lines = [
        f"  blast radius: {plural(video.derivative_count, 'derivative')} "
        f"{'descends' if video.derivative_count == 1 else 'descend'} from it "
        "(Video.descendants totalCount)"
    ]
    first = descendant_page(store, video.id, _BLAST_EXAMPLES)
    if first:
        more = ", ..." if video.derivative_count > len(first) else ""
        named = ", ".join(f"{d.id} (generation {d.generation})" for d in first)
        lines.append(f"  first affected, breadth first: {named}{more}")
    return lines


def _summary(
    store: LineageStore, video_id: str, change: rights.RightsChange, *, blast: bool = False
) -> str:
    video = store.get_video(video_id)
    held = store.video_rights([video_id]).get(video_id, rights.DEFAULT_RIGHTS)
    assert video is not None
    verb = "now" if change.changed else "already"
    lines = [f"{video_id}: {verb} {change.status}"]
    if held.is_removed:
        lines.append(f"  reason: {held.removed_reason}")
        if held.removed_at is not None:
            lines.append(f"  removed at: {held.removed_at.isoformat()} by {held.removed_by}")
    lines.append(
        f"  derivatives below it (they stay, as does the video's place in the tree): "
        f"{video.derivative_count}, of which removed: {held.removed_derivative_count}"
    )
    if blast:
        lines += _blast_radius(store, video)
    return "\n".join(lines)


def _takedown(open_store: StoreOpener) -> Callable[[argparse.Namespace], int]:
    def command(args: argparse.Namespace) -> int:
        store = open_store(args)
        try:
            change = rights.takedown(store, args.id, args.reason, _actor())
            print(_summary(store, args.id, change, blast=True))
        finally:
            store.close()
        return 0

    return command


def _restore(open_store: StoreOpener) -> Callable[[argparse.Namespace], int]:
    def command(args: argparse.Namespace) -> int:
        store = open_store(args)
        try:
            change = rights.restore(store, args.id, _actor())
            print(_summary(store, args.id, change))
        finally:
            store.close()
        return 0

    return command


def _provenance(open_store: StoreOpener) -> Callable[[argparse.Namespace], int]:
    def command(args: argparse.Namespace) -> int:
        from lineage.rights.provenance import provenance_command

        return provenance_command(args.file, check=args.check, open_store=lambda: open_store(args))

    return command


def add_rights_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
    open_store: StoreOpener,
) -> None:
    """Add the rights commands to the ``lineage`` parser."""
    takedown = commands.add_parser(
        "takedown",
        parents=[common],
        help="mark a video REMOVED (its node and edges stay; idempotent)",
    )
    takedown.add_argument("id", metavar="ID")
    takedown.add_argument("--reason", required=True, metavar="TEXT", help="why it comes down")
    takedown.set_defaults(handler=_takedown(open_store))

    restore = commands.add_parser(
        "restore", parents=[common], help="make a removed video ACTIVE again (idempotent)"
    )
    restore.add_argument("id", metavar="ID")
    restore.set_defaults(handler=_restore(open_store))

    provenance = commands.add_parser(
        "provenance",
        parents=[common],
        help="read the C2PA manifest store of an image or video file",
    )
    provenance.add_argument("file", metavar="FILE")
    provenance.add_argument(
        "--check",
        action="store_true",
        help="check the file's parentOf ingredient against the stored video's parent "
        "(exit 0 consistent, 1 not, 2 no manifest or unknown video)",
    )
    provenance.set_defaults(handler=_provenance(open_store))
