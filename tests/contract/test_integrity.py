"""Refusals: each names the ids, carries the contract's code, and changes nothing."""

from __future__ import annotations

import json

import pytest

from lineage.errors import ErrorCode
from lineage.importing.records import SourcedRecord
from lineage.store import LineageStore

from ..lineage_snapshot import snapshot

ORIGINAL = {"id": "grandma", "prompt": "A grandmother chases a crocodile out of the yard"}
HIPPO = {
    "id": "hippo",
    "parent_id": "grandma",
    "prompt": "A grandmother chases a hippo out of the yard",
}
HIPPO_NIGHT = {
    "id": "hippo-night",
    "parent_id": "hippo",
    "prompt": "A grandmother chases a hippo out of the yard at night",
}


def _records(*records: dict[str, object]) -> list[SourcedRecord]:
    return [SourcedRecord(json.dumps(r), "input.jsonl", n) for n, r in enumerate(records, 1)]


@pytest.fixture
def seeded(store: LineageStore) -> LineageStore:
    report = store.import_videos(_records(ORIGINAL, HIPPO, HIPPO_NIGHT))
    assert (report.added, report.rejected) == (3, [])
    return store


REFUSALS = [
    pytest.param(
        {"id": "tank", "parent_id": "nobody", "prompt": "A grandmother chases a tank"},
        ErrorCode.NOT_FOUND,
        r"parent 'nobody' of 'tank' is unknown",
        id="unknown-parent",
    ),
    pytest.param(
        {"id": "loop", "parent_id": "loop", "prompt": "A grandmother chases herself"},
        ErrorCode.CYCLE,
        r"video 'loop' cannot be a remix of itself",
        id="self-remix",
    ),
    pytest.param(
        {**HIPPO, "parent_id": "hippo-night"},
        ErrorCode.CONFLICT,
        r"video 'hippo' already has parent 'grandma', this record says 'hippo-night'",
        id="same-id-other-parent",
    ),
    pytest.param(
        {**HIPPO, "prompt": "A grandmother chases a giraffe out of the yard"},
        ErrorCode.CONFLICT,
        r"video 'hippo' already has a different prompt",
        id="same-id-other-prompt",
    ),
    pytest.param(
        {**ORIGINAL, "parent_id": "hippo-night"},
        ErrorCode.CONFLICT,
        r"video 'grandma' already has parent None, this record says 'hippo-night'",
        id="original-made-a-remix-of-its-descendant",
    ),
    pytest.param(
        {"id": "bad id!", "prompt": "x"},
        ErrorCode.INVALID_INPUT,
        r"id must be 1 to 128 characters",
        id="bad-id",
    ),
    pytest.param(
        {"id": "v", "prompt": "   "},
        ErrorCode.INVALID_INPUT,
        r"prompt must not be empty",
        id="blank-prompt",
    ),
    pytest.param(
        {"id": "v", "prompt": "x" * 4001},
        ErrorCode.INVALID_INPUT,
        r"prompt is longer than 4,000 characters",
        id="long-prompt",
    ),
    pytest.param(
        {"id": "v", "prompt": "x", "likes": -1},
        ErrorCode.INVALID_INPUT,
        r"likes: Input should be greater than or equal to 0",
        id="negative-likes",
    ),
    pytest.param(
        {"id": "v", "prompt": "x", "created_at": "2025-10-02 08:00"},
        ErrorCode.INVALID_INPUT,
        r"created_at must be an RFC 3339 date-time",
        id="bad-time",
    ),
    pytest.param(
        {"id": "v", "prompt": "x", "created_at": "2025-10-02T08:00:00"},
        ErrorCode.INVALID_INPUT,
        r"created_at must be an RFC 3339 date-time",
        id="time-without-offset",
    ),
    pytest.param(
        {"id": "v", "prompt": "x", "created_at": "2025-1a-02T08:00:00Z"},
        ErrorCode.INVALID_INPUT,
        r"created_at must be an RFC 3339 date-time",
        id="usual-layout-bad-digit",
    ),
    pytest.param(
        {"id": "v", "prompt": "x", "created_at": "2025-13-02T08:00:00Z"},
        ErrorCode.INVALID_INPUT,
        r"month must be in 1\.\.12",
        id="usual-layout-bad-month",
    ),
    pytest.param({"prompt": "x"}, ErrorCode.INVALID_INPUT, r"id is required", id="missing-id"),
]


@pytest.mark.parametrize(("record", "code", "message"), REFUSALS)
def test_refusal_changes_nothing(
    seeded: LineageStore, record: dict[str, object], code: str, message: str
) -> None:
    before = snapshot(seeded)
    report = seeded.import_videos(_records(record))
    assert report.added == 0
    assert len(report.rejected) == 1
    rejection = report.rejected[0]
    assert rejection.code == code
    assert rejection.line == 1
    assert rejection.source == "input.jsonl"
    import re

    assert re.search(message, rejection.reason), rejection.reason
    assert snapshot(seeded) == before


