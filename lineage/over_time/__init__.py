"""Over time: engagement that flows up the tree, remixes per hour and what trends.

:mod:`~lineage.over_time.engagement` (likes/views deltas and subtree totals),
:mod:`~lineage.over_time.trending` (hour windows and trending reads),
:mod:`~lineage.over_time.clock` (the "now" windows without ``asOf`` end at),
:mod:`~lineage.over_time.stats` (what ``lineage stats`` adds),
:mod:`~lineage.over_time.check` (their part of ``lineage check``) and
:mod:`~lineage.over_time.plot` (the remixes-per-hour panel).
"""
