"""Small helpers for the text that people read: plurals, articles, terminal columns and
parser messages.

Examples
--------
>>> plural(1, "remix", "remixes"), plural(18_000, "remix", "remixes")
('1 remix', '18,000 remixes')
>>> with_article("admin"), with_article("reader")
('an admin', 'a reader')
>>> display_width("鳄鱼→河马"), pad("鳄鱼", 6) + "|"
(9, '鳄鱼  |')
>>> json_error("EOF while parsing a value at line 2 column 0")
'EOF while parsing a value'
>>> json_error("trailing characters at line 1 column 28")
'trailing characters at column 28'
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["display_width", "json_error", "pad", "plural", "with_article"]


def plural(count: int, word: str, words: str | None = None) -> str:
    """``count`` with its noun, singular for exactly one (``words``: an irregular plural)."""
    return f"{count:,} {word if count == 1 else (words or word + 's')}"


def with_article(word: str) -> str:
    """``word`` after "a" or "an" (by its first letter: enough for the role names)."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def display_width(text: str) -> int:
    """The columns ``text`` takes in a terminal: wide and fullwidth characters (CJK)
    take two, combining marks none, everything else one."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def pad(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` terminal columns (never cut)."""
    return text + " " * max(0, width - display_width(text))


# The position a JSON parser appends to its message: serde's (pydantic)
# "... at line L column C" and orjson's "...: line L column C (char N)".
_POSITION = re.compile(r"(?::| at) line (\d+) column (\d+)(?: \(char \d+\))?$")


def json_error(message: str) -> str:
    """A JSON parser's message for one JSONL line, without the parser's own line number.

    The reader reports the file's line (``FILE:LINE``); the parser's "line 2"
    only counts the line's trailing newline. A column on the line's first
    parser line is kept; anything past the end of the line is dropped.
    """
    match = _POSITION.search(message)
    if match is None:
        return message
    text = message[: match.start()].rstrip(": ")
    line, column = int(match.group(1)), int(match.group(2))
    return f"{text} at column {column}" if line == 1 and column > 0 else text
