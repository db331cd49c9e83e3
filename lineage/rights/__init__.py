"""Rights along the lineage: takedowns, attribution and provenance.

:mod:`~lineage.rights.policy` (takedown, restore, attribution shares,
downstream views), :mod:`~lineage.rights.plan` (the rights part of an import
plan), :mod:`~lineage.rights.check` (their part of ``lineage check``) and
:mod:`~lineage.rights.provenance` (C2PA manifests).
"""
