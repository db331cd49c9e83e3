"""Data to try the service on: the article's remix tree and seeded synthetic forests.

:mod:`~lineage.demo.tree` (``lineage demo``: grandma and the crocodile) and
:mod:`~lineage.demo.synthetic` (forests of any size, for benchmarks and tests).
"""
