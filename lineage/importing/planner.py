"""Import planning: validate records, resolve their lineage and compute aggregates.

Every write, a single remix from the API as much as a million-line JSONL
file, goes through :func:`plan_import`. The planner is backend-independent:
it reads the store only through a :class:`~lineage.store.ReadView` bound to
the write transaction, looks up nothing but the ids the input names, and
returns an :class:`ImportPlan` that the backend writes in the same
transaction. A rejected record is never part of the plan, so it cannot touch
stored data or any aggregate.

Records may come in any order: a remix may come before its parent, and a
parent may already be stored. Every input line is counted exactly once, as
added, updated (same lineage, new title/creator/time/counters), unchanged or
rejected.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, NamedTuple

import orjson
from pydantic import ValidationError

from lineage.diff import diff_fields
from lineage.errors import ErrorCode
from lineage.importing.platform import from_platform
from lineage.models import MAX_PROMPT_LENGTH, VideoInput, VideoRecord, epoch_micros, hour_of
from lineage.rights.plan import RightsPlan, plan_rights
from lineage.store import PathNode, ReadView
from lineage.text import json_error

__all__ = [
    "ImportPlan",
    "ImportReport",
    "Rejection",
    "SourcedRecord",
    "iter_jsonl",
    "peek_ids",
    "plan_import",
    "sort_rejections",
    "split_by_lineage",
    "validated",
]

# Lookups against the store are sent in chunks of this many ids.
LOOKUP_CHUNK = 500

# (id, parent_id, prompt, title, creator, created_at, likes, views)
_Fields = tuple[str, str | None, str, str | None, str | None, datetime | None, int, int]

# The columns of a new video row, in the order ImportPlan.video_rows yields them.
NEW_VIDEO_COLUMNS = (
    "id",
    "parent_id",
    "prompt",
    "title",
    "creator",
    "created_us",  # microseconds since the epoch (models.epoch_micros), as both stores keep it
    "likes",
    "views",
    "generation",
    "original_id",
    "derivative_count",
    "direct_remix_count",
    "tree_depth",
    "diff_summary",
    "variant_key",
    "similarity",
    "diff_ops",
    "subtree_likes",
    "subtree_views",
)
NewVideoRow = tuple[
    str,
    str | None,
    str,
    str | None,
    str | None,
    int | None,
    int,
    int,
    int,
    str,
    int,
    int,
    int,
    str | None,
    str | None,
    float | None,
    str | None,
    int,
    int,
]

_ROOT = -1  # an original
_EXTERNAL = -2  # the parent is already stored


class SourcedRecord(NamedTuple):
    """One input record and where it came from (for error reports).

    A named tuple rather than a frozen dataclass: one is made per input line,
    and a frozen dataclass sets each field through ``object.__setattr__``.
    """

    data: str | bytes | Mapping[str, object] | VideoInput
    source: str = ""
    line: int = 0


@dataclass(frozen=True, slots=True)
class Rejection:
    """A refused record: where it was, which id, the contract code and why."""

    source: str
    line: int
    video_id: str | None
    code: str
    reason: str

    @property
    def location(self) -> str:
        if self.line:
            return f"{self.source}:{self.line}" if self.source else f"line {self.line}"
        return self.source or "input"

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


@dataclass(slots=True)
class ImportReport:
    """What an import did; every input line is counted exactly once."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    # False when --atomic refused the whole input.
    written: bool = True

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged + len(self.rejected)

    def add(self, other: ImportReport) -> None:
        """Count another part of the same input into this report."""
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected += other.rejected


def iter_jsonl(stream: IO[bytes] | IO[str], source: str) -> Iterator[SourcedRecord]:
    """Yield the non-blank lines of a JSONL stream as :class:`SourcedRecord`."""
    lines: Iterable[str | bytes] = stream
    for number, line in enumerate(lines, start=1):
        if line and not line.isspace():  # no stripped copy of every line
            yield SourcedRecord(line, source, number)


# -- validation --------------------------------------------------------------

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
        video = _validate(record)
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


