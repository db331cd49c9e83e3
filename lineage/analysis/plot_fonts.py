"""The fonts of the lineage figure: which families draw it, and how wide a text is in them.

The figure's text is set in :data:`BASE_FONT`, with a CJK family after it
when one is installed (:func:`font_families`; matplotlib falls back per
glyph), so Chinese variant keys and titles draw. The layout measures its
labels in those fonts (:func:`text_width`) and shows a title only when they
have every glyph of it (:func:`renders`). Both the layout
(:mod:`lineage.analysis.plot_layout`) and the drawing
(:mod:`lineage.analysis.plot`) use them.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from functools import cache

from matplotlib import font_manager
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

__all__ = [
    "BASE_FONT",
    "CJK_FONT_PREFIXES",
    "MISSING_GLYPH_WARNING",
    "font_families",
    "renders",
    "text_width",
]

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


@cache
def font_families() -> tuple[str, ...]:
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
def renders(text: str) -> bool:
    """Whether the fonts in use have a glyph for every character of ``text``."""
    fonts = [
        font_manager.get_font(font_manager.findfont(FontProperties(family=family)))
        for family in font_families()
    ]
    return all(
        any(font.get_char_index(ord(char)) for font in fonts) for char in text if not char.isspace()
    )


_TEXT_TO_PATH = TextToPath()


def text_width(text: str, size: float, bold: bool) -> float:
    """The width in points of ``text`` in the fonts in use."""
    properties = FontProperties(
        family=list(font_families()), size=size, weight="bold" if bold else "normal"
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=MISSING_GLYPH_WARNING, category=UserWarning)
        width, _, _ = _TEXT_TO_PATH.get_text_width_height_descent(text, properties, ismath=False)
    return float(width)
