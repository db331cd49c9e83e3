"""The remix tree: lineage queries, every derivative in pages, and the aggregates' check.

:mod:`~lineage.tree.queries` (stats, ancestors, ranked remixes),
:mod:`~lineage.tree.descendants` (all derivatives, breadth first, keyset
pages) and :mod:`~lineage.tree.check` (``lineage check``: every aggregate
recomputed from the edges).
"""
