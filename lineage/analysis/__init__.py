"""For analysts: a picture of a video's remix lineage.

Modules: :mod:`~lineage.analysis.plot` (:func:`~lineage.analysis.plot.plot_lineage`:
the figure, its panels, nodes, edges and labels),
:mod:`~lineage.analysis.plot_layout` (what the tree panel shows and where: nodes,
folding, radius scale, positions) and
:mod:`~lineage.analysis.plot_fonts` (the fonts, CJK included, and text widths).

The networkx bridge is :func:`lineage.export.graph.to_networkx`.
"""
