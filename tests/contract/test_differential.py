"""Differential tests: the store's aggregates and answers against networkx.

Random forests (long chains, wide stars, many small trees) are written one
video at a time in random valid orders, in one shuffled bulk import, and in
several shuffled bulk imports that attach to what is already stored.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lineage.importing.records import SourcedRecord

from ..conftest import FULL_RUN, StoreFactory
from ..forests import Record, Reference, Shape, build_forest, forests, random_topological_order
from ..lineage_snapshot import assert_matches_reference

# Neo4j runs the same properties with fewer examples: each is a round of
# server transactions, and the one-by-one test is thousands of them. CI runs
# fewer still (LINEAGE_RUN_SLOW=1 for the full counts).
SQLITE = pytest.mark.parametrize("backend", ["sqlite"])
NEO4J = pytest.mark.parametrize("backend", [pytest.param("neo4j", marks=pytest.mark.neo4j)])
_QUIET = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
SQLITE_SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=_QUIET)
NEO4J_SETTINGS = settings(
    max_examples=5 if FULL_RUN else 2, deadline=None, suppress_health_check=_QUIET
)

LONG_CHAIN = build_forest([Shape("chain", 520)], seed=1)
WIDE_STAR = build_forest([Shape("star", 3000), Shape("tree", 200)], seed=2)
MANY_SMALL = build_forest([Shape("tree", 3)] * 150 + [Shape("pairs", 9)] * 50, seed=3)


def _import(store, records: list[Record]) -> None:  # type: ignore[no-untyped-def]
    report = store.import_videos(SourcedRecord(r, "test", n) for n, r in enumerate(records, 1))
    assert report.rejected == []
    assert report.added == len(records)


def one_by_one(make_store: StoreFactory, records: list[Record], seed: int) -> None:
    store = make_store()
    for record in random_topological_order(records, random.Random(seed)):
        _import(store, [record])
    assert_matches_reference(store, Reference(records))


def one_bulk_import(make_store: StoreFactory, records: list[Record], seed: int) -> None:
    store = make_store()
    shuffled = list(records)
    random.Random(seed).shuffle(shuffled)
    _import(store, shuffled)
    assert_matches_reference(store, Reference(records))


def bulk_imports_onto_stored_parents(
    make_store: StoreFactory, records: list[Record], seed: int, parts: int
) -> None:
    """Later imports attach new subtrees under stored videos, deep in their lineage."""
    rng = random.Random(seed)
    ordered = random_topological_order(records, rng)
    cuts = sorted(rng.sample(range(1, len(ordered)), min(parts - 1, len(ordered) - 1)))
    store = make_store()
    for start, end in zip([0, *cuts], [*cuts, len(ordered)], strict=True):
        chunk = ordered[start:end]
        rng.shuffle(chunk)
        _import(store, chunk)
    assert_matches_reference(store, Reference(records))


@SQLITE
@SQLITE_SETTINGS
@given(records=forests, seed=st.integers(0, 2**32 - 1))
@example(records=LONG_CHAIN, seed=7)
@example(records=WIDE_STAR, seed=8)
@example(records=MANY_SMALL, seed=9)
def test_one_by_one_in_random_valid_order(
    make_store: StoreFactory, records: list[Record], seed: int
) -> None:
    one_by_one(make_store, records, seed)


@NEO4J
@NEO4J_SETTINGS
@given(records=forests, seed=st.integers(0, 2**32 - 1))
@(example(records=LONG_CHAIN, seed=7) if FULL_RUN else example(records=LONG_CHAIN[:60], seed=7))
def test_one_by_one_in_random_valid_order_neo4j(
    make_store: StoreFactory, records: list[Record], seed: int
) -> None:
    one_by_one(make_store, records, seed)


@SQLITE
@SQLITE_SETTINGS
@given(records=forests, seed=st.integers(0, 2**32 - 1))
@example(records=LONG_CHAIN, seed=7)
@example(records=WIDE_STAR, seed=8)
@example(records=MANY_SMALL, seed=9)
def test_one_bulk_import_in_shuffled_order(
    make_store: StoreFactory, records: list[Record], seed: int
) -> None:
    one_bulk_import(make_store, records, seed)


@NEO4J
@NEO4J_SETTINGS
@given(records=forests, seed=st.integers(0, 2**32 - 1))
@example(records=LONG_CHAIN, seed=7)
@example(records=MANY_SMALL, seed=9)
def test_one_bulk_import_in_shuffled_order_neo4j(
    make_store: StoreFactory, records: list[Record], seed: int
) -> None:
    one_bulk_import(make_store, records, seed)


@SQLITE
@SQLITE_SETTINGS
@given(records=forests, seed=st.integers(0, 2**32 - 1), parts=st.integers(2, 5))
@example(records=LONG_CHAIN, seed=7, parts=4)
@example(records=WIDE_STAR, seed=8, parts=3)
def test_bulk_imports_onto_stored_parents(
    make_store: StoreFactory, records: list[Record], seed: int, parts: int
) -> None:
    bulk_imports_onto_stored_parents(make_store, records, seed, parts)


@NEO4J
@NEO4J_SETTINGS
@given(records=forests, seed=st.integers(0, 2**32 - 1), parts=st.integers(2, 5))
@example(records=LONG_CHAIN, seed=7, parts=4)
def test_bulk_imports_onto_stored_parents_neo4j(
    make_store: StoreFactory, records: list[Record], seed: int, parts: int
) -> None:
    bulk_imports_onto_stored_parents(make_store, records, seed, parts)
