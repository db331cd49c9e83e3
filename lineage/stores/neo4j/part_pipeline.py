"""Parts of a large lineage, pipelined: the next part is planned while the server writes the last.

:func:`write_pipelined` runs a writer thread that commits parts in order,
one transaction each, while the calling thread plans the parts after it
(:func:`~lineage.importing.planner.plan_import` on
:class:`~lineage.stores.neo4j.part_model.WrittenParts`, then the statement's
rows, :func:`~lineage.stores.neo4j.part_write.part_statement`). The queue
between them holds one part, so at most three are in memory: one being
written, one waiting, one being planned.

Each commit leaves the store exact (a part is an ordinary import onto what
the parts before it committed). When a part's plan turns out stale (a
parent it counted on is missing, or another writer created one of its ids
first) it is rolled back, and it and every part after it are planned again
against the store, one transaction each, as without the pipeline. A part the
model cannot plan (it names stored videos the input updates) is planned
against the store in its own transaction, in its turn.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from neo4j.exceptions import ConstraintError

from lineage.importing.records import ImportReport, SourcedRecord
from lineage.stores.neo4j.part_write import PartStatement, StalePart

__all__ = ["PartObserver", "PlannedPart", "write_pipelined"]

# (event, part number, records in the part): "planned" when the calling
# thread has the part ready to send, "written" once its statements ran in
# its transaction (before the commit), "committed" after.
PartObserver = Callable[[str, int, int], None]


@dataclass(slots=True)
class PlannedPart:
    """A part ready for the writer: its statement, or None to plan it against the store."""

    number: int
    records: list[SourcedRecord]
    report: ImportReport
    statement: PartStatement | None


def write_pipelined(
    parts: Sequence[list[SourcedRecord]],
    plan_part: Callable[[int, list[SourcedRecord]], PlannedPart],
    write_planned: Callable[[PlannedPart], None],
    import_against_store: Callable[[list[SourcedRecord]], ImportReport],
    observe: PartObserver | None = None,
) -> ImportReport:
    """Write ``parts`` in order, each planned while the one before is written.

    Parameters
    ----------
    parts : sequence of list of SourcedRecord
        Parents-first parts (each record's parent in an earlier part, the same
        part or the store).
    plan_part : callable
        Plans part ``number`` (calling thread), as if the parts before it were stored.
    write_planned : callable
        Writes a planned part in one transaction (writer thread).
    import_against_store : callable
        Plans and writes a part against the store in one transaction.
    observe : PartObserver, optional
        Told of each part's progress (tests watch the overlap with it).
    """
    notify: PartObserver = observe or (lambda event, number, size: None)
    waiting: queue.Queue[PlannedPart | None] = queue.Queue(maxsize=1)
    reports: dict[int, ImportReport] = {}
    # The first part that failed and why (the writer skips every part after it).
    failed: list[tuple[int, BaseException]] = []

    def writer() -> None:
        while (part := waiting.get()) is not None:
            if failed:
                continue  # drained: the calling thread stops planning
            try:
                if part.statement is None:
                    reports[part.number] = import_against_store(part.records)
                else:
                    write_planned(part)
                    reports[part.number] = part.report
                notify("committed", part.number, len(part.records))
            except BaseException as error:  # handed to the calling thread
                failed.append((part.number, error))

    thread = threading.Thread(target=writer, name="lineage-part-writer", daemon=True)
    thread.start()
    try:
        for number, records in enumerate(parts):
            if failed:
                break
            part = plan_part(number, records)
            notify("planned", number, len(records))
            waiting.put(part)
    finally:
        waiting.put(None)
        thread.join()

    total = ImportReport()
    for number in sorted(reports):
        total.add(reports[number])
    if failed:
        number, error = failed[0]
        if not isinstance(error, StalePart | ConstraintError):
            raise error
        # What the model expected is not what is stored: the rest as without it.
        for records in parts[number:]:
            total.add(import_against_store(records))
    return total
