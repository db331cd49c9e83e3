"""Prompt diffs: what a remix changed in its parent's prompt.

A diff is computed from the parent's prompt to the child's prompt over
*tokens*: words for scripts that separate words with spaces, single
characters for scripts that do not (Chinese, Japanese kana, Thai, Lao,
Khmer, Myanmar), and single grapheme clusters for punctuation and symbols.
Whitespace separates tokens but is never a token itself, so a change of
spacing alone is no change of the prompt's content.

Adjacent changed tokens form one operation, and the text of an operation is
sliced from the prompt itself, so ``鳄鱼`` stays one replacement and not two,
and ``a red hat`` keeps its spaces.
"""

from __future__ import annotations

from difflib import SequenceMatcher
from functools import lru_cache
from typing import Literal, NamedTuple

import regex

from lineage.models import DiffOp, PromptDiff

__all__ = ["NO_CHANGE", "DiffFields", "diff_fields", "diff_prompts", "tokenize", "variant_key"]

NO_CHANGE = "no prompt change"

# Scripts written without spaces between words: one token per character
# (with its combining marks), so a change inside a run of text is found.
_UNSPACED = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
_TOKEN = regex.compile(
    rf"[{_UNSPACED}]\p{{M}}*"  # one character of an unspaced script
    rf"|[[\p{{L}}\p{{N}}\p{{M}}_]--[{_UNSPACED}]]+"  # a word
    r"|(?!\s)\X",  # anything else: one grapheme (punctuation, emoji...)
    regex.V1,
)
_WHITESPACE = regex.compile(r"\s+")

# Summaries are for people: long rewrites are cut, the variant key is not.
_SUMMARY_PART_LIMIT = 80
_SUMMARY_OPS_LIMIT = 5

_Tokens = tuple[tuple[str, ...], tuple[int, ...], tuple[int, ...]]
OpKind = Literal["replace", "insert", "delete"]
# An operation as plain values: (op, before, after).
OpTuple = tuple[OpKind, str, str]


class DiffFields(NamedTuple):
    """A prompt diff as plain values, for the bulk paths that store it."""

    summary: str
    variant_key: str
    similarity: float
    ops: tuple[OpTuple, ...]


# Prompts longer than this are cached in a smaller cache, so hostile
# 4,000-character prompts cannot make the caches hold gigabytes.
_CACHED_TEXT_LIMIT = 512


def _tokens(text: str) -> _Tokens:
    # A popular parent's prompt is diffed against every remix: cache it.
    if len(text) <= _CACHED_TEXT_LIMIT:
        return _cached_tokens(text)
    return _cached_long_tokens(text)


@lru_cache(maxsize=8192)
def _cached_tokens(text: str) -> _Tokens:
    return _tokenize(text)


@lru_cache(maxsize=256)
def _cached_long_tokens(text: str) -> _Tokens:
    return _tokenize(text)


def _tokenize(text: str) -> _Tokens:
    words: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for match in _TOKEN.finditer(text):
        words.append(match.group())
        start, end = match.span()
        starts.append(start)
        ends.append(end)
    return tuple(words), tuple(starts), tuple(ends)


def tokenize(text: str) -> list[str]:
    """Split a prompt into the tokens the diff compares.

    Parameters
    ----------
    text : str
        A prompt, in any language.

    Returns
    -------
    list of str
        Words, characters of unspaced scripts, and single punctuation marks,
        in order; whitespace is dropped.

    Examples
    --------
    >>> tokenize("A hippo, not a crocodile!")
    ['A', 'hippo', ',', 'not', 'a', 'crocodile', '!']
    >>> tokenize("奶奶赶走鳄鱼 twice")
    ['奶', '奶', '赶', '走', '鳄', '鱼', 'twice']
    """
    return list(_tokens(text)[0])


def _normalize(text: str) -> str:
    collapsed: str = _WHITESPACE.sub(" ", text)
    return collapsed.strip().casefold()