def _validate(record: SourcedRecord) -> VideoInput | Rejection:
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


def _fields(video: VideoInput) -> _Fields:
    return (
        video.id,
        video.parent_id,
        video.prompt,
        video.title,
        video.creator,
        video.created_at,
        video.likes,
        video.views,
    )


def _lineage_conflict(video_id: str, ours: _Fields, theirs: _Fields | VideoRecord) -> str | None:
    their_parent, their_prompt = (
        (theirs.parent_id, theirs.prompt)
        if isinstance(theirs, VideoRecord)
        else (theirs[1], theirs[2])
    )
    if ours[1] != their_parent:
        return (
            f"video {video_id!r} already has parent {their_parent!r}, this record says {ours[1]!r}"
        )
    if ours[2] != their_prompt:
        return f"video {video_id!r} already has a different prompt"
    return None


def _metadata(values: _Fields | VideoRecord) -> tuple[object, ...]:
    if isinstance(values, VideoRecord):
        return (values.title, values.creator, values.created_at, values.likes, values.views)
    return values[3:]


# -- the plan ----------------------------------------------------------------


@dataclass(slots=True)
class _ExistingDelta:
    derivative_count: int = 0
    direct_remix_count: int = 0
    tree_depth_floor: int = 0
    generation_counts: dict[int, int] = field(default_factory=dict)
    # Increments of its own likes/views and of its subtree totals.
    likes: int = 0
    views: int = 0
    subtree_likes: int = 0
    subtree_views: int = 0
    # Remixes per UTC hour below it: {hour: increment}; its parent's id ('' for an original).
    hours: dict[int, int] = field(default_factory=dict)
    parent_key: str = ""

    @property
    def lineage_changed(self) -> bool:
        """Whether the counts, depth or per-generation counts change (not only engagement)."""
        return bool(
            self.derivative_count
            or self.direct_remix_count
            or self.tree_depth_floor
            or self.generation_counts
        )


