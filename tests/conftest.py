"""Shared fixtures: every store backend the contract suite runs against."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lineage.store import LineageStore
from lineage.stores.sqlite import SQLiteStore

StoreFactory = Callable[[], LineageStore]

BACKENDS = ["sqlite"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_store(backend: str, tmp_path: Path) -> Iterator[StoreFactory]:
    """A factory of fresh, empty stores of one backend, closed after the test."""
    opened: list[LineageStore] = []
    numbers = itertools.count()

    def factory() -> LineageStore:
        if backend == "sqlite":
            store: LineageStore = SQLiteStore(tmp_path / f"store-{next(numbers)}.db")
        else:  # pragma: no cover - each backend adds its branch
            raise AssertionError(f"unknown backend {backend}")
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: StoreFactory) -> LineageStore:
    return make_store()
