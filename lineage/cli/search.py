"""``lineage search TEXT [--within ID] [--limit N] [--json]``: find videos by their words.

The contract's "Search" (:func:`lineage.search.search`): every term of TEXT
must occur in a video's prompt, title or creator (NFKC-normalised and
case-folded); ranked by derivatives, ties by id. By default a table, its
columns aligned by display width (a CJK character takes two columns), then
the number of matches; with ``--json`` one object ``{"total": N, "videos":
[{"id", "title", "derivative_count", "generation", "original_id"}]}``, videos
in rank order. The command line is the operator's: it sees removed videos'
text too, as it does everywhere (:mod:`lineage.rights.visibility`).
"""

from __future__ import annotations

import argparse
import json
import unicodedata
from collections.abc import Callable, Sequence

from lineage.access.tokens import Role
from lineage.models import VideoRecord
from lineage.search import search
from lineage.store import LineageStore
from lineage.tree.queries import check_page_size

__all__ = ["add_search_command", "display_width", "format_table"]

EXIT_OK = 0
# Titles longer than this are cut in the table (the JSON has them whole).
_TITLE_COLUMNS = 40


def _char_width(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide and full-width characters take two.

    Examples
    --------
    >>> display_width("hippo"), display_width("河马"), display_width("ｆｕｌｌ")
    (5, 4, 8)
    >>> display_width("cafe\\u0301")
    4
    """
    return sum(_char_width(char) for char in text)


def _clip(text: str, columns: int) -> str:
    """``text`` cut to at most ``columns`` columns (an ellipsis marks the cut)."""
    if display_width(text) <= columns:
        return text
    kept, used = [], 0
    for char in text:
        width = _char_width(char)
        if used + width > columns - 1:
            break
        kept.append(char)
        used += width
    return "".join(kept) + "…"


def _pad(text: str, columns: int, *, right: bool = False) -> str:
    fill = " " * max(0, columns - display_width(text))
    return fill + text if right else text + fill


def _one_line(text: str) -> str:
    return " ".join(text.split())


def format_table(videos: Sequence[VideoRecord], total: int) -> str:
    """The matches as an aligned table, then how many there are in all."""
    header = ("id", "title", "derivatives", "generation", "original")
    rows = [
        (
            video.id,
            _clip(_one_line(video.title or ""), _TITLE_COLUMNS),
            f"{video.derivative_count:,}",
            str(video.generation),
            video.original_id,
        )
        for video in videos
    ]
    widths = [max(display_width(row[i]) for row in [header, *rows]) for i in range(len(header))]
    numeric = (False, False, True, True, False)
    lines = [
        "  ".join(_pad(cell, widths[i], right=numeric[i]) for i, cell in enumerate(row)).rstrip()
        for row in [header, *rows]
    ]
    shown = f"{len(videos):,} shown" if len(videos) < total else "all shown"
    noun = "match" if total == 1 else "matches"
    lines.append(f"{total:,} {noun} ({shown})" if total else "no match")
    return "\n".join(lines)


def as_json(videos: Sequence[VideoRecord], total: int) -> str:
    return json.dumps(
        {
            "total": total,
            "videos": [
                {
                    "id": video.id,
                    "title": video.title,
                    "derivative_count": video.derivative_count,
                    "generation": video.generation,
                    "original_id": video.original_id,
                }
                for video in videos
            ],
        },
        ensure_ascii=False,
    )


def add_search_command(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    common: argparse.ArgumentParser,
    open_store: Callable[[argparse.Namespace], LineageStore],
) -> None:
    """Register ``lineage search`` on the CLI's subcommands."""

    def handler(args: argparse.Namespace) -> int:
        check_page_size(args.limit, "--limit")
        store = open_store(args)
        try:
            result = search(store, args.text, within=args.within, first=args.limit, role=Role.ADMIN)
            total = result.total()
        finally:
            store.close()
        print(as_json(result.videos, total) if args.json else format_table(result.videos, total))
        return EXIT_OK

    command = commands.add_parser(
        "search",
        parents=[common],
        help="videos whose prompt, title or creator holds every word of TEXT",
    )
    command.add_argument("text", metavar="TEXT", help="words separated by spaces")
    command.add_argument("--within", metavar="ID", help="only this video and its derivatives")
    command.add_argument(
        "--limit", type=int, default=20, help="matches to show, highest ranked first (max 100)"
    )
    command.add_argument("--json", action="store_true", help="one JSON object")
    command.set_defaults(handler=handler)
