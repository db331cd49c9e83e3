"""Exports of a lineage (a video's subtree, or the whole store) in every format.

Modules: :mod:`~lineage.export.walk` (the videos of a lineage, parents first, page by page),
:mod:`~lineage.export.records` (a video's export record, its rights fields, hiding removed text),
:mod:`~lineage.export.jsonl` (JSONL, streamed),
:mod:`~lineage.export.neo4j_csv` (CSV files for ``neo4j-admin database import``, streamed),
:mod:`~lineage.export.graph` (:func:`~lineage.export.graph.to_networkx`, GraphML and GEXF) and
:mod:`~lineage.export.dispatch` (:func:`~lineage.export.dispatch.export_lineage`, any format
to a file or a stream).
"""
