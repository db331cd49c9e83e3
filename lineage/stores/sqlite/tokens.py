"""API tokens in the SQLite store: one ``api_tokens`` table in the same file.

Each thread has its own connection; nothing is cached between calls, so a
token revoked by ``lineage token revoke`` (another process) is refused on
the next request.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from lineage.access.tokens import (
    LAST_USED_RESOLUTION_S,
    Role,
    TokenInfo,
    check_token_name,
    duplicate_name,
    hash_token,
    hashes_match,
    new_token,
)
from lineage.errors import StoreUnavailable

__all__ = ["SQLiteTokenStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_tokens (
    name         TEXT    PRIMARY KEY,
    role         TEXT    NOT NULL CHECK (role IN ('reader', 'writer', 'admin')),
    token_hash   TEXT    NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    created_us   INTEGER NOT NULL,
    last_used_us INTEGER
)
"""


def _now_us() -> int:
    return time.time_ns() // 1000


def _moment(micros: int | None) -> datetime | None:
    return None if micros is None else datetime.fromtimestamp(micros / 1e6, UTC)


class SQLiteTokenStore:
    """A :class:`~lineage.access.tokens.TokenStore` in a lineage SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        try:
            self._conn().execute(_SCHEMA)
        except sqlite3.Error as error:
            raise StoreUnavailable(f"cannot open tokens in {str(self.path)!r}: {error}") from error

    def _conn(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = FULL")  # a revocation survives power loss
            connection.execute("PRAGMA busy_timeout = 30000")
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def create(self, name: str, role: Role) -> str:
        check_token_name(name)
        token = new_token()
        try:
            self._conn().execute(
                "INSERT INTO api_tokens (name, role, token_hash, created_us) VALUES (?, ?, ?, ?)",
                (name, role.label, hash_token(token), _now_us()),
            )
        except sqlite3.IntegrityError as error:
            raise duplicate_name(name) from error
        return token

    def list(self) -> list[TokenInfo]:
        rows = self._conn().execute(
            "SELECT name, role, created_us, last_used_us FROM api_tokens ORDER BY name"
        )
        return [
            TokenInfo(name, Role.parse(role), _moment(created) or datetime.min, _moment(used))
            for name, role, created, used in rows
        ]

    def revoke(self, name: str) -> bool:
        cursor = self._conn().execute("DELETE FROM api_tokens WHERE name = ?", (name,))
        return cursor.rowcount > 0

    def authenticate(self, token: str) -> TokenInfo | None:
        presented = hash_token(token)
        row = (
            self._conn()
            .execute(
                "SELECT name, role, token_hash, created_us, last_used_us FROM api_tokens "
                "WHERE token_hash = ?",
                (presented,),
            )
            .fetchone()
        )
        if row is None or not hashes_match(row[2], presented):
            return None
        name, role, _, created, used = row
        now = _now_us()
        if used is None or now - used >= LAST_USED_RESOLUTION_S * 1_000_000:
            connection = self._conn()
            # A best-effort note never waits behind a writer: the API
            # authenticates in-process stores on its event loop.
            connection.execute("PRAGMA busy_timeout = 0")
            try:
                connection.execute(
                    "UPDATE api_tokens SET last_used_us = ? WHERE name = ?", (now, name)
                )
                used = now
            except sqlite3.OperationalError:
                pass
            finally:
                connection.execute("PRAGMA busy_timeout = 30000")
        return TokenInfo(name, Role.parse(role), _moment(created) or datetime.min, _moment(used))

    def close(self) -> None:
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()
