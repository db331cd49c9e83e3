"""A single remix chain, the deepest shape a lineage can take, for tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from lineage.store import LineageStore
from lineage.stores.sqlite import SQLiteStore
from tests.api.conftest import load
from tests.conftest import open_neo4j_store, wipe_neo4j


def load_chain(store: LineageStore, depth: int) -> str:
    """Store ``c0 <- c1 <- ... <- c{depth}`` and return the deepest id."""
    records = [{"id": "c0", "prompt": "A chain of remixes, link 0"}]
    records += [
        {"id": f"c{n}", "parent_id": f"c{n - 1}", "prompt": f"A chain of remixes, link {n}"}
        for n in range(1, depth + 1)
    ]
    load(store, records)
    return f"c{depth}"


def nested_ancestors(video_id: str, levels: int, field: str = "ancestors") -> str:
    """``video { ancestors { ancestors ... { id } } }`` with ``levels`` lists."""
    selection = "id"
    for _ in range(levels):
        selection = f"{field} {{ {selection} }}"
    return f'{{ video(id: "{video_id}") {{ {selection} }} }}'


@contextlib.contextmanager
def chain_store(request: pytest.FixtureRequest, folder: Path, depth: int) -> Iterator[LineageStore]:
    """A store of ``request.param``'s backend holding a chain ``depth`` deep, for a
    whole test module (a Neo4j chain takes seconds to write)."""
    if request.param == "neo4j":
        server = request.getfixturevalue("neo4j")
        wipe_neo4j(server)
        store = open_neo4j_store(server)
    else:
        store = SQLiteStore(folder / "chain.db")
    try:
        load_chain(store, depth)
        yield store
    finally:
        store.close()