@dataclass(slots=True)
class ImportPlan:
    """Everything a backend writes for one import, aggregates included.

    New videos are kept as compact tuples and indexed by position; ``order``
    lists them parents first, which is the order they must be written in.
    """

    fields: list[_Fields] = field(default_factory=list)
    parent_index: list[int] = field(default_factory=list)
    order: list[int] = field(default_factory=list)
    generation: list[int] = field(default_factory=list)
    original_id: list[str] = field(default_factory=list)
    derivative_count: list[int] = field(default_factory=list)
    direct_remix_count: list[int] = field(default_factory=list)
    tree_depth: list[int] = field(default_factory=list)
    # Only videos with derivatives have an entry: {generation: count}.
    generation_counts: dict[int, dict[int, int]] = field(default_factory=dict)
    # The same videos' derivatives' views: {generation: views} (lineage.rights.plan).
    generation_views: dict[int, dict[int, int]] = field(default_factory=dict)
    # Stored parents that receive new remixes: id -> prompt.
    external_prompts: dict[str, str] = field(default_factory=dict)
    existing: dict[str, _ExistingDelta] = field(default_factory=dict)
    # (parent id, variant key) -> [remix count, reach] increments.
    variant_groups: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    metadata_updates: dict[str, _Fields] = field(default_factory=dict)
    # Takedown state, removed-derivative counts and per-generation views (lineage.rights.plan).
    rights: RightsPlan = field(default_factory=RightsPlan)
    # New videos' own plus derivatives' likes and views, by position.
    subtree_likes: list[int] = field(default_factory=list)
    subtree_views: list[int] = field(default_factory=list)
    # New videos with timed derivatives: position -> {UTC hour: remixes}.
    hour_counts: dict[int, dict[int, int]] = field(default_factory=dict)
    # Stored videos named by the input: id -> (likes, views, created_at) as stored.
    stored_counters: dict[str, tuple[int, int, datetime | None]] = field(default_factory=dict)
    # Stored parents of new remixes: id -> its lineage path (lineage.tree.descendants reads it).
    ancestor_paths: dict[str, list[PathNode]] = field(default_factory=dict)

    @property
    def new_video_count(self) -> int:
        return len(self.order)

    @property
    def is_empty(self) -> bool:
        return not self.order and not self.metadata_updates

    def video_rows(self, batch_size: int = 5000) -> Iterator[list[NewVideoRow]]:
        """Yield the new videos' rows, parents first, with their prompt diffs.

        Diffs are computed here, batch by batch, so they are never all held
        in memory; the variant-group increments of the new remixes are
        collected on the way, so write :meth:`variant_group_rows` after this
        generator is exhausted.
        """
        fields, parent_index = self.fields, self.parent_index
        groups = self.variant_groups
        batch: list[NewVideoRow] = []
        for index in self.order:
            video_id, parent_id, prompt, title, creator, created_at, likes, views = fields[index]
            parent = parent_index[index]
            summary = key = ops = None
            similarity = None
            if parent_id is not None:
                parent_prompt = (
                    fields[parent][2] if parent >= 0 else self.external_prompts[parent_id]
                )
                summary, key, similarity, diff_ops = diff_fields(parent_prompt, prompt)
                ops = orjson.dumps(diff_ops).decode()
                group = groups.get((parent_id, key))
                if group is None:
                    groups[(parent_id, key)] = [1, 1 + self.derivative_count[index]]
                else:
                    group[0] += 1
                    group[1] += 1 + self.derivative_count[index]
            batch.append(
                (
                    video_id,
                    parent_id,
                    prompt,
                    title,
                    creator,
                    None if created_at is None else epoch_micros(created_at),
                    likes,
                    views,
                    self.generation[index],
                    self.original_id[index],
                    self.derivative_count[index],
                    self.direct_remix_count[index],
                    self.tree_depth[index],
                    summary,
                    key,
                    similarity,
                    ops,
                    self.subtree_likes[index],
                    self.subtree_views[index],
                )
            )
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def generation_count_rows(self) -> Iterator[tuple[str, int, int]]:
        """(video id, generation, increment) for new and stored videos alike."""
        fields = self.fields
        for index, counts in self.generation_counts.items():
            video_id = fields[index][0]
            for generation, count in counts.items():
                yield video_id, generation, count
        for video_id, delta in self.existing.items():
            for generation, count in delta.generation_counts.items():
                yield video_id, generation, count

    def existing_video_deltas(self) -> Iterator[tuple[int, int, int, str]]:
        """(derivative increment, direct remix increment, tree depth floor, id)."""
        for video_id, delta in self.existing.items():
            if not delta.lineage_changed:
                continue
            yield (
                delta.derivative_count,
                delta.direct_remix_count,
                delta.tree_depth_floor,
                video_id,
            )

    def engagement_rows(self) -> Iterator[tuple[int, int, int, int, str]]:
        """Stored videos' (likes, views, subtree likes, subtree views) increments, and id."""
        for video_id, delta in self.existing.items():
            if delta.likes or delta.views or delta.subtree_likes or delta.subtree_views:
                yield delta.likes, delta.views, delta.subtree_likes, delta.subtree_views, video_id

    def hour_rows(self) -> Iterator[tuple[str, int, str, int]]:
        """(video id, UTC hour, parent id or '', remix count increment), new and stored."""
        fields = self.fields
        for index, hours in self.hour_counts.items():
            video_id, parent_id = fields[index][0], fields[index][1] or ""
            for hour, count in hours.items():
                yield video_id, hour, parent_id, count
        for video_id, delta in self.existing.items():
            for hour, count in delta.hours.items():
                if count:
                    yield video_id, hour, delta.parent_key, count

    def variant_group_rows(self) -> Iterator[tuple[str, str, int, int]]:
        """(parent id, variant key, remix count increment, reach increment)."""
        for (parent_id, key), (remix_count, reach) in self.variant_groups.items():
            yield parent_id, key, remix_count, reach


