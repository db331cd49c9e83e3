"""Every write is an import: records are validated, resolved against the store and aggregated.

- :mod:`~lineage.importing.records`: input records, rejections and the import report;
- :mod:`~lineage.importing.validation`: records validated, with messages for people;
- :mod:`~lineage.importing.plan`: the import plan, what a backend writes;
- :mod:`~lineage.importing.resolution`: records resolved against each other and the store;
- :mod:`~lineage.importing.aggregation`: aggregates of new subtrees, added to stored ancestors;
- :mod:`~lineage.importing.planner`: :func:`plan_import`, the stages in order;
- :mod:`~lineage.importing.platform`: video objects as platforms publish them;
- :mod:`~lineage.importing.group_commit`: concurrent remixes into one tree written as one import.
"""

from __future__ import annotations

from lineage.importing.plan import ImportPlan
from lineage.importing.planner import plan_import, sort_rejections, split_by_lineage
from lineage.importing.records import ImportReport, Rejection, SourcedRecord, iter_jsonl
from lineage.importing.validation import peek_ids, validated

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