def variant_key(ops: tuple[DiffOp, ...] | list[DiffOp]) -> str:
    """The variant key of a diff: its changes, case-folded and whitespace-collapsed.

    Parameters
    ----------
    ops : sequence of DiffOp
        The operations of a prompt diff, in prompt order.

    Returns
    -------
    str
        ``before→after`` for a replacement, ``+after`` for an insertion and
        ``-before`` for a deletion, joined by ``"; "``; ``"no prompt change"``
        when there are no operations.

    Examples
    --------
    >>> variant_key([DiffOp(op="replace", before="Crocodile", after="HIPPO")])
    'crocodile→hippo'
    >>> variant_key([DiffOp(op="insert", before="", after="in  slow motion")])
    '+in slow motion'
    """
    return _key([(op.op, op.before, op.after) for op in ops])


def _key(ops: tuple[OpTuple, ...] | list[OpTuple]) -> str:
    if not ops:
        return NO_CHANGE
    parts = []
    for kind, before, after in ops:
        if kind == "replace":
            parts.append(f"{_normalize(before)}→{_normalize(after)}")
        elif kind == "insert":
            parts.append(f"+{_normalize(after)}")
        else:
            parts.append(f"-{_normalize(before)}")
    return "; ".join(parts)


def _shorten(text: str) -> str:
    text = str(_WHITESPACE.sub(" ", text))
    if len(text) <= _SUMMARY_PART_LIMIT:
        return text
    return text[: _SUMMARY_PART_LIMIT - 1] + "…"


def _summary(ops: tuple[OpTuple, ...]) -> str:
    if not ops:
        return NO_CHANGE
    parts = []
    for kind, before, after in ops[:_SUMMARY_OPS_LIMIT]:
        if kind == "replace":
            parts.append(f"{_shorten(before)} → {_shorten(after)}")
        elif kind == "insert":
            parts.append(f"+ {_shorten(after)}")
        else:
            parts.append(f"- {_shorten(before)}")
    if len(ops) > _SUMMARY_OPS_LIMIT:
        parts.append(f"(+{len(ops) - _SUMMARY_OPS_LIMIT} more)")
    return ", ".join(parts)


# A change is a pair of token ranges [a0, a1) in the parent, [b0, b1) in the child.
_Change = tuple[int, int, int, int]


def _middle_changes(old: tuple[str, ...], new: tuple[str, ...]) -> tuple[list[_Change], int]:
    """Changes between two token runs with no common first or last token.

    Returns the changes and the number of matched tokens.
    """
    if not old or not new or set(old).isdisjoint(new):
        return [(0, len(old), 0, len(new))], 0
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    changes: list[_Change] = []
    matched = 0
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            matched += a1 - a0
        elif changes and changes[-1][1] == a0 and changes[-1][3] == b0:
            changes[-1] = (changes[-1][0], a1, changes[-1][2], b1)
        else:
            changes.append((a0, a1, b0, b1))
    return changes, matched


def _merge_short_equalities(
    changes: list[_Change], old_chars: list[int], new_chars: list[int]
) -> list[_Change]:
    """Absorb an unchanged run into its neighbours when it is small beside both.

    Coincidental one-token matches inside a rewrite (``the`` in two unrelated
    sentences) would otherwise split one rewrite into many changes; a run at
    most half as long as the changes on both sides is absorbed. ``old_chars`` and
    ``new_chars`` are the cumulative character lengths of the tokens.
    """

    def size(chars: list[int], start: int, end: int) -> int:
        return chars[end] - chars[start]

    merged = changes[:1]
    for change in changes[1:]:
        previous = merged[-1]
        equal_size = size(old_chars, previous[1], change[0])
        before_size = max(
            size(old_chars, previous[0], previous[1]), size(new_chars, previous[2], previous[3])
        )
        after_size = max(
            size(old_chars, change[0], change[1]), size(new_chars, change[2], change[3])
        )
        if 2 * equal_size <= before_size and 2 * equal_size <= after_size:
            merged[-1] = (previous[0], change[1], previous[2], change[3])
        else:
            merged.append(change)
    return merged


