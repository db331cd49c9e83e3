"""A token's last-use note is best effort on every store: it never waits behind a writer.

Authentication is a read. Noting the last use is a write, at most once a
minute per token; while another writer holds what it needs (SQLite's write
lock, the token's node on Neo4j), the note is skipped at once (SQLite) or
after a short transaction timeout (Neo4j), the caller is authenticated all
the same, and the next authentication notes it.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import neo4j as driver_module
import pytest

from lineage.access.tokens import LAST_USED_MAX_WAIT_S, Role, TokenInfo, token_store_for
from lineage.store import LineageStore
from lineage.stores.sqlite import SQLiteStore
from tests.conftest import StoreFactory, open_neo4j_store, wipe_neo4j
from tests.neo4j_server import Neo4jServer


@contextmanager
def _sqlite_writer(store: SQLiteStore) -> Iterator[None]:
    connection = sqlite3.connect(store.path, isolation_level=None)
    connection.execute("UPDATE api_tokens SET last_used_us = 0")
    connection.execute("BEGIN IMMEDIATE")  # the write lock, as an import holds it
    connection.execute("UPDATE api_tokens SET last_used_us = 0")
    try:
        yield
    finally:
        connection.execute("ROLLBACK")
        connection.close()


@contextmanager
def _neo4j_writer(server: Neo4jServer) -> Iterator[None]:
    with (
        driver_module.GraphDatabase.driver(
            server.uri, auth=(server.user, server.password)
        ) as driver,
        driver.session(database=server.database) as session,
    ):
        session.run("MATCH (t:ApiToken) SET t.last_used_us = 0").consume()
        transaction = session.begin_transaction()
        transaction.run("MATCH (t:ApiToken) SET t.last_used_us = 0").consume()  # its lock
        try:
            yield
        finally:
            transaction.rollback()


def _authenticate_within(store: LineageStore, token: str, seconds: float) -> TokenInfo:
    found: list[TokenInfo | None] = []
    thread = threading.Thread(
        target=lambda: found.append(token_store_for(store).authenticate(token))
    )
    thread.start()
    thread.join(timeout=seconds)
    assert not thread.is_alive(), f"authentication waited over {seconds} s behind a writer"
    (info,) = found
    assert info is not None
    return info


def test_authentication_never_waits_for_its_last_use_note(
    make_store: StoreFactory, backend: str, request: pytest.FixtureRequest
) -> None:
    store = make_store()
    token = token_store_for(store).create("reader", Role.READER)
    writer = (
        _sqlite_writer(store)  # type: ignore[arg-type]
        if backend == "sqlite"
        else _neo4j_writer(request.getfixturevalue("neo4j"))
    )
    with writer:
        started = time.monotonic()
        info = _authenticate_within(store, token, 10)
        waited = time.monotonic() - started
        assert info.name == "reader"
        # The note was skipped: the stored last use (the epoch) is what it reports.
        assert info.last_used_at is not None
        assert info.last_used_at < datetime.now(UTC) - timedelta(days=1)
        if backend == "sqlite":  # on the event loop: no busy wait at all
            assert waited < 0.15
        else:
            assert waited < LAST_USED_MAX_WAIT_S + 5
    noted = _authenticate_within(store, token, 10)
    assert noted.last_used_at is not None
    assert noted.last_used_at > datetime.now(UTC) - timedelta(minutes=1)


@pytest.mark.neo4j
def test_many_requests_of_one_token_send_one_note_at_a_time(neo4j: Neo4jServer) -> None:
    # When the minute turns under many requests of one token, they do not all
    # queue on the token's node: one notes the use, the others go on.
    wipe_neo4j(neo4j)
    store = open_neo4j_store(neo4j)
    try:
        tokens: Any = token_store_for(store)
        token = tokens.create("busy", Role.READER)
        threads = 8
        with _neo4j_writer(neo4j):  # each note waits for its timeout behind this lock
            before = tokens.notes_sent
            barrier = threading.Barrier(threads)
            found: list[TokenInfo | None] = []

            def authenticate() -> None:
                barrier.wait()
                found.append(tokens.authenticate(token))

            running = [threading.Thread(target=authenticate) for _ in range(threads)]
            for thread in running:
                thread.start()
            for thread in running:
                thread.join(timeout=30)
            sent = tokens.notes_sent - before
        assert len(found) == threads
        assert all(info is not None and info.name == "busy" for info in found)
        assert 1 <= sent < threads
        noted = tokens.authenticate(token)
        assert noted.last_used_at > datetime.now(UTC) - timedelta(minutes=1)
    finally:
        store.close()


@pytest.mark.neo4j
@pytest.mark.anyio
async def test_the_event_loops_lookup_gives_the_same_verdicts(neo4j: Neo4jServer) -> None:
    # authenticate_async (the API's path on Neo4j: the store's asyncio driver)
    # answers as authenticate does, and notes a stale last use once.
    wipe_neo4j(neo4j)
    store = open_neo4j_store(neo4j)
    try:
        tokens: Any = token_store_for(store)
        assert tokens.async_read is not None
        token = tokens.create("looped", Role.WRITER)
        gone = tokens.create("gone", Role.ADMIN)
        assert tokens.revoke("gone")
        with driver_module.GraphDatabase.driver(
            neo4j.uri, auth=(neo4j.user, neo4j.password)
        ) as driver:
            driver.execute_query(
                "MATCH (t:ApiToken) SET t.last_used_us = 0", database_=neo4j.database
            )
        notes = tokens.notes_sent
        queries = store.async_reads.queries_sent
        info = await tokens.authenticate_async(token)
        assert info is not None
        assert (info.name, info.role) == ("looped", Role.WRITER)
        assert info.last_used_at > datetime.now(UTC) - timedelta(minutes=1)  # noted now
        assert tokens.notes_sent == notes + 1
        again = await tokens.authenticate_async(token)
        assert again is not None
        assert tokens.notes_sent == notes + 1
        assert again == tokens.authenticate(token)
        assert await tokens.authenticate_async(gone) is None
        assert await tokens.authenticate_async("no-such-token") is None
        # Token lookups are the token store's count, not the store's reads'.
        assert store.async_reads.queries_sent == queries
    finally:
        store.close()
