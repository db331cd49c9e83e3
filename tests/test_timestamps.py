"""RFC 3339 times on input: the usual ``...Z`` form and the full pattern agree."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lineage.models import VideoInput


def created_at(text: str) -> datetime | None:
    return VideoInput.model_validate({"id": "v", "prompt": "x", "created_at": text}).created_at


@pytest.mark.parametrize(
    "text",
    [
        "2025-10-02T08:00:00Z",  # the usual form, parsed without the pattern
        "2025-10-02T08:00:00z",
        "2025-10-02t08:00:00Z",
        "2025-10-02 08:00:00Z",
        "2025-10-02T08:00:00+00:00",
        "2025-10-02T10:00:00+02:00",
        "2025-10-02T08:00:00.000000000Z",
    ],
)
def test_every_form_of_one_moment_is_the_same_utc_time(text: str) -> None:
    moment = created_at(text)
    assert moment == datetime(2025, 10, 2, 8, tzinfo=UTC)
    assert moment is not None
    assert moment.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2025-1a-02T08:00:00Z", "must be an RFC 3339 date-time"),
        ("2025-10-0٢T08:00:00Z", "must be an RFC 3339 date-time"),  # a non-ASCII digit
        ("٢٠٢٥-10-02 08:00:00+00:00", "must be an RFC 3339 date-time"),
        ("2025-W40-4T08:00:00Z", "must be an RFC 3339 date-time"),  # ISO week date
        ("2025-10-02T08:00:60Z", "second must be in 0..59"),
        ("2025-10-02T08:00:00", "must be an RFC 3339 date-time"),  # no offset
    ],
)
def test_malformed_times_are_refused_with_the_problem(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        created_at(text)