def diff_prompts(parent_prompt: str, child_prompt: str) -> PromptDiff:
    """Compute the prompt diff of a remix, from its parent's prompt to its own.

    Parameters
    ----------
    parent_prompt : str
        The prompt of the parent video.
    child_prompt : str
        The prompt of the remix.

    Returns
    -------
    PromptDiff
        Its operations in prompt order, a human summary, the variant key and
        the similarity ``2 * matched tokens / all tokens`` in [0, 1].

    Examples
    --------
    >>> diff = diff_prompts(
    ...     "A grandmother chases a crocodile out of the yard",
    ...     "A grandmother chases a hippo out of the yard",
    ... )
    >>> diff.summary, diff.variant_key, diff.similarity
    ('crocodile → hippo', 'crocodile→hippo', 0.8889)
    >>> diff_prompts("奶奶拿着扫帚把鳄鱼赶出院子", "奶奶拿着扫帚把河马赶出院子").variant_key
    '鳄鱼→河马'
    >>> diff_prompts("a cat", "a cat, in slow motion").summary
    '+ , in slow motion'

    Notes
    -----
    Common leading and trailing tokens are trimmed first, so the usual remix
    (one swapped phrase) costs O(n) in the prompts' length; otherwise the
    changed middle goes through :class:`difflib.SequenceMatcher`, quadratic
    in the worst case and bounded by the 4,000-character prompt limit.
    """
    fields = diff_fields(parent_prompt, child_prompt)
    return PromptDiff.model_construct(
        summary=fields.summary,
        variant_key=fields.variant_key,
        similarity=fields.similarity,
        ops=tuple(
            DiffOp.model_construct(op=kind, before=before, after=after)
            for kind, before, after in fields.ops
        ),
    )


def diff_fields(parent_prompt: str, child_prompt: str) -> DiffFields:
    """:func:`diff_prompts` as plain values, without building models.

    Examples
    --------
    >>> diff_fields("a crocodile", "a hippo")
    DiffFields(summary='crocodile → hippo', variant_key='crocodile→hippo', \
similarity=0.5, ops=(('replace', 'crocodile', 'hippo'),))

    Notes
    -----
    Remixes of one parent often make the very same edit (thousands of
    ``crocodile → hippo``), so the diffs of short prompt pairs are cached
    (16,384 pairs of at most 512 characters together, least recently used
    first out: at most about 128 MB, usually a few MB).
    """
    if len(parent_prompt) + len(child_prompt) <= _CACHED_TEXT_LIMIT:
        return _cached_diff_fields(parent_prompt, child_prompt)
    return _diff_fields(parent_prompt, child_prompt)


@lru_cache(maxsize=16384)
def _cached_diff_fields(parent_prompt: str, child_prompt: str) -> DiffFields:
    return _diff_fields(parent_prompt, child_prompt)


def _diff_fields(parent_prompt: str, child_prompt: str) -> DiffFields:
    old, old_starts, old_ends = _tokens(parent_prompt)
    new, new_starts, new_ends = _tokens(child_prompt)

    prefix = 0
    limit = min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    limit -= prefix
    while suffix < limit and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1

    old_middle = old[prefix : len(old) - suffix]
    new_middle = new[prefix : len(new) - suffix]
    if not old_middle and not new_middle:
        changes: list[_Change] = []
        matched = 0
    else:
        changes, matched = _middle_changes(old_middle, new_middle)
        if len(changes) > 1:
            old_chars = [0]
            for token in old_middle:
                old_chars.append(old_chars[-1] + len(token))
            new_chars = [0]
            for token in new_middle:
                new_chars.append(new_chars[-1] + len(token))
            changes = _merge_short_equalities(changes, old_chars, new_chars)
            # Unchanged runs between changes match one to one.
            matched = len(old_middle) - sum(a1 - a0 for a0, a1, _, _ in changes)
    matched += prefix + suffix

    ops: list[OpTuple] = []
    for a0, a1, b0, b1 in changes:
        before = (
            parent_prompt[old_starts[prefix + a0] : old_ends[prefix + a1 - 1]] if a1 > a0 else ""
        )
        after = child_prompt[new_starts[prefix + b0] : new_ends[prefix + b1 - 1]] if b1 > b0 else ""
        kind: OpKind = "replace" if before and after else ("insert" if after else "delete")
        ops.append((kind, before, after))
    op_tuple = tuple(ops)

    total = len(old) + len(new)
    similarity = round(2 * matched / total, 4) if total else 1.0
    return DiffFields(_summary(op_tuple), _key(op_tuple), similarity, op_tuple)