def test_cycle_within_one_file_is_refused_with_its_descendants(seeded: LineageStore) -> None:
    before = snapshot(seeded)
    report = seeded.import_videos(
        _records(
            {"id": "a", "parent_id": "c", "prompt": "a"},
            {"id": "b", "parent_id": "a", "prompt": "b"},
            {"id": "c", "parent_id": "b", "prompt": "c"},
            {"id": "d", "parent_id": "c", "prompt": "d"},
            {"id": "fine", "parent_id": "hippo", "prompt": "A grandmother chases a hippo"},
        )
    )
    assert report.added == 1
    by_id = {r.video_id: r for r in report.rejected}
    assert set(by_id) == {"a", "b", "c", "d"}
    for member in "abc":
        assert by_id[member].code == ErrorCode.CYCLE
        assert "remix cycle: 'a' → 'c' → 'b' → 'a'" in by_id[member].reason or (
            "remix cycle" in by_id[member].reason
        )
        for name in "abc":
            assert f"'{name}'" in by_id[member].reason
    assert "ancestor 'c' was rejected: remix cycle" in by_id["d"].reason
    assert [r.line for r in report.rejected] == [1, 2, 3, 4]
    after = snapshot(seeded)
    assert set(after["videos"]) == set(before["videos"]) | {"fine"}
    assert seeded.get_video("grandma").derivative_count == 3  # type: ignore[union-attr]


def test_descendants_of_a_rejected_record_are_rejected(seeded: LineageStore) -> None:
    before = snapshot(seeded)
    report = seeded.import_videos(
        _records(
            {"id": "kid", "parent_id": "bad", "prompt": "a kid"},
            {"id": "bad", "parent_id": "nobody", "prompt": "orphan"},
            {"id": "grandkid", "parent_id": "kid", "prompt": "a grandkid"},
        )
    )
    reasons = {r.video_id: (r.code, r.reason) for r in report.rejected}
    assert reasons["bad"][0] == ErrorCode.NOT_FOUND
    assert reasons["kid"][1].startswith("ancestor 'bad' was rejected: parent 'nobody'")
    assert reasons["grandkid"][1].startswith("ancestor 'bad' was rejected")
    assert snapshot(seeded) == before


def test_child_of_an_invalid_line_names_that_line(seeded: LineageStore) -> None:
    report = seeded.import_videos(
        _records(
            {"id": "broken", "prompt": ""},
            {"id": "kid", "parent_id": "broken", "prompt": "a kid"},
        )
    )
    reasons = {r.video_id: r.reason for r in report.rejected}
    assert reasons["kid"] == "parent 'broken' was rejected (input.jsonl:1)"


def test_reimport_of_identical_records_changes_nothing(seeded: LineageStore) -> None:
    before = snapshot(seeded)
    report = seeded.import_videos(_records(HIPPO_NIGHT, ORIGINAL, HIPPO))
    assert (report.added, report.unchanged, report.updated, report.rejected) == (0, 3, 0, [])
    assert snapshot(seeded) == before


def test_reimport_with_new_counters_updates_metadata_only(seeded: LineageStore) -> None:
    before = snapshot(seeded)
    report = seeded.import_videos(_records({**HIPPO, "likes": 42, "title": "Hippo!"}))
    assert (report.added, report.updated, report.unchanged) == (0, 1, 0)
    hippo = seeded.get_video("hippo")
    assert hippo is not None
    assert (hippo.likes, hippo.title) == (42, "Hippo!")
    after = snapshot(seeded)
    assert after["rows"] == before["rows"]
    assert after["generation_counts"] == before["generation_counts"]
    assert after["variant_groups"] == before["variant_groups"]


def test_repeated_line_in_one_input(store: LineageStore) -> None:
    report = store.import_videos(
        _records(ORIGINAL, ORIGINAL, {**ORIGINAL, "prompt": "something else"})
    )
    assert (report.added, report.unchanged) == (1, 1)
    assert len(report.rejected) == 1
    assert report.rejected[0].code == ErrorCode.CONFLICT
    assert report.rejected[0].line == 3
    assert "(from input.jsonl:1)" in report.rejected[0].reason


def test_atomic_import_writes_nothing_when_one_record_is_bad(seeded: LineageStore) -> None:
    before = snapshot(seeded)
    report = seeded.import_videos(
        _records(
            {"id": "giraffe", "parent_id": "grandma", "prompt": "A grandmother chases a giraffe"},
            {"id": "tank", "parent_id": "nobody", "prompt": "A tank"},
        ),
        atomic=True,
    )
    assert report.written is False
    assert len(report.rejected) == 1
    assert snapshot(seeded) == before


def test_invalid_json_line(store: LineageStore) -> None:
    report = store.import_videos([SourcedRecord('{"id": "v", "prompt": ', "in.jsonl", 4)])
    assert report.rejected[0].reason.startswith("invalid JSON")
    assert report.rejected[0].line == 4
    report = store.import_videos([SourcedRecord("[1, 2]", "in.jsonl", 5)])
    assert report.rejected[0].reason == "a record must be a JSON object"
    assert store.count_videos() == 0


def test_failed_write_rolls_back_everything(
    seeded: LineageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash half-way through writing a plan leaves the store as it was."""
    from lineage.importing.plan import ImportPlan

    before = snapshot(seeded)

    def exploding(plan: ImportPlan) -> object:
        raise RuntimeError("disk full")

    monkeypatch.setattr(ImportPlan, "variant_group_rows", exploding)
    with pytest.raises(RuntimeError, match="disk full"):
        seeded.import_videos(
            _records({"id": "giraffe", "parent_id": "hippo", "prompt": "a giraffe"})
        )
    assert snapshot(seeded) == before


def test_a_nul_character_in_a_prompt_is_refused_by_name(seeded: LineageStore) -> None:
    # SQLite's length() stops at a NUL: such a prompt once reached the write and failed there.
    before = snapshot(seeded)
    report = seeded.import_videos(
        [SourcedRecord({"id": "nul", "prompt": "a\x00b"}, "nul.jsonl", 1)], atomic=True
    )
    assert [rejection.reason for rejection in report.rejected] == [
        "prompt: contains a NUL character"
    ]
    assert snapshot(seeded) == before
