"""Every write is an import: records are validated, resolved against the store and aggregated.

:mod:`~lineage.importing.planner` (the import plan),
:mod:`~lineage.importing.platform` (video objects as platforms publish them)
and :mod:`~lineage.importing.group_commit` (concurrent remixes into one tree
written as one import).
"""
