"""Reads on the event loop take turns with everything else the loop serves.

SQLite answers on the event loop: a thread hop would cost more than most of
its reads. But a query that fans out makes thousands of resolvers ready at
once, and the loop runs every ready callback of an iteration before it looks
at its sockets and timers again: ``/healthz``, other clients and the time
limit's own timer would wait for the whole fan-out. So once inline reads have
kept the loop busy for :data:`SLICE` seconds in one iteration, the reads left
in it wait for the next iteration, and the loop serves the rest in between.
"""

from __future__ import annotations

import asyncio
from weakref import WeakKeyDictionary

__all__ = ["SLICE", "take_turn"]

# Seconds of inline reads one loop iteration may run before the rest wait.
SLICE = 0.02


class _Stretch:
    """The start of the current iteration's run of inline reads (None: none yet)."""

    __slots__ = ("started",)

    def __init__(self) -> None:
        self.started: float | None = None

    def end(self) -> None:
        self.started = None


_STRETCHES: WeakKeyDictionary[asyncio.AbstractEventLoop, _Stretch] = WeakKeyDictionary()


async def take_turn() -> None:
    """Return when an inline read may run without holding the loop past its slice."""
    loop = asyncio.get_running_loop()
    stretch = _STRETCHES.get(loop)
    if stretch is None:
        stretch = _STRETCHES[loop] = _Stretch()
    while True:
        now = loop.time()
        if stretch.started is None:
            stretch.started = now
            # Runs at the start of the next iteration, before the reads that
            # wait below are resumed: each iteration gets a fresh slice.
            loop.call_soon(stretch.end)
            return
        if now - stretch.started < SLICE:
            return
        await asyncio.sleep(0)