class _Planner:
    """Builds an :class:`ImportPlan` from records; one instance per import."""

    def __init__(self, view: ReadView) -> None:
        self.view = view
        self.plan = ImportPlan()
        self.report = ImportReport()
        self.index: dict[str, int] = {}
        self.where: list[tuple[str, int]] = []
        # Later lines that repeat an id: (first index, source, line, fields).
        self.repeats: list[tuple[int, str, int, _Fields]] = []
        self.rejected_index: dict[int, str] = {}  # index -> reason (new records)
        self.invalid_ids: dict[str, tuple[str, int]] = {}  # ids of lines that failed validation
        self.stored_indexes: set[int] = set()
        self._paths: dict[str, list[PathNode]] = {}
        # Rights fields of the input's records (first line of each id), when not the defaults.
        self.extras: dict[str, tuple[str, str | None, datetime | None, str | None]] = {}
        # Stored parents that are removed: new remixes of them are refused.
        self.removed_parents: set[str] = set()

    def reject(self, source: str, line: int, video_id: str | None, code: str, reason: str) -> None:
        self.report.rejected.append(Rejection(source, line, video_id, code, reason))

    # Step 1: validate and de-duplicate the input.
    def read(self, records: Iterable[SourcedRecord]) -> None:
        fields, index, where = self.plan.fields, self.index, self.where
        for record in records:
            video = _validate(record)
            if isinstance(video, Rejection):
                self.report.rejected.append(video)
                if video.video_id is not None:
                    self.invalid_ids.setdefault(video.video_id, (record.source, record.line))
                continue
            if video.parent_id == video.id:
                self.reject(
                    record.source,
                    record.line,
                    video.id,
                    ErrorCode.CYCLE,
                    f"video {video.id!r} cannot be a remix of itself",
                )
                continue
            values = _fields(video)
            first = index.get(video.id)
            if video.status != "ACTIVE" or video.c2pa_manifest is not None:
                self.extras.setdefault(
                    video.id,
                    (video.status, video.removed_reason, video.removed_at, video.c2pa_manifest),
                )
            if first is None:
                index[video.id] = len(fields)
                fields.append(values)
                where.append((record.source, record.line))
            else:
                self.repeats.append((first, record.source, record.line, values))

    # Step 2: compare with what the store already holds.
    def compare_with_store(self) -> set[int]:
        fields = self.plan.fields
        stored_indexes: set[int] = set()
        ids = list(self.index)
        for start in range(0, len(ids), LOOKUP_CHUNK):
            stored = self.view.get_videos(ids[start : start + LOOKUP_CHUNK])
            for video_id, record in stored.items():
                position = self.index[video_id]
                stored_indexes.add(position)
                self.plan.stored_counters[video_id] = (
                    record.likes,
                    record.views,
                    record.created_at,
                )
                values = fields[position]
                conflict = _lineage_conflict(video_id, values, record)
                source, line = self.where[position]
                if conflict:
                    self.rejected_index[position] = conflict
                    self.reject(source, line, video_id, ErrorCode.CONFLICT, conflict)
                elif _metadata(values) != _metadata(record):
                    self.plan.metadata_updates[video_id] = values
                    self.report.updated += 1
                else:
                    self.report.unchanged += 1
        self.stored_indexes = stored_indexes
        return stored_indexes

    # Step 3: resolve parents, find cycles, order parents first.
    def resolve(self, stored_indexes: set[int]) -> None:
        plan, fields, index = self.plan, self.plan.fields, self.index
        count = len(fields)
        parent_index = [_ROOT] * count
        children: defaultdict[int, list[int]] = defaultdict(list)
        external: defaultdict[str, list[int]] = defaultdict(list)
        for position, values in enumerate(fields):
            if position in stored_indexes:
                continue
            parent_id = values[1]
            if parent_id is None:
                continue
            parent = index.get(parent_id)
            if parent is not None and parent not in stored_indexes:
                parent_index[position] = parent
                children[parent].append(position)
            else:
                parent_index[position] = _EXTERNAL
                external[parent_id].append(position)
        plan.parent_index = parent_index

        # Stored parents (or stored twins of rejected records) and their lineage.
        paths: dict[str, list[PathNode]] = {}
        external_ids = list(external)
        for start in range(0, len(external_ids), LOOKUP_CHUNK):
            chunk = external_ids[start : start + LOOKUP_CHUNK]
            for video_id, record in self.view.get_videos(chunk).items():
                plan.external_prompts[video_id] = record.prompt
            if not getattr(self.view, "remixes_vetted", False):
                self.removed_parents.update(
                    video_id
                    for video_id, rights in self.view.video_rights(chunk).items()
                    if rights.status == "REMOVED"
                )
        roots: list[int] = []
        attached: list[str] = []
        for parent_id, positions in external.items():
            parent_position = index.get(parent_id)
            if parent_position is not None and parent_position in self.rejected_index:
                continue  # children of a rejected record are rejected below
            if parent_position is None and parent_id in self.invalid_ids:
                continue
            if parent_id in plan.external_prompts and parent_id not in self.removed_parents:
                attached.append(parent_id)
                roots.extend(positions)
        for start in range(0, len(attached), LOOKUP_CHUNK):
            paths.update(self.view.lineage_paths(attached[start : start + LOOKUP_CHUNK]))
        roots.extend(
            position
            for position in range(count)
            if parent_index[position] == _ROOT and position not in stored_indexes
        )

        generation = [0] * count
        original_id = [""] * count
        order: list[int] = []
        queue = deque(roots)
        for position in roots:
            parent_id = fields[position][1]
            if parent_id is None:
                original_id[position] = fields[position][0]
            else:
                top = paths[parent_id][0]
                generation[position] = top.generation + 1
                original_id[position] = top.original_id
        while queue:
            position = queue.popleft()
            order.append(position)
            for child in children.get(position, ()):
                generation[child] = generation[position] + 1
                original_id[child] = original_id[position]
                queue.append(child)
        plan.order, plan.generation, plan.original_id = order, generation, original_id

        if len(order) + len(stored_indexes) < count:
            self._reject_unreached(set(order) | stored_indexes)
        self._paths = paths

    def _own_failure(self, position: int) -> tuple[str, str] | None:
        """Why a record cannot attach to its parent, or None if its parent is a new record."""
        fields, index = self.plan.fields, self.index
        parent_id = fields[position][1]
        assert parent_id is not None  # originals are always reached
        parent = index.get(parent_id)
        if parent is not None and parent in self.rejected_index:
            source, line = self.where[parent]
            return ErrorCode.INVALID_INPUT, f"parent {parent_id!r} was rejected ({source}:{line})"
        if parent is None and parent_id in self.invalid_ids:
            source, line = self.invalid_ids[parent_id]
            return ErrorCode.INVALID_INPUT, f"parent {parent_id!r} was rejected ({source}:{line})"
        if parent_id in self.removed_parents:
            return ErrorCode.FORBIDDEN, (
                f"video {parent_id!r} is REMOVED and cannot be remixed "
                f"(refused remix {fields[position][0]!r})"
            )
        if self.plan.parent_index[position] == _EXTERNAL:
            return ErrorCode.NOT_FOUND, (
                f"parent {parent_id!r} of {fields[position][0]!r} is unknown "
                f"(neither in the input nor in the store)"
            )
        return None

    def _reject_unreached(self, reached: set[int]) -> None:
        """Explain every record no valid root reaches: a cycle, or a bad parent up its chain."""
        fields, index = self.plan.fields, self.index
        # position -> (code, reason, culprit id, culprit's own reason)
        verdict: dict[int, tuple[str, str, str, str]] = {}
        for start in range(len(fields)):
            if start in reached or start in verdict:
                continue
            chain: list[int] = []
            on_chain: dict[int, int] = {}
            position = start
            while True:
                if position in verdict:
                    _, _, culprit, cause = verdict[position]
                    break
                if position in on_chain:
                    cycle = chain[on_chain[position] :]
                    names = " → ".join(repr(fields[p][0]) for p in [*cycle, cycle[0]])
                    culprit, cause = fields[position][0], f"remix cycle: {names}"
                    for member in cycle:
                        verdict[member] = (ErrorCode.CYCLE, cause, fields[member][0], cause)
                    del chain[on_chain[position] :]
                    break
                on_chain[position] = len(chain)
                chain.append(position)
                failure = self._own_failure(position)
                if failure is not None:
                    culprit, cause = fields[position][0], failure[1]
                    verdict[chain.pop()] = (failure[0], cause, culprit, cause)
                    break
                parent_id = fields[position][1]
                assert parent_id is not None
                position = index[parent_id]
            for member in chain:
                verdict[member] = (
                    ErrorCode.INVALID_INPUT,
                    f"ancestor {culprit!r} was rejected: {cause}",
                    culprit,
                    cause,
                )
        for position, (code, reason, _, _) in sorted(verdict.items()):
            source, line = self.where[position]
            self.rejected_index[position] = reason
            self.reject(source, line, fields[position][0], code, reason)

    # Step 4: aggregates of the new videos, children before parents.
    def aggregate(self) -> None:
        plan = self.plan
        count = len(plan.fields)
        derivative = [0] * count
        direct = [0] * count
        depth = [0] * count
        generation = plan.generation
        parent_index = plan.parent_index
        counts, level_views = plan.generation_counts, plan.generation_views
        fields = plan.fields
        likes = [values[6] for values in fields]
        views = [values[7] for values in fields]
        hour_counts = plan.hour_counts
        # Bound once: one pass per video.
        hours_of, counts_of, level_views_of = hour_counts.get, counts.get, level_views.get
        for position in reversed(plan.order):
            parent = parent_index[position]
            if parent < 0:
                continue
            likes[parent] += likes[position]
            views[parent] += views[position]
            created_at = fields[position][5]
            below_hours = hours_of(position)
            if created_at is not None or below_hours:
                parent_hours = hours_of(parent)
                if parent_hours is None:
                    parent_hours = hour_counts[parent] = {}
                if created_at is not None:
                    hour = hour_of(created_at)
                    parent_hours[hour] = parent_hours.get(hour, 0) + 1
                if below_hours:
                    for hour, hour_count in below_hours.items():
                        parent_hours[hour] = parent_hours.get(hour, 0) + hour_count
            derivative[parent] += 1 + derivative[position]
            direct[parent] += 1
            if depth[position] + 1 > depth[parent]:
                depth[parent] = depth[position] + 1
            parent_counts = counts_of(parent)
            if parent_counts is None:
                parent_counts = counts[parent] = {}
            own_generation = generation[position]
            parent_counts[own_generation] = parent_counts.get(own_generation, 0) + 1
            below = counts_of(position)
            if below:
                for level, level_count in below.items():
                    parent_counts[level] = parent_counts.get(level, 0) + level_count
            # In the same pass, the views of each generation below (rights).
            parent_views = level_views_of(parent)
            if parent_views is None:
                parent_views = level_views[parent] = {}
            own_views = fields[position][7]
            parent_views[own_generation] = parent_views.get(own_generation, 0) + own_views
            below_views = level_views_of(position)
            if below_views:
                for level, level_view_count in below_views.items():
                    parent_views[level] = parent_views.get(level, 0) + level_view_count
        plan.derivative_count, plan.direct_remix_count, plan.tree_depth = derivative, direct, depth
        plan.subtree_likes, plan.subtree_views = likes, views

    # Step 5: what the new subtrees add to stored ancestors.
    def propagate_to_store(self) -> None:
        plan = self.plan
        for position in plan.order:
            if plan.parent_index[position] != _EXTERNAL:
                continue
            parent_id = plan.fields[position][1]
            assert parent_id is not None
            path = self._paths[parent_id]
            size = 1 + plan.derivative_count[position]
            own_generation = plan.generation[position]
            lowest = own_generation + plan.tree_depth[position]
            below = plan.generation_counts.get(position, {})
            added_likes = plan.subtree_likes[position]
            added_views = plan.subtree_views[position]
            created_at = plan.fields[position][5]
            added_hours = dict(plan.hour_counts.get(position, {}))
            if created_at is not None:
                hour = hour_of(created_at)
                added_hours[hour] = added_hours.get(hour, 0) + 1
            for step, node in enumerate(path):
                delta = self._delta(path, step)
                delta.subtree_likes += added_likes
                delta.subtree_views += added_views
                for hour, hour_count in added_hours.items():
                    delta.hours[hour] = delta.hours.get(hour, 0) + hour_count
                delta.derivative_count += size
                if step == 0:
                    delta.direct_remix_count += 1
                else:
                    via = path[step - 1].variant_key
                    assert via is not None
                    group = plan.variant_groups.setdefault((node.id, via), [0, 0])
                    group[1] += size
                delta.tree_depth_floor = max(delta.tree_depth_floor, lowest - node.generation)
                gc = delta.generation_counts
                gc[own_generation] = gc.get(own_generation, 0) + 1
                for level, level_count in below.items():
                    gc[level] = gc.get(level, 0) + level_count

    def _delta(self, path: list[PathNode], step: int) -> _ExistingDelta:
        """The increments of the stored video ``path[step]`` (created on first use)."""
        node = path[step]
        delta = self.plan.existing.get(node.id)
        if delta is None:
            parent_key = path[step + 1].id if step + 1 < len(path) else ""
            delta = self.plan.existing[node.id] = _ExistingDelta(parent_key=parent_key)
        return delta

    # Step 7: what changed likes, views and times of stored videos add up their lineage.
    def propagate_updates(self) -> None:
        plan = self.plan
        changes: dict[str, tuple[int, int, int | None, int | None]] = {}
        for video_id, values in plan.metadata_updates.items():
            old_likes, old_views, old_time = plan.stored_counters[video_id]
            old_hour = None if old_time is None else hour_of(old_time)
            new_hour = None if values[5] is None else hour_of(values[5])
            if values[1] is None:  # an original's time counts for no one
                old_hour = new_hour = None
            change = (values[6] - old_likes, values[7] - old_views, old_hour, new_hour)
            if change[0] or change[1] or old_hour != new_hour:
                changes[video_id] = change
        ids = list(changes)
        for start in range(0, len(ids), LOOKUP_CHUNK):
            paths = self.view.lineage_paths(ids[start : start + LOOKUP_CHUNK])
            for video_id, path in paths.items():
                likes, views, old_hour, new_hour = changes[video_id]
                own = self._delta(path, 0)
                own.likes += likes
                own.views += views
                for step in range(len(path)):
                    delta = self._delta(path, step)
                    delta.subtree_likes += likes
                    delta.subtree_views += views
                    if step and old_hour != new_hour:
                        if old_hour is not None:
                            delta.hours[old_hour] = delta.hours.get(old_hour, 0) - 1
                        if new_hour is not None:
                            delta.hours[new_hour] = delta.hours.get(new_hour, 0) + 1

    # Step 6: later lines that repeat an id.
    def settle_repeats(self) -> None:
        plan = self.plan
        for first, source, line, values in self.repeats:
            video_id = values[0]
            first_source, first_line = self.where[first]
            if first in self.rejected_index:
                self.reject(
                    source,
                    line,
                    video_id,
                    ErrorCode.CONFLICT,
                    f"repeats video {video_id!r} of {first_source}:{first_line}, "
                    "which was rejected",
                )
                continue
            conflict = _lineage_conflict(video_id, values, plan.fields[first])
            if conflict:
                self.reject(
                    source,
                    line,
                    video_id,
                    ErrorCode.CONFLICT,
                    f"{conflict} (from {first_source}:{first_line})",
                )
            elif _metadata(values) != _metadata(plan.fields[first]):
                # The later line wins, as a second import of it would.
                plan.fields[first] = values
                if first in self.stored_indexes:
                    plan.metadata_updates[video_id] = values
                self.report.updated += 1
            else:
                self.report.unchanged += 1


