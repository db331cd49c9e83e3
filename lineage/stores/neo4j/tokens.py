"""API tokens in the Neo4j store: one `(:ApiToken)` node per token.

Properties: name, role, token_hash, created_us, last_used_us.

Each call is one small transaction: writes through ``execute_write`` (to the
leader), reads through ``execute_query`` with read routing (the lookup of a
presented token as one auto-commit query: one round trip), all with the
lineage store's bookmarks, and ``$param`` values; nothing is cached, so a revocation is seen by the
next request of every worker. Committed transactions are in Neo4j's
transaction log before the call returns. A process writes at most one
last-use note of a token at a time: the requests that find it stale while
one is being written go on without their own.

:meth:`Neo4jTokenStore.authenticate_async` is the same check for the API's
event loop: the lookup goes through the store's asyncio driver (no worker
thread, no second driver's machinery per request); only the last-use note,
at most once a minute per token, goes to a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import neo4j
from neo4j.exceptions import ConstraintError, DriverError, Neo4jError

from lineage.access.tokens import (
    LAST_USED_MAX_WAIT_S,
    LAST_USED_RESOLUTION_S,
    Role,
    TokenInfo,
    check_token_name,
    duplicate_name,
    hash_token,
    hashes_match,
    new_token,
)
from lineage.stores.neo4j.bookmarks import BookmarkRelay

__all__ = ["Neo4jTokenStore", "ReadRows"]

# An auto-commit read on the asyncio driver: (cypher, parameters) -> its records.
ReadRows = Callable[[str, dict[str, Any]], Awaitable[list[Mapping[str, Any]]]]

_log = logging.getLogger(__name__)

_CREATE = "CREATE (:ApiToken {name: $name, role: $role, token_hash: $hash, created_us: $now})"
_LIST = (
    "MATCH (t:ApiToken) RETURN t.name AS name, t.role AS role, t.created_us AS created, "
    "t.last_used_us AS used ORDER BY t.name"
)
_REVOKE = "MATCH (t:ApiToken {name: $name}) DELETE t RETURN count(*) AS deleted"
_FIND = (
    "MATCH (t:ApiToken {token_hash: $hash}) RETURN t.name AS name, t.role AS role, "
    "t.token_hash AS hash, t.created_us AS created, t.last_used_us AS used"
)
_TOUCH = (
    "MATCH (t:ApiToken {name: $name}) "
    "WHERE t.last_used_us IS NULL OR t.last_used_us <= $stale "
    "SET t.last_used_us = $now"
)


def _moment(micros: int | None) -> datetime | None:
    return None if micros is None else datetime.fromtimestamp(micros / 1e6, UTC)


def _create(tx: neo4j.ManagedTransaction, name: str, role: str, token_hash: str) -> None:
    tx.run(_CREATE, name=name, role=role, hash=token_hash, now=time.time_ns() // 1000).consume()


@neo4j.unit_of_work(timeout=LAST_USED_MAX_WAIT_S)
def _touch(tx: neo4j.ManagedTransaction, name: str, stale: int, now: int) -> None:
    tx.run(_TOUCH, name=name, stale=stale, now=now).consume()


def _revoke(tx: neo4j.ManagedTransaction, name: str) -> int:
    record = tx.run(_REVOKE, name=name).single()
    return int(record["deleted"]) if record is not None else 0


class Neo4jTokenStore:
    """A :class:`~lineage.access.tokens.TokenStore` on the lineage store's Neo4j driver."""

    def __init__(
        self,
        driver: neo4j.Driver,
        database: str,
        bookmarks: BookmarkRelay | None = None,
        *,
        async_read: ReadRows | None = None,
    ) -> None:
        self.driver = driver
        self.database = database
        self.bookmarks = bookmarks or BookmarkRelay()
        # The lineage store's asyncio reads (with its bookmarks), for authenticate_async.
        self.async_read = async_read
        # Token lookups and last-use notes sent (Bolt queries), for tests.
        self.reads_sent = 0
        self.notes_sent = 0
        # Tokens whose last-use note this process is writing: when the minute
        # turns under many requests of one token, one of them notes it and the
        # others do not queue on the token's node behind it.
        self._noting: set[str] = set()
        self._noting_lock = threading.Lock()

    def _write_session(self) -> neo4j.Session:
        return self.driver.session(
            database=self.database,
            default_access_mode=neo4j.WRITE_ACCESS,
            bookmark_manager=self.bookmarks.write,
        )

    def create(self, name: str, role: Role) -> str:
        check_token_name(name)
        token = new_token()
        with self._write_session() as session:
            try:
                session.execute_write(_create, name, role.label, hash_token(token))
            except ConstraintError as error:
                raise duplicate_name(name) from error
        return token

    def list(self) -> list[TokenInfo]:
        records, _, _ = self.driver.execute_query(
            _LIST,
            database_=self.database,
            routing_=neo4j.RoutingControl.READ,
            bookmark_manager_=self.bookmarks.read,
        )
        return [
            TokenInfo(
                r["name"],
                Role.parse(r["role"]),
                _moment(r["created"]) or datetime.min,
                _moment(r["used"]),
            )
            for r in records
        ]

    def revoke(self, name: str) -> bool:
        with self._write_session() as session:
            return session.execute_write(_revoke, name) > 0

    def authenticate(self, token: str) -> TokenInfo | None:
        presented = hash_token(token)
        self.reads_sent += 1
        # An auto-commit read: one round trip (a managed transaction adds its commit's).
        with self.driver.session(
            database=self.database,
            default_access_mode=neo4j.READ_ACCESS,
            bookmark_manager=self.bookmarks.read,
        ) as session:
            records = list(session.run(_FIND, hash=presented))
        record = _matching(records, presented)
        if record is None:
            return None
        return _info(record, self._note_if_stale(record))

    async def authenticate_async(self, token: str) -> TokenInfo | None:
        """:meth:`authenticate` on the running event loop (the store's asyncio driver).

        Without ``async_read`` it runs :meth:`authenticate` in a worker thread.
        """
        if self.async_read is None:
            return await asyncio.to_thread(self.authenticate, token)
        presented = hash_token(token)
        self.reads_sent += 1
        record = _matching(await self.async_read(_FIND, {"hash": presented}), presented)
        if record is None:
            return None
        used = record["used"]
        if _stale(used) is not None:
            used = await asyncio.to_thread(self._note_if_stale, record)
        return _info(record, used)

    def _note_if_stale(self, record: Mapping[str, Any]) -> int | None:
        """Note the token's use now if its last note is a minute old (unless this
        process is writing one): the last use to report."""
        used: int | None = record["used"]
        stale = _stale(used)
        if stale is None or not self._begin_note(record["name"]):
            return used
        now = time.time_ns() // 1000
        self.notes_sent += 1
        try:
            with self._write_session() as session:
                session.execute_write(_touch, record["name"], stale, now)
            used = now
        except (Neo4jError, DriverError) as error:
            # Best effort, as on SQLite: the caller is authenticated all the same.
            _log.warning("last use of token %r not recorded: %s", record["name"], error)
        finally:
            with self._noting_lock:
                self._noting.discard(record["name"])
        return used

    def _begin_note(self, name: str) -> bool:
        """Whether this call writes the last-use note of ``name`` (none in flight here)."""
        with self._noting_lock:
            if name in self._noting:
                return False
            self._noting.add(name)
            return True

    def close(self) -> None:
        """The driver belongs to the lineage store, which closes it."""


def _matching(records: list[Any], presented: str) -> Mapping[str, Any] | None:
    """The token's record if the lookup found it (hashes compared in constant time)."""
    if not records or not hashes_match(records[0]["hash"], presented):
        return None
    record: Mapping[str, Any] = records[0]
    return record


def _stale(used: int | None) -> int | None:
    """The cut-off a last-use note at ``used`` is older than (None: recent enough)."""
    stale = time.time_ns() // 1000 - LAST_USED_RESOLUTION_S * 1_000_000
    return stale if used is None or used <= stale else None


def _info(record: Mapping[str, Any], used: int | None) -> TokenInfo:
    return TokenInfo(
        record["name"],
        Role.parse(record["role"]),
        _moment(record["created"]) or datetime.min,
        _moment(used),
    )
