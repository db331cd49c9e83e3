"""Reads asked together, sent as one Cypher query: one Bolt round trip per wave.

A GraphQL query resolves in waves: the root field first, then every field of
what it returned, and so on. In one wave the per-request DataLoaders each
batch their own kind of read (videos, generation counts, first pages...),
but the kinds are separate reads. :class:`WaveBatcher` collects the reads
submitted while the event loop works through one wave and sends them as one
query, each read a subquery whose rows come back collected in one column::

    CALL () { CALL () { <read 0> } RETURN collect({v: v, r: r}) AS q0 }
    CALL () { CALL () { <read 1> } RETURN collect({key: key, ...}) AS q1 }
    RETURN q0, q1

Each read keeps its own parameters (renamed ``$q0_ids``...) and its own
plan, index hints included; the subqueries import nothing, so they cannot
see each other. Every collecting subquery returns exactly one row, so the
query returns one row whatever each read finds.

A wave holds the reads of one request only (its
:func:`~lineage.stores.read_scope.read_scope`), in the order of their query
texts: the server plans every query text it has not seen, and a wave that
mixed whatever concurrent requests asked was a new text almost every time,
planned for seconds under load. One request's waves are fixed by its query,
so their texts repeat and their plans come from the server's cache.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, cast

from lineage.stores.neo4j.reads import _Read
from lineage.stores.read_scope import ReadScope, current_scope

__all__ = ["WaveBatcher", "columns_of", "combine"]

_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ALIAS = re.compile(r"\sAS\s+([A-Za-z_][A-Za-z0-9_]*)$", re.IGNORECASE)
_RETURN = re.compile(r"\bRETURN\s+(DISTINCT\s+)?", re.IGNORECASE)
_TAIL = re.compile(r"\s(ORDER\s+BY|SKIP|LIMIT)\s", re.IGNORECASE)
_OPENING, _CLOSING = "([{", ")]}"
# Loop turns without a new read before a wave is sent. A DataLoader asked in
# one turn dispatches its batch two turns later (a callback, then a task).
_QUIET_TURNS = 3


def _top_level(cypher: str) -> list[bool]:
    """For each character: whether it sits outside brackets and string literals."""
    depth, quote, outside = 0, "", []
    for char in cypher:
        if quote:
            outside.append(False)
            if char == quote:
                quote = ""
            continue
        if char in "'\"":
            quote = char
        elif char in _OPENING:
            depth += 1
        elif char in _CLOSING:
            depth -= 1
        outside.append(depth == 0 and not quote)
    return outside


@functools.lru_cache(maxsize=1024)
def columns_of(cypher: str) -> tuple[str, ...] | None:
    """The columns of a read's last top-level ``RETURN``, or None when not plain names.

    Remembered per query text: reads are built from a few templates, and this
    scans the text a character at a time.
    """
    outside = _top_level(cypher)
    found = [m for m in _RETURN.finditer(cypher) if outside[m.start()]]
    if not found:
        return None
    start = found[-1].end()
    end = len(cypher)
    for tail in _TAIL.finditer(cypher, start):
        if outside[tail.start()]:
            end = tail.start()
            break
    items, item_start = [], start
    for index in range(start, end):
        if cypher[index] == "," and outside[index]:
            items.append(cypher[item_start:index].strip())
            item_start = index + 1
    items.append(cypher[item_start:end].strip())
    columns = []
    for item in items:
        alias = _ALIAS.search(item)
        name = alias.group(1) if alias else item
        if not _NAME.match(name):
            return None
        columns.append(name)
    return tuple(columns) if len(set(columns)) == len(columns) else None


def combine(reads: Sequence[_Read[Any]]) -> tuple[str, dict[str, Any]]:
    """One query answering every read (each must have plain columns), and its parameters."""
    parts, parameters = [], {}
    for number, read in enumerate(reads):
        columns = columns_of(read.cypher)
        assert columns is not None, read.cypher
        prefix = f"q{number}_"
        cypher = _PARAMETER.sub(rf"${prefix}\1", read.cypher)
        parameters.update({prefix + name: value for name, value in read.parameters.items()})
        row = ", ".join(f"{column}: {column}" for column in columns)
        parts.append(f"CALL () {{ CALL () {{ {cypher} }} RETURN collect({{{row}}}) AS q{number} }}")
    answers = ", ".join(f"q{number}" for number in range(len(reads)))
    return f"{' '.join(parts)} RETURN {answers}", parameters


Send = Callable[[str, dict[str, Any]], Awaitable[list[Mapping[str, Any]]]]


class _Wave:
    """The reads one scope has asked since its last wave was sent."""

    __slots__ = ("pending", "quiet", "seen")

    def __init__(self) -> None:
        self.pending: list[tuple[_Read[Any], asyncio.Future[Any]]] = []
        self.quiet = 0
        self.seen = 0


class WaveBatcher:
    """Sends the reads each scope submits in one wave of the event loop as one query.

    Parameters
    ----------
    send : callable
        Runs one Cypher query with its parameters and returns its rows.
    """

    def __init__(self, send: Send) -> None:
        self._send = send
        # Per scope (one request; None: reads asked outside any), its open wave.
        self._waves: dict[ReadScope | None, _Wave] = {}
        # The waves being sent: the loop keeps only weak references to tasks.
        self._sending: set[asyncio.Task[None]] = set()

    async def read(self, read: _Read[Any]) -> Any:
        """The answer to ``read``, sent with whatever else this wave of its scope asks."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        scope = current_scope()
        wave = self._waves.get(scope)
        if wave is None:
            wave = self._waves[scope] = _Wave()
            loop.call_soon(self._turn, scope, wave)
        wave.pending.append((read, future))
        return await future

    def _turn(self, scope: ReadScope | None, wave: _Wave) -> None:
        if len(wave.pending) != wave.seen:
            wave.seen, wave.quiet = len(wave.pending), 0
        else:
            wave.quiet += 1
        loop = asyncio.get_running_loop()
        if wave.quiet < _QUIET_TURNS:
            loop.call_soon(self._turn, scope, wave)
            return
        del self._waves[scope]
        task = loop.create_task(self._flush(wave.pending))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _flush(self, wave: list[tuple[_Read[Any], asyncio.Future[Any]]]) -> None:
        alone: list[tuple[_Read[Any], asyncio.Future[Any]]] = []
        together: list[tuple[_Read[Any], asyncio.Future[Any]]] = []
        for item in wave:
            (together if columns_of(item[0].cypher) is not None else alone).append(item)
        if len(together) == 1:
            alone, together = alone + together, []
        # The same reads give the same text, whichever resolver asked first.
        together.sort(key=lambda item: item[0].cypher)
        sends = [self._one(read, future) for read, future in alone]
        if together:
            sends.append(self._many(together))
        await asyncio.gather(*sends)

    async def _one(self, read: _Read[Any], future: asyncio.Future[Any]) -> None:
        try:
            rows = await self._send(read.cypher, read.parameters)
            answer = cast(Any, read.answer)(rows)
        except Exception as error:  # the caller gets it, as if it had sent the read
            if not future.done():
                future.set_exception(error)
            return
        if not future.done():
            future.set_result(answer)

    async def _many(self, items: list[tuple[_Read[Any], asyncio.Future[Any]]]) -> None:
        reads = [read for read, _ in items]
        cypher, parameters = combine(reads)
        try:
            rows = await self._send(cypher, parameters)
            answers = [cast(Any, read.answer)(rows[0][f"q{n}"]) for n, read in enumerate(reads)]
        except Exception:
            # Each read alone, so a failure reaches only the read that caused it.
            await asyncio.gather(*(self._one(read, future) for read, future in items))
            return
        for (_, future), answer in zip(items, answers, strict=True):
            if not future.done():
                future.set_result(answer)
