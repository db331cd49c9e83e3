"""Exports of a lineage (a video's subtree, or the whole store) in every format.

:mod:`~lineage.export.formats`: JSONL and CSV streamed page by page,
GraphML and GEXF through networkx, and :func:`~lineage.export.formats.to_networkx`.
"""
