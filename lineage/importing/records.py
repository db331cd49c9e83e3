"""What every stage of an import passes around: input records and the report.

A :class:`SourcedRecord` is one input record and where it came from
(:func:`iter_jsonl` reads them from a JSONL stream); a :class:`Rejection`
is a record refused by some stage, with the contract code and why; an
:class:`ImportReport` counts every input line once, as added, updated,
unchanged or rejected.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, NamedTuple

from lineage.models import VideoInput

__all__ = ["LINE_OUTCOMES_MAX", "ImportReport", "Rejection", "SourcedRecord", "iter_jsonl"]


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


# Lines whose own outcome a report keeps (see ImportReport.outcome_of).
LINE_OUTCOMES_MAX = 10_000


@dataclass(slots=True)
class ImportReport:
    """What an import did; every input line is counted exactly once."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    # False when --atomic refused the whole input.
    written: bool = True
    # (source, line) of the first LINE_OUTCOMES_MAX lines that were stored
    # already, updated or unchanged: a small input (a group-commit batch)
    # learns each line's own outcome; a large one keeps its memory bounded.
    stored_lines: dict[tuple[str, int], str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged + len(self.rejected)

    def note_stored(self, source: str, line: int, outcome: str) -> None:
        """Count a line whose video was stored already (``updated`` or ``unchanged``)."""
        if outcome == "updated":
            self.updated += 1
        else:
            self.unchanged += 1
        if len(self.stored_lines) < LINE_OUTCOMES_MAX:
            self.stored_lines[(source, line)] = outcome

    def outcome_of(self, source: str, line: int) -> str:
        """``added``, ``updated``, ``unchanged`` or ``rejected``: what became of one line.

        Exact for inputs of at most :data:`LINE_OUTCOMES_MAX` lines.

        Examples
        --------
        >>> report = ImportReport(added=1)
        >>> report.note_stored("in", 2, "unchanged")
        >>> report.outcome_of("in", 1), report.outcome_of("in", 2)
        ('added', 'unchanged')
        """
        if any(r.source == source and r.line == line for r in self.rejected):
            return "rejected"
        return self.stored_lines.get((source, line), "added")

    def add(self, other: ImportReport) -> None:
        """Count another part of the same input into this report."""
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected += other.rejected
        for key, outcome in other.stored_lines.items():
            if len(self.stored_lines) < LINE_OUTCOMES_MAX:
                self.stored_lines[key] = outcome


def iter_jsonl(stream: IO[bytes] | IO[str], source: str) -> Iterator[SourcedRecord]:
    """Yield the non-blank lines of a JSONL stream as :class:`SourcedRecord`."""
    lines: Iterable[str | bytes] = stream
    for number, line in enumerate(lines, start=1):
        if line and not line.isspace():  # no stripped copy of every line
            yield SourcedRecord(line, source, number)
