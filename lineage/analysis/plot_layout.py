"""The layout of the lineage figure's tree panel: what it shows, and where.

:func:`gather_branches` reads what the tree shows: a video's leading direct
remixes by derivatives and, under each, its own leading remixes; every
parent's other remixes are folded into one "+N others" node (:func:`fold`).
A node's radius grows with the videos it stands for (:class:`RadiusScale`,
area ∝ √videos), and :func:`layout_tree` places the video, one column
(branch) per leading remix, and the rows of remixes under each, in points
with y down from 0, measuring every label in the fonts in use
(:mod:`lineage.analysis.plot_fonts`). The drawing is :mod:`lineage.analysis.plot`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from lineage.analysis.plot_fonts import renders, text_width
from lineage.models import VideoRecord
from lineage.store import LineageStore, VideoOrder

__all__ = [
    "DETAIL_SIZE",
    "LABEL_GAP",
    "LINE_SPACING",
    "MAX_RADIUS",
    "NAME_SIZE",
    "NOTE_SIZE",
    "REMIX_INDENT",
    "ROOT_SIZE",
    "Branch",
    "Label",
    "RadiusScale",
    "TreeLayout",
    "TreeNode",
    "detail_size",
    "fold",
    "gather_branches",
    "layout_tree",
    "plural",
    "root_label_of",
]

# Geometry, in points (the tree axes map one data unit to one point).
MAX_RADIUS = 22.0  # the video itself
MIN_RADIUS = 3.5
LABEL_GAP = 4.0
REMIX_INDENT = 9.0  # from a branch's spine to a remix's circle
COLUMN_GAP = 12.0
MAX_LABEL_CHARS = 20

# Font sizes (points).
ROOT_SIZE, NAME_SIZE, DETAIL_SIZE, NOTE_SIZE = 11.0, 9.0, 8.0, 7.5
LINE_SPACING = 1.3


@dataclass(frozen=True, slots=True)
class Label:
    """The lines of text beside a node: a name, then smaller details."""

    name: str
    details: tuple[str, ...]
    name_size: float = NAME_SIZE
    bold: bool = False

    def height(self) -> float:
        sizes = [self.name_size, *(detail_size(n) for n in range(len(self.details)))]
        return sum(size * LINE_SPACING for size in sizes)

    def width(self) -> float:
        widths = [text_width(self.name, self.name_size, self.bold)]
        widths += [text_width(line, detail_size(n), False) for n, line in enumerate(self.details)]
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


# -- what to draw --------------------------------------------------------------------


def gather_branches(store: LineageStore, video: VideoRecord, top: int, second: int) -> list[Branch]:
    """The ``top`` leading remixes of ``video``, ``second`` of each, the rest folded."""
    leading = store.children(video.id, VideoOrder.DERIVATIVES, top) if top else []
    parents = [remix.id for remix in leading if remix.direct_remix_count]
    below = store.children_many(parents, VideoOrder.DERIVATIVES, second) if second else {}
    branches = []
    for remix in leading:
        shown = below.get(remix.id, [])
        nodes = [_video_node(child, with_id=False) for child in shown]
        branches.append(Branch(_video_node(remix, with_id=True), (*nodes, *fold(remix, shown))))
    branches.extend(Branch(rest, ()) for rest in fold(video, leading))
    return branches


def _video_node(video: VideoRecord, *, with_id: bool) -> TreeNode:
    name = video.prompt_diff.variant_key if video.prompt_diff else video.id
    details: tuple[str, ...] = (plural(video.derivative_count, "derivative"),)
    if with_id:
        details += (video.id,)
    return TreeNode(Label(_shorten(name), details, bold=with_id), video.derivative_count + 1)


def fold(parent: VideoRecord, shown: Sequence[VideoRecord]) -> list[TreeNode]:
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
        (f"({plural(hidden_derivatives, 'derivative')})",),
    )
    return [TreeNode(label, hidden + hidden_derivatives, folded=True)]


def root_label_of(video: VideoRecord) -> Label:
    """The label of the video the figure is about (its title too, when the fonts have it)."""
    name = video.id
    if video.title and renders(video.title):
        name = f"{video.id} · {_shorten(video.title)}"
    return Label(
        name, (plural(video.derivative_count, "derivative"),), name_size=ROOT_SIZE, bold=True
    )


# -- where ---------------------------------------------------------------------------


def layout_tree(
    branches: list[Branch], radius: RadiusScale, root_label: Label, root_videos: int
) -> TreeLayout:
    """Place the video, one column per branch and the rows of remixes under each."""
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


# -- text ----------------------------------------------------------------------------


def detail_size(number: int) -> float:
    """The font size of a label's detail line ``number`` (0 for the first)."""
    return DETAIL_SIZE if number == 0 else NOTE_SIZE


def plural(count: int, word: str, words: str | None = None) -> str:
    """``count`` and ``word``, or ``words`` (default: ``word`` + s) unless ``count`` is 1."""
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
