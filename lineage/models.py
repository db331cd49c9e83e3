"""Domain models: videos, remix edges and prompt diffs.

The validation rules are those of the contract (``shared/contract.md``):
ids of 1 to 128 characters of ASCII letters, digits and ``_ . : -``;
prompts of 1 to 4,000 characters after trimming; non-negative counters;
RFC 3339 timestamps with an explicit offset.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

__all__ = [
    "MAX_PROMPT_LENGTH",
    "DiffOp",
    "GenerationCount",
    "PromptDiff",
    "RemixEdge",
    "Video",
    "VideoId",
    "VideoInput",
    "VideoRecord",
    "built",
    "epoch_micros",
    "format_timestamp",
    "from_epoch_micros",
    "hour_of",
]

MAX_ID_LENGTH = 128
MAX_PROMPT_LENGTH = 4000
ID_PATTERN = r"^[A-Za-z0-9_.:\-]{1,128}$"

# RFC 3339 date-time: a full date, "T" (or space, which RFC 3339 allows),
# a full time and a mandatory offset. ``datetime.fromisoformat`` alone would
# also accept naive times and bare dates.
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$",
    re.ASCII,  # digits 0-9 only, as RFC 3339 has them
)


def _parse_rfc3339(value: object) -> object:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("created_at must carry a time zone offset (RFC 3339)")
        return value.astimezone(UTC)
    if (
        isinstance(value, str)
        and len(value) == 20
        and value[19] == "Z"
        and value[10] == "T"
        and value[4] == value[7] == "-"
        and value[13] == value[16] == ":"
        and value[:4].isdigit()
    ):
        # The usual form, 2025-10-02T08:00:00Z, without the pattern: the
        # separators fix RFC 3339's layout and fromisoformat checks the digits.
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass  # the full check below names the problem
    matched = _RFC3339.match(value) if isinstance(value, str) else None
    if matched is None:
        raise ValueError(
            f"created_at must be an RFC 3339 date-time such as 2025-10-02T08:00:00Z, got {value!r}"
        )
    text = matched.string.upper().replace(" ", "T")
    fraction = matched.group(1)
    if fraction and len(fraction) > 7:  # Python keeps microseconds
        text = text.replace(fraction, fraction[:7], 1)
    return datetime.fromisoformat(text).astimezone(UTC)


def _trim_prompt(value: object) -> object:
    if not isinstance(value, str):
        return value
    # SQLite's length() stops at a NUL, and no prompt needs one.
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    return value.strip()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_micros(moment: datetime) -> int:
    """Microseconds since the Unix epoch, exactly (no float rounding)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_epoch_micros(micros: int) -> datetime:
    """The inverse of :func:`epoch_micros`, in UTC."""
    return _EPOCH + timedelta(microseconds=micros)


def hour_of(moment: datetime) -> int:
    """The UTC hour that holds ``moment``, as hours since the Unix epoch."""
    return epoch_micros(moment) // 3_600_000_000


def format_timestamp(moment: datetime | None) -> str | None:
    """Render a stored time the way the JSONL format writes it (UTC, ``Z``)."""
    if moment is None:
        return None
    text = moment.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


VideoId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
# The constraints come before the trim in this list so that pydantic checks them
# in its core, on the trimmed text (listed after a function validator, they
# would each run as a Python call).
Prompt = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_PROMPT_LENGTH),
    BeforeValidator(_trim_prompt),
]
# Stored as 64-bit integers by both stores: larger counts are refused on input.
Counter = Annotated[int, Field(ge=0, le=2**63 - 1, strict=True)]
Timestamp = Annotated[datetime, BeforeValidator(_parse_rfc3339)]
OptionalText = Annotated[str | None, AfterValidator(lambda v: v or None)]


class VideoInput(BaseModel):
    """One video as a client or a JSONL line supplies it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: VideoId
    prompt: Prompt
    parent_id: VideoId | None = None
    title: OptionalText = None
    creator: OptionalText = None
    created_at: Timestamp | None = None
    likes: Counter = 0
    views: Counter = 0
    # Rights (see lineage.rights.policy): a removed video comes with its reason.
    status: Literal["ACTIVE", "REMOVED"] = "ACTIVE"
    removed_reason: OptionalText = None
    removed_at: Timestamp | None = None
    c2pa_manifest: OptionalText = None

    @model_validator(mode="after")
    def _removed_has_reason(self) -> VideoInput:
        if self.status == "REMOVED" and not self.removed_reason:
            raise ValueError("a REMOVED video needs a removed_reason")
        if self.status == "ACTIVE" and (self.removed_reason or self.removed_at):
            raise ValueError("removed_reason and removed_at are only for status REMOVED")
        return self

    def same_lineage(self, other: VideoInput | VideoRecord) -> bool:
        """Whether ``other`` has this video's parent and prompt."""
        return self.parent_id == other.parent_id and self.prompt == other.prompt

    def same_metadata(self, other: VideoInput | VideoRecord) -> bool:
        """Whether ``other`` has this video's title, creator, time and counters."""
        return (
            self.title == other.title
            and self.creator == other.creator
            and self.created_at == other.created_at
            and self.likes == other.likes
            and self.views == other.views
        )


class DiffOp(BaseModel):
    """One change between a parent's prompt and its remix's prompt."""

    model_config = ConfigDict(frozen=True)

    op: Literal["replace", "insert", "delete"]
    before: str
    after: str


class PromptDiff(BaseModel):
    """The prompt diff carried by a remix edge, from parent prompt to child prompt."""

    model_config = ConfigDict(frozen=True)

    summary: str
    variant_key: str
    similarity: Annotated[float, Field(ge=0.0, le=1.0)]
    ops: tuple[DiffOp, ...] = ()


class GenerationCount(BaseModel):
    """How many derivatives of a video sit in one (absolute) generation."""

    model_config = ConfigDict(frozen=True)

    generation: int
    count: int


class VideoRecord(BaseModel):
    """A stored video with its maintained lineage aggregates."""

    model_config = ConfigDict(frozen=True)

    id: str
    prompt: str
    parent_id: str | None = None
    title: str | None = None
    creator: str | None = None
    created_at: datetime | None = None
    likes: int = 0
    views: int = 0
    generation: int = 0
    original_id: str
    derivative_count: int = 0
    direct_remix_count: int = 0
    tree_depth: int = 0
    # Its own likes and views plus those of all its derivatives.
    subtree_likes: int = 0
    subtree_views: int = 0
    # The diff of the edge to the parent; None for an original.
    prompt_diff: PromptDiff | None = None

    @property
    def is_original(self) -> bool:
        return self.parent_id is None


Video = VideoRecord


class RemixEdge(BaseModel):
    """A remix edge: from the remix (``child_id``) to its parent."""

    model_config = ConfigDict(frozen=True)

    child_id: str
    parent_id: str
    prompt_diff: PromptDiff


M = TypeVar("M", bound=BaseModel)


def built(model: type[M], values: dict[str, Any]) -> M:
    """An instance of ``model`` from ``values`` the store already checked, unvalidated.

    ``values`` must name every field of ``model`` (in its field order). This
    is what ``model_construct`` makes, at a fraction of its cost (it looks
    up every field's default and alias): the read paths build a record per
    video they return, and a lineage query returns dozens.
    """
    instance = model.__new__(model)
    object.__setattr__(instance, "__dict__", values)
    object.__setattr__(instance, "__pydantic_fields_set__", set(values))
    object.__setattr__(instance, "__pydantic_extra__", None)
    object.__setattr__(instance, "__pydantic_private__", None)
    return instance
