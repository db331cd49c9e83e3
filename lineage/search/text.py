"""What search compares: the normalised searchable text of a video and the terms of a query.

A video's searchable text is its prompt, title and creator joined by line
breaks; a query's text is split on whitespace into terms; both sides are
NFKC-normalised and then case-folded (:func:`normalise`), so ``HIPPO``
finds ``hippo``, ``ｆｕｌｌ`` finds ``FULL``, ``café`` finds ``CAFÉ`` and
``河`` finds ``河马``. A video matches when every term occurs in its text.

A term holds no whitespace and the fields are joined by a line break, so a
term never spans two fields: it occurs in the joined text exactly when it
occurs in one of the normalised fields (NFKC and case folding leave a line
break as it is and never join characters across it). The SQLite store
relies on that to index each distinct field text once.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

__all__ = [
    "FIELD_SEPARATOR",
    "MAX_TERMS",
    "matches",
    "normalise",
    "searchable_fields",
    "searchable_text",
    "split_terms",
]

FIELD_SEPARATOR = "\n"
# More terms than this add nothing a person types, and each costs a test per row.
MAX_TERMS = 32


def normalise(text: str) -> str:
    """NFKC normalisation, then case folding: what both sides of a match go through.

    Examples
    --------
    >>> normalise("ＨＩＰＰＯ café CAFÉ Straße")
    'hippo café café strasse'
    """
    return unicodedata.normalize("NFKC", text).casefold()


def searchable_fields(prompt: str, title: str | None, creator: str | None) -> tuple[str, str, str]:
    """The normalised prompt, title and creator (an absent one is empty)."""
    return normalise(prompt), normalise(title or ""), normalise(creator or "")


def searchable_text(prompt: str, title: str | None, creator: str | None) -> str:
    """The normalised searchable text: prompt, title and creator joined by line breaks.

    Examples
    --------
    >>> searchable_text("Grandma chases a HIPPO", None, "Ｌｉ")
    'grandma chases a hippo\\n\\nli'
    """
    return FIELD_SEPARATOR.join(searchable_fields(prompt, title, creator))


def split_terms(text: str) -> tuple[str, ...]:
    """The normalised terms of a query's text, without repeats or redundant ones.

    A term that occurs inside another term of the same query adds nothing
    (any text holding the longer one holds it too), so it is left out;
    longer terms come first, as they select fewer videos.

    Examples
    --------
    >>> split_terms("  Hippo   HIP yard ")
    ('hippo', 'yard')
    >>> split_terms("河马　奶奶")
    ('奶奶', '河马')
    >>> split_terms(" \\t ")
    ()
    """
    terms = sorted(set(normalise(text).split()), key=lambda term: (-len(term), term))
    kept: list[str] = []
    for term in terms:
        if not any(term in longer for longer in kept):
            kept.append(term)
    return tuple(kept)


def matches(terms: Iterable[str], text: str) -> bool:
    """Whether every term occurs in a normalised searchable ``text``."""
    return all(term in text for term in terms)
