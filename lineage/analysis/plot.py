"""One picture of a video's remix lineage, for analysts.

:func:`plot_lineage` draws, side by side, the top of a video's remix tree
(the video, its leading direct remixes and theirs, the rest of each parent's
remixes folded into one "+N others" node) and its derivatives per
generation, and saves the figure as PNG or SVG. It reads the maintained
aggregates and two ranked pages of remixes, so a video with 18,000 direct
remixes draws as fast, and as legibly, as one with three.

The figure is drawn on a bare :class:`matplotlib.figure.Figure` (no pyplot,
no display, no global backend change).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from matplotlib import font_manager, rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Circle
from matplotlib.textpath import TextToPath
from matplotlib.ticker import MaxNLocator, StrMethodFormatter

from lineage.models import GenerationCount, VideoRecord
from lineage.over_time.plot import RemixWeek, draw_remixes_per_hour, remix_week
from lineage.store import LineageStore, VideoOrder
from lineage.tree.queries import check_page_size, require_video

__all__ = ["plot_lineage"]

FORMATS = {".png": "png", ".svg": "svg"}
PNG_DPI = 150

BASE_FONT = "DejaVu Sans"
# Families that render Chinese (and Japanese/Korean), by name prefix, best first.
CJK_FONT_PREFIXES = (
    "Noto Sans CJK",
    "Noto Serif CJK",
    "Source Han Sans",
    "WenQuanYi",
    "Droid Sans Fallback",
    "Microsoft YaHei",
    "SimHei",
    "PingFang",
    "Hiragino Sans",
    "Arial Unicode MS",
)
MISSING_GLYPH_WARNING = r"Glyph \d+ .*missing from"

# Geometry, in points (the tree axes map one data unit to one point).
MAX_RADIUS = 22.0  # the video itself
MIN_RADIUS = 3.5
LABEL_GAP = 4.0
REMIX_INDENT = 9.0  # from a branch's spine to a remix's circle
COLUMN_GAP = 12.0
MAX_LABEL_CHARS = 20
MARGIN = 18.0
TITLE_HEIGHT = 44.0
CAPTION_HEIGHT = 26.0
MIN_BARS_WIDTH = 300.0  # wider when the tree is narrow
BARS_LEFT_MARGIN = 62.0  # room for the count axis' labels
BARS_BOTTOM_MARGIN = 46.0  # room for the generation axis' labels
MIN_FIGURE_WIDTH = 860.0
MIN_FIGURE_HEIGHT = 360.0
HOURS_PANEL_HEIGHT = 210.0  # remixes per hour, below the tree and the bars
HOURS_LEFT_MARGIN = 62.0
HOURS_BOTTOM_MARGIN = 30.0

# Font sizes (points) and colours.
ROOT_SIZE, NAME_SIZE, DETAIL_SIZE, NOTE_SIZE = 11.0, 9.0, 8.0, 7.5
LINE_SPACING = 1.3
ROOT_COLOUR = "#3b3b3b"
GENERATION_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
TEXT_COLOUR = "#222222"
MUTED_COLOUR = "#6b6b6b"
EDGE_COLOUR = "#9a9a9a"


@dataclass(frozen=True, slots=True)
class Label:
    """The lines of text beside a node: a name, then smaller details."""

    name: str
    details: tuple[str, ...]
    name_size: float = NAME_SIZE
    bold: bool = False

    def height(self) -> float:
        sizes = [self.name_size, *(_detail_size(n) for n in range(len(self.details)))]
        return sum(size * LINE_SPACING for size in sizes)

    def width(self) -> float:
        widths = [_text_width(self.name, self.name_size, self.bold)]
        widths += [_text_width(line, _detail_size(n), False) for n, line in enumerate(self.details)]
        return max(widths)


@dataclass(frozen=True, slots=True)
class TreeNode:
    """A drawn node: one video, or the remaining remixes of a parent folded together."""

    label: Label
    videos: int  # the videos it stands for, subtrees included: sets its area
    folded: bool = False


@dataclass(frozen=True, slots=True)
class Branch:
    """A leading direct remix (or the fold of the rest) and its own leading remixes."""

    head: TreeNode
    remixes: tuple[TreeNode, ...]


class RadiusScale:
    """Node radius (points) from the videos a node stands for: area ∝ √videos."""

    def __init__(self, most_videos: int) -> None:
        self.most_videos = max(most_videos, 1)

    def __call__(self, videos: int) -> float:
        share = max(videos, 1) / self.most_videos
        return max(MIN_RADIUS, MAX_RADIUS * math.sqrt(math.sqrt(share)))


def plot_lineage(
    store: LineageStore, video_id: str, path: str | Path, *, top: int = 8, second: int = 4
) -> None:
    """Draw a video's remix lineage into one PNG or SVG figure.

    Left, the top of the remix tree: the video, its ``top`` direct remixes
    with the most derivatives and, under each, its ``second`` leading
    remixes; every parent's other remixes are folded into one
    "+N others (M derivatives)" node. Node area grows with the square root
    of the videos a node stands for, so 41,640 derivatives and 10 both show.
    Right, the derivatives per (absolute) generation. Below, when remixes
    below the video have creation times, its remixes per UTC hour over a
    week of its tree (:mod:`lineage.over_time.plot`). The title gives the
    video's derivative count, tree depth and direct remix count.

    Parameters
    ----------
    store
        The store to read.
    video_id
        The video whose lineage to draw.
    path
        Where to write the figure; its suffix (``.png`` or ``.svg``) picks the format.
    top
        How many direct remixes of the video to draw (0 to 100).
    second
        How many remixes of each of those to draw (0 to 100).

    Raises
    ------
    ValueError
        If the suffix of ``path`` is neither ``.png`` nor ``.svg``.
    lineage.errors.VideoNotFound
        If the store has no video ``video_id``.
    lineage.errors.InvalidInput, lineage.errors.LimitExceeded
        If ``top`` or ``second`` is negative or above 100.

    Notes
    -----
    Two ranked pages of children, the maintained counters and the video's
    hour buckets: the cost does not grow with the size of the lineage.
    Labels in Chinese need a CJK font (Noto Sans CJK, WenQuanYi, ...);
    without one they show empty boxes.
    """
    target = Path(path)
    image_format = FORMATS.get(target.suffix.lower())
    if image_format is None:
        raise ValueError(
            f"cannot write a lineage figure as {target.suffix or '(no suffix)'!r}: "
            f"use one of {', '.join(FORMATS)}"
        )
    check_page_size(top, "top")
    check_page_size(second, "second")
    video = require_video(store, video_id)
    branches = _gather_branches(store, video, top, second)
    counts = store.generation_counts(video_id)
    week = remix_week(store, video_id)

    style = rc_context(
        {
            "font.family": list(_font_families()),
            # SVG text stays text: searchable, and CJK shows wherever the viewer has a font.
            "svg.fonttype": "none",
            "svg.hashsalt": "remix-lineage",  # the same lineage, the same file
        }
    )
    with style, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=MISSING_GLYPH_WARNING, category=UserWarning)
        figure = _draw_figure(video, branches, counts, week, top, second)
        figure.savefig(target, format=image_format, dpi=PNG_DPI, metadata=_metadata(image_format))


# -- what to draw --------------------------------------------------------------------


def _gather_branches(
    store: LineageStore, video: VideoRecord, top: int, second: int
) -> list[Branch]:
    leading = store.children(video.id, VideoOrder.DERIVATIVES, top) if top else []
    parents = [remix.id for remix in leading if remix.direct_remix_count]
    below = store.children_many(parents, VideoOrder.DERIVATIVES, second) if second else {}
    branches = []
    for remix in leading:
        shown = below.get(remix.id, [])
        nodes = [_video_node(child, with_id=False) for child in shown]
        branches.append(Branch(_video_node(remix, with_id=True), (*nodes, *_fold(remix, shown))))
    branches.extend(Branch(rest, ()) for rest in _fold(video, leading))
    return branches


def _video_node(video: VideoRecord, *, with_id: bool) -> TreeNode:
    name = video.prompt_diff.variant_key if video.prompt_diff else video.id
    details: tuple[str, ...] = (_plural(video.derivative_count, "derivative"),)
    if with_id:
        details += (video.id,)
    return TreeNode(Label(_shorten(name), details, bold=with_id), video.derivative_count + 1)


def _fold(parent: VideoRecord, shown: Sequence[VideoRecord]) -> list[TreeNode]:
    """The node standing for the remixes of ``parent`` not in ``shown`` (none if none)."""
    hidden = parent.direct_remix_count - len(shown)
    if hidden <= 0:
        return []
    # derivative_count = direct remixes + the derivatives of each of them
    hidden_derivatives = max(
        0,
        parent.derivative_count
        - parent.direct_remix_count
        - sum(video.derivative_count for video in shown),
    )
    label = Label(
        f"+{hidden:,} {'other' if hidden == 1 else 'others'}",
        (f"({_plural(hidden_derivatives, 'derivative')})",),
    )
    return [TreeNode(label, hidden + hidden_derivatives, folded=True)]


def _root_label(video: VideoRecord) -> Label:
    name = video.id
    if video.title and _renders(video.title):
        name = f"{video.id} · {_shorten(video.title)}"
    return Label(
        name, (_plural(video.derivative_count, "derivative"),), name_size=ROOT_SIZE, bold=True
    )


# -- the figure ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TreeLayout:
    """Positions (points, y down from 0) of everything in the tree panel."""

    width: float
    height: float
    root_x: float
    root_y: float
    bus_y: float
    head_y: float
    head_label_y: float
    first_row_y: float
    row_pitch: float
    spines: list[float]


def _draw_figure(
    video: VideoRecord,
    branches: list[Branch],
    counts: list[GenerationCount],
    week: RemixWeek | None,
    top: int,
    second: int,
) -> Figure:
    radius = RadiusScale(video.derivative_count + 1)
    root_label = _root_label(video)
    layout = _layout(branches, radius, root_label, video.derivative_count + 1)

    tree_height = max(layout.height + CAPTION_HEIGHT, MIN_FIGURE_HEIGHT - TITLE_HEIGHT - MARGIN)
    bars_width = max(MIN_BARS_WIDTH, MIN_FIGURE_WIDTH - layout.width - 3 * MARGIN)
    width = MARGIN + layout.width + MARGIN + bars_width + MARGIN
    hours_height = 0.0 if week is None else HOURS_PANEL_HEIGHT
    height = TITLE_HEIGHT + tree_height + MARGIN + hours_height
    figure = Figure(figsize=(width / 72, height / 72), facecolor="white")
    if week is not None:
        hours_axes = figure.add_axes(
            ((MARGIN + HOURS_LEFT_MARGIN) / width, (MARGIN + HOURS_BOTTOM_MARGIN) / height,
             (width - 2 * MARGIN - HOURS_LEFT_MARGIN) / width,
             (HOURS_PANEL_HEIGHT - HOURS_BOTTOM_MARGIN - 40) / height)
        )  # fmt: skip
        draw_remixes_per_hour(hours_axes, video.id, week)

    tree_axes = figure.add_axes(
        (MARGIN / width, (hours_height + MARGIN + tree_height - layout.height) / height,
         layout.width / width, layout.height / height)
    )  # fmt: skip
    _draw_tree(tree_axes, video, branches, layout, radius, root_label)
    figure.text(
        MARGIN / width,
        (hours_height + MARGIN + tree_height - layout.height - 8) / height,
        f"Top {top} direct remixes by derivatives, {second} of each; dashed: the remaining "
        "remixes folded together. Node area ∝ √(videos in its subtree).",
        fontsize=NOTE_SIZE,
        color=MUTED_COLOUR,
        va="top",
    )

    bars_left = width - MARGIN - bars_width + BARS_LEFT_MARGIN
    bars_axes = figure.add_axes(
        (bars_left / width, (hours_height + MARGIN + BARS_BOTTOM_MARGIN) / height,
         (width - MARGIN - bars_left) / width,
         (tree_height - BARS_BOTTOM_MARGIN - 22) / height)
    )  # fmt: skip
    _draw_generations(bars_axes, video, counts)

    figure.text(
        MARGIN / width,
        1 - 14 / height,
        f"Remix lineage of {video.id}",
        fontsize=15,
        fontweight="bold",
        color=TEXT_COLOUR,
        va="top",
    )
    figure.text(
        MARGIN / width,
        1 - 33 / height,
        f"{_plural(video.derivative_count, 'derivative')}  ·  tree depth {video.tree_depth}"
        f"  ·  {_plural(video.direct_remix_count, 'direct remix', 'direct remixes')}"
        f"  ·  generation {video.generation}"
        + ("" if video.is_original else f" of {video.original_id}"),
        fontsize=10.5,
        color=MUTED_COLOUR,
        va="top",
    )
    return figure


def _layout(
    branches: list[Branch], radius: RadiusScale, root_label: Label, root_videos: int
) -> TreeLayout:
    root_radius = radius(root_videos)
    head_radius = max((radius(branch.head.videos) for branch in branches), default=0.0)
    remix_radius = max(
        (radius(node.videos) for branch in branches for node in branch.remixes), default=0.0
    )
    label_pitch = NAME_SIZE * LINE_SPACING + DETAIL_SIZE * LINE_SPACING
    row_pitch = max(2 * remix_radius + 6, label_pitch + 8)

    spines = []
    x = 0.0
    for branch in branches:
        head = radius(branch.head.videos)
        spine = x + head
        reach = max(
            [head + LABEL_GAP + branch.head.label.width()]
            + [
                REMIX_INDENT + 2 * radius(node.videos) + LABEL_GAP + node.label.width()
                for node in branch.remixes
            ]
        )
        spines.append(spine)
        x = spine + reach + COLUMN_GAP
    columns_width = x - COLUMN_GAP if branches else 0.0

    # The video sits above the middle of its branches, its label to its right.
    root_x = (spines[0] + spines[-1]) / 2 if spines else root_radius
    nearest = min(spines, key=lambda spine: abs(spine - root_x), default=root_x)
    if abs(nearest - root_x) < 3 * MAX_RADIUS:  # one straight line rather than a near miss
        root_x = nearest
    root_x = max(root_x, root_radius)
    width = max(columns_width, root_x + root_radius + LABEL_GAP + root_label.width()) + 2

    root_y = max(root_radius, root_label.height() / 2) + 2
    bus_y = root_y + root_radius + 14
    head_y = bus_y + 12 + head_radius
    head_label_y = head_y + head_radius + LABEL_GAP
    tallest_head = max((branch.head.label.height() for branch in branches), default=0.0)
    first_row_y = head_label_y + tallest_head + 4 + row_pitch / 2
    rows = max((len(branch.remixes) for branch in branches), default=0)
    if not branches:
        height = root_y + root_radius + 8
    elif rows:
        height = first_row_y + (rows - 1) * row_pitch + row_pitch / 2
    else:
        height = head_label_y + tallest_head + 4
    return TreeLayout(
        width=width,
        height=height,
        root_x=root_x,
        root_y=root_y,
        bus_y=bus_y,
        head_y=head_y,
        head_label_y=head_label_y,
        first_row_y=first_row_y,
        row_pitch=row_pitch,
        spines=spines,
    )


def _draw_tree(
    axes: Axes,
    video: VideoRecord,
    branches: list[Branch],
    layout: TreeLayout,
    radius: RadiusScale,
    root_label: Label,
) -> None:
    axes.set_xlim(0, layout.width)
    axes.set_ylim(layout.height, 0)  # y grows downwards, in points
    axes.set_axis_off()
    root_radius = radius(video.derivative_count + 1)
    _draw_node(axes, layout.root_x, layout.root_y, root_radius, ROOT_COLOUR, folded=False)
    _draw_label(axes, layout.root_x + root_radius + LABEL_GAP, layout.root_y, root_label, "center")
    if not branches:
        return
    _draw_edge(axes, (layout.root_x, layout.root_y), (layout.root_x, layout.bus_y))
    _draw_edge(axes, (layout.spines[0], layout.bus_y), (layout.spines[-1], layout.bus_y))

    head_colour = _generation_colour(1)
    remix_colour = _generation_colour(2)
    for branch, spine in zip(branches, layout.spines, strict=True):
        _draw_edge(axes, (spine, layout.bus_y), (spine, layout.head_y))
        head_radius = radius(branch.head.videos)
        _draw_node(axes, spine, layout.head_y, head_radius, head_colour, branch.head.folded)
        _draw_label(axes, spine + LABEL_GAP, layout.head_label_y, branch.head.label, "top")
        if not branch.remixes:
            continue
        last_y = layout.first_row_y + (len(branch.remixes) - 1) * layout.row_pitch
        _draw_edge(axes, (spine, layout.head_y + head_radius), (spine, last_y))
        for row, node in enumerate(branch.remixes):
            y = layout.first_row_y + row * layout.row_pitch
            node_radius = radius(node.videos)
            x = spine + REMIX_INDENT + node_radius
            _draw_edge(axes, (spine, y), (x, y))
            _draw_node(axes, x, y, node_radius, remix_colour, node.folded)
            _draw_label(axes, x + node_radius + LABEL_GAP, y, node.label, "center")


def _draw_edge(axes: Axes, start: tuple[float, float], end: tuple[float, float]) -> None:
    axes.plot([start[0], end[0]], [start[1], end[1]], color=EDGE_COLOUR, linewidth=1.0, zorder=1)


def _draw_node(axes: Axes, x: float, y: float, radius: float, colour: str, folded: bool) -> None:
    """A filled circle for a video; a dashed ring for folded remixes."""
    if folded:
        circle = Circle((x, y), radius, facecolor="white", edgecolor=colour, linewidth=1.3)
        circle.set_linestyle((0, (3, 2)))
    else:
        circle = Circle((x, y), radius, facecolor=colour, edgecolor="white", linewidth=0.8)
    circle.set_zorder(2)
    axes.add_patch(circle)


def _draw_label(axes: Axes, x: float, y: float, label: Label, anchor: str) -> None:
    """Write a label's lines from ``x``, its block's top or middle at ``y``."""
    top = y if anchor == "top" else y - label.height() / 2
    weight = "bold" if label.bold else "normal"
    text: dict[str, Any] = {"va": "top", "zorder": 3, "parse_math": False}
    axes.text(
        x, top, label.name, fontsize=label.name_size, fontweight=weight, color=TEXT_COLOUR, **text
    )
    top += label.name_size * LINE_SPACING
    for number, line in enumerate(label.details):
        size = _detail_size(number)
        axes.text(x, top, line, fontsize=size, color=MUTED_COLOUR, **text)
        top += size * LINE_SPACING


def _draw_generations(axes: Axes, video: VideoRecord, counts: list[GenerationCount]) -> None:
    axes.set_title("Derivatives per generation", fontsize=11, loc="left", color=TEXT_COLOUR)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.set_xlabel(f"generation ({video.id} is generation {video.generation})", fontsize=9)
    axes.tick_params(labelsize=8.5)
    if not counts:
        axes.set_xticks([])
        axes.set_yticks([])
        axes.text(
            0.5, 0.5, "no remixes yet", ha="center", va="center", fontsize=10,
            color=MUTED_COLOUR, transform=axes.transAxes,
        )  # fmt: skip
        return
    generations = [item.generation for item in counts]
    values = [item.count for item in counts]
    colours = [_generation_colour(g - video.generation) for g in generations]
    bars = axes.bar(generations, values, color=colours, width=0.7)
    axes.bar_label(bars, labels=[f"{value:,}" for value in values], fontsize=8.5, padding=2)
    axes.set_xticks(generations)
    axes.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    axes.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    axes.set_ylim(0, max(values) * 1.12)  # room for the top bar's label
    axes.grid(axis="y", color="#e6e6e6", linewidth=0.8)
    axes.set_axisbelow(True)


# -- helpers -------------------------------------------------------------------------


def _generation_colour(relative_generation: int) -> str:
    if relative_generation <= 0:
        return ROOT_COLOUR
    return GENERATION_COLOURS[(relative_generation - 1) % len(GENERATION_COLOURS)]


def _detail_size(number: int) -> float:
    return DETAIL_SIZE if number == 0 else NOTE_SIZE


def _plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (words or word + 's')}"


def _shorten(text: str, limit: int = MAX_LABEL_CHARS) -> str:
    """``text`` in at most ``limit`` characters; a swap ``a→b`` keeps its ``→b`` end."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    before, arrow, after = text.rpartition("→")
    if arrow and len(after) <= limit - 7:  # leave the before side a few characters
        return _cut(before, limit - len(after) - 1) + arrow + after
    return _cut(text, limit)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _metadata(image_format: str) -> dict[str, str | None]:
    # No creation date: the same lineage gives the same file.
    return {"Date": None} if image_format == "svg" else {}


