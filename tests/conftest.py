"""Shared fixtures: every store backend the contract suite runs against.

Tests that take ``store`` or ``make_store`` run once per backend: SQLite
(a file per store) and Neo4j (marked ``neo4j``; see :mod:`tests.neo4j_server`
for where the server comes from). With ``LINEAGE_REQUIRE_NEO4J=1`` (set by
``scripts/test``, hence CI) the run fails when no Neo4j test ran or any was
skipped.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lineage.store import LineageStore
from lineage.stores.sqlite import SQLiteStore
from tests.neo4j_server import Neo4jServer, neo4j_server

StoreFactory = Callable[[], LineageStore]

BACKENDS = ["sqlite", pytest.param("neo4j", marks=pytest.mark.neo4j)]


@pytest.fixture(scope="session")
def neo4j() -> Iterator[Neo4jServer]:
    with neo4j_server() as server:
        yield server


def wipe_neo4j(server: Neo4jServer) -> None:
    """Empty the database (Community has one user database: tests share it in turn)."""
    import neo4j as driver_module

    with (
        driver_module.GraphDatabase.driver(
            server.uri, auth=(server.user, server.password)
        ) as driver,
        driver.session(database=server.database) as session,
    ):
        # CALL ... IN TRANSACTIONS runs only in an auto-commit transaction.
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()


def open_neo4j_store(server: Neo4jServer) -> LineageStore:
    from lineage.stores.neo4j import Neo4jStore

    return Neo4jStore(server.uri, server.user, server.password, server.database)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_store(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[StoreFactory]:
    """A factory of fresh, empty stores of one backend, closed after the test.

    Neo4j stores share the server's database, so a new one empties it: a test
    holds one Neo4j store at a time.
    """
    opened: list[LineageStore] = []
    numbers = itertools.count()
    server: Neo4jServer | None = request.getfixturevalue("neo4j") if backend == "neo4j" else None

    def factory() -> LineageStore:
        if backend == "sqlite":
            store: LineageStore = SQLiteStore(tmp_path / f"store-{next(numbers)}.db")
        elif backend == "neo4j":
            assert server is not None
            for earlier in opened:
                earlier.close()
            opened.clear()
            wipe_neo4j(server)
            store = open_neo4j_store(server)
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


# -- CI guard: the Neo4j tests run, never skip ---------------------------------------
_neo4j_outcomes = {"passed": 0, "skipped": 0, "failed": 0}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "neo4j" not in report.keywords:
        return
    if report.skipped:
        _neo4j_outcomes["skipped"] += 1
    elif report.failed:
        _neo4j_outcomes["failed"] += 1
    elif report.when == "call" and report.passed:
        _neo4j_outcomes["passed"] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("LINEAGE_REQUIRE_NEO4J") != "1":
        return
    if _neo4j_outcomes["skipped"] or not _neo4j_outcomes["passed"]:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.write_line(
        "neo4j tests: {passed} passed, {skipped} skipped, {failed} failed".format(**_neo4j_outcomes)
    )
    if os.environ.get("LINEAGE_REQUIRE_NEO4J") == "1" and (
        _neo4j_outcomes["skipped"] or not _neo4j_outcomes["passed"]
    ):
        terminalreporter.write_line(
            "LINEAGE_REQUIRE_NEO4J=1: the Neo4j tests must run and none may be skipped",
            red=True,
        )


# -- slow scenarios: deselected unless asked for ---------------------------------------
# LINEAGE_RUN_SLOW=1 also gives the heaviest Neo4j property tests their full
# example counts; CI runs fewer (the same properties hold on SQLite with many).
FULL_RUN = os.environ.get("LINEAGE_RUN_SLOW") == "1"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-slow",
        action="store_true",
        default=os.environ.get("LINEAGE_RUN_SLOW") == "1",
        help="also run the tests marked slow (CI runs their short versions only)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    slow = [item for item in items if "slow" in item.keywords]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if "slow" not in item.keywords]
