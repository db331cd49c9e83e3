"""For analysts: a picture of a video's remix lineage (:mod:`~lineage.analysis.plot`).

The networkx bridge is :func:`lineage.export.graph.to_networkx`.
"""