def plan_import(
    records: Iterable[SourcedRecord], view: ReadView
) -> tuple[ImportPlan, ImportReport]:
    """Validate records and plan their import against the store seen by ``view``.

    Parameters
    ----------
    records : iterable of SourcedRecord
        JSON lines, mappings or :class:`~lineage.models.VideoInput`, in any order.
    view : ReadView
        Reads of the store, inside the transaction that will write the plan.

    Returns
    -------
    plan, report : ImportPlan, ImportReport
        The writes (new videos parents first, aggregates, increments for stored
        ancestors) and the per-line outcome.

    Notes
    -----
    O(n + a) time and memory for n new records whose new subtrees add to a
    stored ancestors, plus the sum of the new videos' tree depths for
    the per-generation counts. The store is read only for the ids the input
    names and the ancestors of stored parents.
    """
    planner = _Planner(view)
    planner.read(records)
    stored_indexes = planner.compare_with_store()
    planner.resolve(stored_indexes)
    planner.aggregate()
    planner.propagate_to_store()
    planner.plan.ancestor_paths = planner._paths
    planner.settle_repeats()
    # Rights first: it refuses stored lines that change a status, and the
    # engagement increments then cover only the updates that stay.
    planner.plan.rights = plan_rights(planner)
    planner.propagate_updates()
    planner.report.added = planner.plan.new_video_count
    # Report rejections in input order (sources as first seen, then line),
    # whichever step found them.
    source_order: dict[str, int] = {}
    for rejection in planner.report.rejected:
        source_order.setdefault(rejection.source, len(source_order))
    planner.report.rejected.sort(key=lambda r: (source_order[r.source], r.line))
    return planner.plan, planner.report


