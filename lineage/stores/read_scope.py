"""Which request a store read is asked for, so that a store batches each request's reads
apart from other requests'.

A store that sends the reads of one wave of resolvers as one query
(:mod:`lineage.stores.neo4j.waves`) groups them by the scope that is current
when each read is asked. A server opens one scope per request; reads asked
outside any scope (a subscription's polling, scripts) share one group.

>>> from lineage.stores.read_scope import current_scope, read_scope
>>> current_scope() is None
True
>>> with read_scope() as scope:
...     current_scope() is scope
True
>>> current_scope() is None
True
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["ReadScope", "current_scope", "read_scope"]


class ReadScope:
    """One request's reads: a key compared by identity."""

    __slots__ = ()


_CURRENT: ContextVar[ReadScope | None] = ContextVar("lineage_read_scope", default=None)


def current_scope() -> ReadScope | None:
    """The scope of the running request, or None outside any."""
    return _CURRENT.get()


@contextmanager
def read_scope() -> Iterator[ReadScope]:
    """A new scope for the reads asked inside the block (and the tasks it starts)."""
    scope = ReadScope()
    token = _CURRENT.set(scope)
    try:
        yield scope
    finally:
        _CURRENT.reset(token)
