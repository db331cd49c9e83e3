"""API tokens and roles: the protocol every backend's token store implements.

A token is shown once, when it is created; a store keeps only its SHA-256
hash (tokens are 256 random bits, so a fast hash is enough: there is nothing
to guess) and compares hashes in constant time. Roles include the ones
before them: ``reader`` < ``writer`` < ``admin``.

Stores never cache tokens in memory: every authentication reads the store,
so a revoked token is refused on the next request by every worker and
process.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from lineage.errors import ConflictError, InvalidInput

if TYPE_CHECKING:
    from lineage.store import LineageStore

__all__ = [
    "LAST_USED_MAX_WAIT_S",
    "LAST_USED_RESOLUTION_S",
    "Role",
    "TokenInfo",
    "TokenStore",
    "check_token_name",
    "hash_token",
    "hashes_match",
    "new_token",
    "token_store_for",
]

# Last use is written at most this often per token, so authenticated reads
# are not turned into writes.
LAST_USED_RESOLUTION_S = 60
# The last-use note is best effort on every store: it never waits behind a
# writer longer than this, and a note that fails is skipped (the next
# request after the resolution tries again); authentication itself is a read.
LAST_USED_MAX_WAIT_S = 0.5

_NAME = re.compile(r"^[A-Za-z0-9_.:@-]{1,64}$")
_PREFIX = "lin_"


class Role(enum.IntEnum):
    """Access roles; each includes the ones before it."""

    READER = 1
    WRITER = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise InvalidInput(f"unknown role {text!r}: expected reader, writer or admin") from None


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What a store knows of a token (never the token itself)."""

    name: str
    role: Role
    created_at: datetime
    last_used_at: datetime | None


def new_token() -> str:
    """A fresh random token: ``lin_`` and 43 URL-safe characters (256 bits)."""
    return _PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The hex SHA-256 of a token, as stores keep it."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def hashes_match(stored: str, presented: str) -> bool:
    """Compare two token hashes in constant time."""
    return hmac.compare_digest(stored.encode("ascii"), presented.encode("ascii"))


def check_token_name(name: str) -> str:
    """``name`` if it is a valid token name (1 to 64 of letters, digits, ``_ . : @ -``)."""
    if not _NAME.match(name):
        raise InvalidInput(f"invalid token name {name!r}: 1 to 64 letters, digits or _ . : @ -")
    return name


def duplicate_name(name: str) -> ConflictError:
    return ConflictError(f"a token named {name!r} already exists; revoke it first")


@runtime_checkable
class TokenStore(Protocol):
    """Where the API's tokens live: next to the lineage data, in the same store."""

    def create(self, name: str, role: Role) -> str:
        """Make a token; returns it (the only time it is seen). Names are unique."""
        ...

    def list(self) -> list[TokenInfo]:
        """Every live token, by name."""
        ...

    def revoke(self, name: str) -> bool:
        """Delete the token called ``name``; False when there was none."""
        ...

    def authenticate(self, token: str) -> TokenInfo | None:
        """The token's info when it is live, else None; notes its last use."""
        ...

    def close(self) -> None: ...


def token_store_for(store: LineageStore) -> TokenStore:
    """The token store kept in the same place as ``store``'s data."""
    from lineage.stores.sqlite import SQLiteStore

    if isinstance(store, SQLiteStore):
        from lineage.stores.sqlite.tokens import SQLiteTokenStore

        return SQLiteTokenStore(store.path)
    from lineage.stores.neo4j import Neo4jStore

    if isinstance(store, Neo4jStore):
        from lineage.stores.neo4j.tokens import Neo4jTokenStore

        return Neo4jTokenStore(
            store.driver, store.database, store.bookmarks, async_read=store.async_reads.read_rows
        )
    raise TypeError(f"no token store for {type(store).__name__}")