@cache
def _font_families() -> tuple[str, ...]:
    """The base font, then a CJK font when one is installed (matplotlib falls back per glyph)."""
    names = sorted({entry.name for entry in font_manager.fontManager.ttflist})
    for prefix in CJK_FONT_PREFIXES:
        for name in names:
            if name.startswith(prefix):
                _serve_every_weight(name)
                return (BASE_FONT, name)
    return (BASE_FONT,)


def _serve_every_weight(family: str) -> None:
    """Let a CJK family's regular face answer for the weights the figure asks for.

    Some CJK fonts ship one face that declares weight 500 (WenQuanYi Zen
    Hei): asked for normal or bold text in that family, matplotlib uses the
    face anyway but logs "findfont: Failed to find font weight ..." for each
    label. Registering the same file under the missing weights answers those
    requests exactly (matplotlib draws no synthetic bold either way).
    """
    faces = [
        entry
        for entry in font_manager.fontManager.ttflist
        if entry.name == family and entry.style == "normal"
    ]
    weights = {
        face.weight if isinstance(face.weight, int) else font_manager.weight_dict.get(face.weight)
        for face in faces
    }
    for weight in ("normal", "bold"):
        if faces and font_manager.weight_dict[weight] not in weights:
            font_manager.fontManager.ttflist.append(replace(faces[0], weight=weight))


@cache
def _renders(text: str) -> bool:
    """Whether the fonts in use have a glyph for every character of ``text``."""
    fonts = [
        font_manager.get_font(font_manager.findfont(FontProperties(family=family)))
        for family in _font_families()
    ]
    return all(
        any(font.get_char_index(ord(char)) for font in fonts) for char in text if not char.isspace()
    )


_TEXT_TO_PATH = TextToPath()


def _text_width(text: str, size: float, bold: bool) -> float:
    """The width in points of ``text`` in the fonts in use."""
    properties = FontProperties(
        family=list(_font_families()), size=size, weight="bold" if bold else "normal"
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=MISSING_GLYPH_WARNING, category=UserWarning)
        width, _, _ = _TEXT_TO_PATH.get_text_width_height_descent(text, properties, ismath=False)
    return float(width)
