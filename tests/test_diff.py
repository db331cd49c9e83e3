"""Prompt diffs: the contract's examples, scripts, punctuation and a property test."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lineage.diff import NO_CHANGE, diff_fields, diff_prompts, tokenize, variant_key
from lineage.models import DiffOp, PromptDiff


def ops_of(diff: PromptDiff) -> list[tuple[str, str, str]]:
    return [(op.op, op.before, op.after) for op in diff.ops]


def test_english_swap_is_one_replace() -> None:
    diff = diff_prompts(
        "A grandmother chases a crocodile out of the yard",
        "A grandmother chases a hippo out of the yard",
    )
    assert ops_of(diff) == [("replace", "crocodile", "hippo")]
    assert diff.summary == "crocodile → hippo"
    assert diff.variant_key == "crocodile→hippo"
    assert 0.8 < diff.similarity < 1.0


def test_chinese_swap_merges_adjacent_characters() -> None:
    diff = diff_prompts("奶奶拿着扫帚把鳄鱼赶出院子", "奶奶拿着扫帚把河马赶出院子")
    assert ops_of(diff) == [("replace", "鳄鱼", "河马")]
    assert diff.variant_key == "鳄鱼→河马"
    assert diff.summary == "鳄鱼 → 河马"


def test_appended_phrase_is_one_insert() -> None:
    diff = diff_prompts(
        "A grandmother chases a crocodile", "A grandmother chases a crocodile at night"
    )
    assert ops_of(diff) == [("insert", "", "at night")]
    assert diff.summary == "+ at night"
    assert diff.variant_key == "+at night"


def test_removed_phrase_is_one_delete() -> None:
    diff = diff_prompts(
        "A grandmother chases a big green crocodile", "A grandmother chases a crocodile"
    )
    assert ops_of(diff) == [("delete", "big green", "")]
    assert diff.variant_key == "-big green"


def test_identical_prompts_have_no_ops() -> None:
    diff = diff_prompts("奶奶 chases a crocodile", "奶奶 chases a crocodile")
    assert diff.ops == ()
    assert diff.summary == NO_CHANGE
    assert diff.variant_key == NO_CHANGE
    assert diff.similarity == 1.0


def test_whitespace_alone_is_no_change() -> None:
    diff = diff_prompts("a  crocodile\tin the yard", "a crocodile in the  yard")
    assert diff.ops == ()
    assert diff.similarity == 1.0


def test_operation_text_keeps_inner_spacing() -> None:
    diff = diff_prompts("a crocodile in the yard", "a very  big hippo in the yard")
    assert ops_of(diff) == [("replace", "crocodile", "very  big hippo")]
    assert diff.variant_key == "crocodile→very big hippo"


def test_variant_key_is_case_folded() -> None:
    first = diff_prompts("a Crocodile here", "a HIPPO here")
    second = diff_prompts("A crocodile there", "A hippo there")
    assert first.variant_key == second.variant_key == "crocodile→hippo"


def test_mixed_scripts_give_one_op_per_change() -> None:
    diff = diff_prompts("Grandma 用扫帚 chases a crocodile", "Grandma 用拖把 chases a hippo")
    assert ops_of(diff) == [("replace", "扫帚", "拖把"), ("replace", "crocodile", "hippo")]
    assert diff.variant_key == "扫帚→拖把; crocodile→hippo"


def test_chinese_word_next_to_latin_word() -> None:
    diff = diff_prompts("奶奶赶走crocodile", "奶奶赶走hippo")
    assert ops_of(diff) == [("replace", "crocodile", "hippo")]


def test_japanese_and_thai_are_diffed_per_character() -> None:
    assert ops_of(diff_prompts("おばあちゃんがワニを追う", "おばあちゃんがカバを追う")) == [
        ("replace", "ワニ", "カバ")
    ]
    assert ops_of(diff_prompts("คุณยายไล่จระเข้", "คุณยายไล่ฮิปโป")) == [("replace", "จระเข้", "ฮิปโป")]


def test_punctuation_is_its_own_token() -> None:
    assert tokenize("Wow, a hippo!") == ["Wow", ",", "a", "hippo", "!"]
    diff = diff_prompts("A hippo.", "A hippo!")
    assert ops_of(diff) == [("replace", ".", "!")]


def test_emoji_and_combining_marks_stay_whole() -> None:
    assert tokenize("a 👩‍👧 café") == ["a", "👩‍👧", "café"]
    diff = diff_prompts("a crocodile 🐊", "a crocodile 🦛")
    assert ops_of(diff) == [("replace", "🐊", "🦛")]


def test_separate_changes_stay_separate() -> None:
    diff = diff_prompts("a red cat sits on the mat", "a blue cat lies on the mat")
    assert ops_of(diff) == [("replace", "red", "blue"), ("replace", "sits", "lies")]


def test_coincidental_match_inside_a_rewrite_is_absorbed() -> None:
    diff = diff_prompts(
        "Grandmother chases the crocodile out of her yard",
        "A robot dances in the spotlight of a disco club",
    )
    assert len(diff.ops) == 1
    assert diff.ops[0].op == "replace"
    assert diff.similarity < 0.3


def test_total_rewrite_has_similarity_zero() -> None:
    diff = diff_prompts("crocodile", "hippo")
    assert diff.similarity == 0.0
    assert ops_of(diff) == [("replace", "crocodile", "hippo")]


def test_long_summary_is_shortened_but_key_is_not() -> None:
    long_text = "word " * 100
    diff = diff_prompts("start", "start " + long_text.strip())
    assert len(diff.summary) < 100
    assert diff.summary.endswith("…")
    assert diff.variant_key == "+" + long_text.strip()


@pytest.mark.parametrize(
    ("ops", "expected"),
    [
        ([], NO_CHANGE),
        ([DiffOp(op="replace", before="A  Crocodile", after="Hippo")], "a crocodile→hippo"),
        ([DiffOp(op="insert", before="", after=" At Night ")], "+at night"),
        ([DiffOp(op="delete", before="Big", after="")], "-big"),
        (
            [
                DiffOp(op="replace", before="扫帚", after="拖把"),
                DiffOp(op="insert", before="", after="fast"),
            ],
            "扫帚→拖把; +fast",
        ),
    ],
)
def test_variant_key_format(ops: list[DiffOp], expected: str) -> None:
    assert variant_key(ops) == expected


# Text over a small alphabet of words and CJK characters, so that prompts
# share tokens often and the matcher's merging paths all run.
_pieces = st.sampled_from(
    ["a", "the", "crocodile", "hippo", "yard", ",", "!", "鳄", "鱼", "河", "马", "奶", " ", "  "]
)
_prompts = st.lists(_pieces, min_size=1, max_size=30).map(" ".join).filter(str.strip)


def _in_order(text: str, pieces: list[str]) -> bool:
    """Whether ``pieces`` occur in ``text`` in this order without overlapping."""
    position = 0
    for piece in pieces:
        found = text.find(piece, position)
        if found < 0:
            return False
        position = found + len(piece)
    return True


@given(parent=_prompts, child=_prompts)
def test_diff_is_consistent(parent: str, child: str) -> None:
    diff = diff_prompts(parent, child)
    assert 0.0 <= diff.similarity <= 1.0
    if tokenize(parent) == tokenize(child):
        assert diff.ops == ()
        assert diff.variant_key == NO_CHANGE
    else:
        assert diff.ops
        assert diff.variant_key == variant_key(diff.ops)
    for op in diff.ops:
        assert op.before or op.after
        assert op.op == (
            "replace" if op.before and op.after else "insert" if op.after else "delete"
        )
    assert _in_order(parent, [op.before for op in diff.ops if op.before])
    assert _in_order(child, [op.after for op in diff.ops if op.after])
    # The tokens outside the ops are the same run in both prompts.
    kept_parent = len(tokenize(parent)) - sum(len(tokenize(op.before)) for op in diff.ops)
    kept_child = len(tokenize(child)) - sum(len(tokenize(op.after)) for op in diff.ops)
    assert kept_parent == kept_child
    total = len(tokenize(parent)) + len(tokenize(child))
    assert diff.similarity == pytest.approx(2 * kept_parent / total, abs=1e-4)


@pytest.mark.parametrize("extra", [0, 300, 3900])
def test_cached_and_uncached_pairs_give_the_same_diff(extra: int) -> None:
    # Pairs up to 512 characters together come from the cache, longer ones
    # are computed each time: both must give the diff the prompts call for.
    tail = " and the garden" * (extra // 15)
    parent = "A grandmother chases a crocodile out of the yard" + tail
    child = "A grandmother chases a hippo out of the yard" + tail
    first = diff_fields(parent, child)
    assert first == diff_fields(parent, child)
    assert first.variant_key == "crocodile→hippo"
    assert first.ops == (("replace", "crocodile", "hippo"),)
    assert first.similarity == round(
        2 * (len(tokenize(parent)) - 1) / (2 * len(tokenize(parent))), 4
    )