def sort_rejections(rejected: list[Rejection], records: Sequence[SourcedRecord]) -> None:
    """Order rejections as their records came: sources as first seen, then line."""
    source_order: dict[str, int] = {}
    for record in records:
        source_order.setdefault(record.source, len(source_order))
    for rejection in rejected:
        source_order.setdefault(rejection.source, len(source_order))
    rejected.sort(key=lambda r: (source_order[r.source], r.line))


def split_by_lineage(
    records: Sequence[SourcedRecord], group_size: int
) -> list[list[SourcedRecord]]:
    """Split records into groups that can be planned and written one after another.

    Records that name each other (as id or parent) land in the same group, so
    each group holds whole new subtrees and every record it references is
    either in it or already stored: planning a group never depends on
    another. Connected records are kept together even beyond ``group_size``;
    otherwise groups are filled up to about ``group_size`` records, in input
    order. Only each record's ``id`` and ``parent_id`` are read here; the
    planner validates the rest, so a record rejected there is in the same
    group as its remixes, which learn why. Records whose id cannot be read
    go with the first group, where the planner reports them.

    Examples
    --------
    >>> records = [SourcedRecord({"id": i, "prompt": "p", "parent_id": p})
    ...            for i, p in [("a", None), ("b", None), ("a1", "a"), ("b1", "b")]]
    >>> [[r.data["id"] for r in group] for group in split_by_lineage(records, 2)]
    [['a', 'a1'], ['b', 'b1']]

    Notes
    -----
    O(n α(n)) time (union-find over ids) and O(n) memory.
    """
    leader: dict[str, str] = {}

    def find(video_id: str) -> str:
        root = video_id
        while leader.setdefault(root, root) != root:
            root = leader[root]
        while video_id != root:  # path compression
            leader[video_id], video_id = root, leader[video_id]
        return root

    checked: list[tuple[SourcedRecord, str | None]] = []
    for record in records:
        video_id, parent_id = peek_ids(record.data)
        checked.append((record, video_id))
        if video_id is None:
            continue
        root = find(video_id)
        if parent_id is not None:
            parent_root = find(parent_id)
            if parent_root != root:
                leader[parent_root] = root
    components: dict[str, list[SourcedRecord]] = {}
    invalid: list[SourcedRecord] = []
    for record, video_id in checked:
        if video_id is None:
            invalid.append(record)
        else:
            components.setdefault(find(video_id), []).append(record)
    groups: list[list[SourcedRecord]] = []
    current: list[SourcedRecord] = invalid
    for component in components.values():
        if current and len(current) + len(component) > group_size:
            groups.append(current)
            current = []
        current.extend(component)
    if current:
        groups.append(current)
    return groups
