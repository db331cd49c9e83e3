"""Validation: each input record becomes a :class:`~lineage.models.VideoInput` or a rejection.

A record is a JSON line, a mapping (a platform's video object included) or
an already validated :class:`~lineage.models.VideoInput`. :func:`validate`
checks one and words pydantic's errors for people (the friendly messages);
:func:`validated` checks a batch ahead of planning; :func:`peek_ids` reads a
record's ``id`` and ``parent_id`` without validating the rest, for grouping
and locking.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping

import orjson
from pydantic import ValidationError

from lineage.errors import ErrorCode
from lineage.importing.platform import from_platform
from lineage.importing.records import Rejection, SourcedRecord
from lineage.models import MAX_PROMPT_LENGTH, VideoInput
from lineage.text import json_error

__all__ = ["peek_ids", "validate", "validated"]

_FRIENDLY = {
    ("id", "string_pattern_mismatch"): "id must be 1 to 128 characters of letters, digits, _ . : -",
    ("parent_id", "string_pattern_mismatch"): (
        "parent_id must be 1 to 128 characters of letters, digits, _ . : -"
    ),
    ("prompt", "string_too_short"): "prompt must not be empty",
    ("prompt", "too_short"): "prompt must not be empty",
    ("prompt", "string_too_long"): f"prompt is longer than {MAX_PROMPT_LENGTH:,} characters",
    ("prompt", "too_long"): f"prompt is longer than {MAX_PROMPT_LENGTH:,} characters",
}


def _describe(error: ValidationError) -> str:
    parts = []
    for detail in error.errors(include_url=False):
        location = ".".join(str(part) for part in detail["loc"])
        kind = detail["type"]
        if kind == "json_invalid":
            parts.append(
                f"invalid JSON: {json_error(detail['msg'].removeprefix('Invalid JSON: '))}"
            )
        elif kind == "model_type" or kind == "model_attributes_type":
            parts.append("a record must be a JSON object")
        elif kind == "missing":
            parts.append(f"{location} is required")
        elif (location, kind) in _FRIENDLY:
            parts.append(_FRIENDLY[(location, kind)])
        else:
            message = detail["msg"].removeprefix("Value error, ")
            parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts)


def _peek_id(data: object) -> str | None:
    """The record's id, when it can be read at all (for error reports)."""
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):  # not JSON, or nested too deeply to read
            return None
    if isinstance(data, Mapping):
        value = data.get("id")
        return value if isinstance(value, str) else None
    return None


def peek_ids(data: object) -> tuple[str | None, str | None]:
    """A record's ``id`` and ``parent_id`` as far as they can be read, without
    validating the rest (for grouping and locking; the planner validates).

    ``data`` is what a :class:`SourcedRecord` carries: a
    :class:`~lineage.models.VideoInput`, a JSON line or a mapping (a
    platform's video object included).

    Examples
    --------
    >>> peek_ids('{"id": "b", "parent_id": "a", "prompt": "x"}')
    ('b', 'a')
    >>> peek_ids({"id": 7})
    (None, None)
    """
    if isinstance(data, VideoInput):
        return data.id, data.parent_id
    if isinstance(data, str | bytes):
        try:
            data = orjson.loads(data)
        except orjson.JSONDecodeError:
            return None, None
    if not isinstance(data, Mapping):
        return None, None
    video_id, parent_id = data.get("id"), data.get("parent_id")
    if data.get("object") == "video":
        parent_id = data.get("remixed_from_video_id")
    if not isinstance(video_id, str):
        return None, None
    return video_id, parent_id if isinstance(parent_id, str) else None


def validated(records: Iterable[SourcedRecord]) -> list[SourcedRecord]:
    """The records with each valid one's data as its :class:`~lineage.models.VideoInput`
    (invalid ones are left as they are, for the planner to report)."""
    checked = []
    for record in records:
        video = validate(record)
        checked.append(
            record
            if isinstance(video, Rejection)
            else SourcedRecord(video, record.source, record.line)
        )
    return checked


# The model's own validator, called without model_validate_json's wrapper
# (about 4,500 of the 55,000 instructions a line costs to read).
_validate_json: Callable[[str | bytes], VideoInput] = (
    VideoInput.__pydantic_validator__.validate_json
)


def validate(record: SourcedRecord) -> VideoInput | Rejection:
    """The record's data as a :class:`~lineage.models.VideoInput`, or why it is refused."""
    data = record.data
    try:
        if isinstance(data, VideoInput):
            return data
        if isinstance(data, str | bytes):
            plain = '"object"' not in data if isinstance(data, str) else b'"object"' not in data
            if plain:
                return _validate_json(data)
            data = orjson.loads(data)  # perhaps a platform's video object
        return VideoInput.model_validate(from_platform(data))
    except orjson.JSONDecodeError as error:
        reason = f"invalid JSON: {json_error(str(error))}"
    except ValidationError as error:
        reason = _describe(error)
    except ValueError as error:  # a platform's object that cannot be imported
        reason = str(error)
    return Rejection(record.source, record.line, _peek_id(data), ErrorCode.INVALID_INPUT, reason)
