"""An exact moving-window rate counter kept in this process, without threads.

``limits``' memory storage keeps each key's hits in a list it grows at the
front and expires from a timer thread it starts again every 10 ms: under a
steady stream of writes that is a thread start and a list copy per write,
several milliseconds of a busy worker. This keeps the same moving window
(at most ``limit`` hits in any ``expiry`` seconds) as a deque per key:
a hit drops the expired entries at the left and appends at the right.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["LocalMovingWindow"]


class LocalMovingWindow:
    """At most ``limit`` hits per key in any window of ``expiry`` seconds.

    Parameters
    ----------
    limit : int
        Hits allowed in one window.
    expiry : float
        The window's length in seconds.
    clock : callable, optional
        Seconds, monotonic (for tests).
    """

    def __init__(
        self, limit: int, expiry: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.expiry = expiry
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> int | None:
        """Count a hit for ``key``: None when allowed, else whole seconds until one is."""
        now = self.clock()
        with self._lock:
            hits = self._hits.get(key)
            if hits is None:
                hits = self._hits[key] = deque()
            horizon = now - self.expiry
            while hits and hits[0] <= horizon:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1, math.ceil(hits[0] - horizon))
            hits.append(now)
            if len(self._hits) > 4 * 1024:
                self._forget_idle(horizon)
            return None

    def _forget_idle(self, horizon: float) -> None:
        # Keys whose last hit left the window hold nothing: drop them.
        for key in [key for key, hits in self._hits.items() if not hits or hits[-1] <= horizon]:
            del self._hits[key]
