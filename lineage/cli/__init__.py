"""The ``lineage`` command line: one module per command group.

:mod:`~lineage.cli.main` (the parser, import, stats, check, export, plot,
demo, serve), :mod:`~lineage.cli.engagement` (engagement deltas),
:mod:`~lineage.cli.rights` (takedown, restore, provenance) and
:mod:`~lineage.cli.tokens` (API tokens).
"""

from lineage.cli.main import main

__all__ = ["main"]
