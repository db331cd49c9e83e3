"""One lineage too large for a transaction: a dry run, then parents-first parts.

A dry run plans the whole input in a read transaction: its rejections are
exactly those one transaction would report. The accepted records are then
written in parts, parents before remixes, each an ordinary import onto what
the parts before it stored, so every commit leaves the aggregates exact.

With ``pipeline`` (the default) the parts are planned in this process from
the dry run (:mod:`lineage.stores.neo4j.part_model`) while the server writes
the part before (:mod:`lineage.stores.neo4j.part_pipeline`), each part one
statement (:mod:`lineage.stores.neo4j.part_write`). Without it, each part is
planned against the store in its own transaction, one after another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import neo4j
from neo4j.exceptions import TransientError

from lineage.importing.planner import plan_import
from lineage.importing.records import ImportReport, SourcedRecord
from lineage.importing.validation import validated
from lineage.models import VideoInput
from lineage.stores.neo4j.part_model import ModelMiss, RecordingView, WrittenParts
from lineage.stores.neo4j.part_pipeline import PlannedPart, write_pipelined
from lineage.stores.neo4j.part_write import part_statement, write_part
from lineage.stores.neo4j.writes import (
    _OUT_OF_TRANSACTION_MEMORY,
    _parents_first_parts,
    _too_large,
    _TransactionView,
    counting,
)

if TYPE_CHECKING:
    from lineage.importing.plan import ImportPlan
    from lineage.stores.neo4j.store import Neo4jStore

__all__ = ["import_large_tree"]


def _video_id(record: SourcedRecord) -> str:
    video = record.data
    assert isinstance(video, VideoInput)  # validated
    return video.id


def import_large_tree(
    store: Neo4jStore, records: list[SourcedRecord], part_size: int, *, pipeline: bool = True
) -> ImportReport:
    """Import connected records too many for one transaction, in parents-first parts
    of about ``part_size`` records (see the module)."""
    records = validated(records)  # once, for the dry run and the parts
    recorded: list[RecordingView] = []

    def dry_run(tx: neo4j.ManagedTransaction) -> tuple[ImportPlan, ImportReport]:
        recorded[:] = [RecordingView(_TransactionView(tx, lock_trees=False))]
        return plan_import(records, recorded[0])

    with store._read_session() as session:
        plan, planned = session.execute_read(dry_run)
    refused = {(rejection.source, rejection.line) for rejection in planned.rejected}
    accepted = [record for record in records if (record.source, record.line) not in refused]
    total = ImportReport(rejected=list(planned.rejected))

    def against_store(part: list[SourcedRecord]) -> ImportReport:
        # Rejections here only if another writer got in between.
        return store._import_in_one_transaction(part, atomic=False, progress=False, vetted=True)[0]

    if not pipeline:
        del plan  # each part is planned again
        for part in _parents_first_parts(accepted, part_size):
            total.add(against_store(part))
        return total

    model = WrittenParts(plan, recorded[0])
    stored = model.stored_ids
    # Stored lines that change nothing write nothing: counted as the dry run found them.
    changing = set(plan.metadata_updates) | set(plan.rights.manifests)
    del plan  # the model keeps what it needs of it
    to_write: list[SourcedRecord] = []
    for record in accepted:
        video_id = _video_id(record)
        if video_id in stored and video_id not in changing:
            total.note_stored(record.source, record.line, "unchanged")
        else:
            to_write.append(record)

    def plan_part(number: int, part: list[SourcedRecord]) -> PlannedPart:
        ids = [_video_id(record) for record in part]
        if not stored.isdisjoint(ids):  # it updates stored videos: read them when written
            model.mark_written(ids, {})
            return PlannedPart(number, part, ImportReport(), None)
        try:
            part_plan, report = plan_import(part, model)
        except ModelMiss:
            model.mark_written(ids, {})
            return PlannedPart(number, part, ImportReport(), None)
        statement = part_statement(part_plan)
        model.mark_written(statement.new_ids, statement.variant_keys)
        return PlannedPart(number, part, report, statement)

    def write_planned(part: PlannedPart) -> None:
        assert part.statement is not None
        statement = part.statement

        def work(tx: neo4j.ManagedTransaction) -> None:
            write_part(counting(tx, store), statement)
            if store.part_observer is not None:
                store.part_observer("written", part.number, len(part.records))

        try:
            with store._write_session() as session:
                session.execute_write(work)
        except TransientError as error:
            if error.code in _OUT_OF_TRANSACTION_MEMORY:
                raise _too_large(
                    len(part.records), atomic=False, group_size=store.group_size
                ) from error
            raise

    parts = list(_parents_first_parts(to_write, part_size))
    total.add(write_pipelined(parts, plan_part, write_planned, against_store, store.part_observer))
    return total
