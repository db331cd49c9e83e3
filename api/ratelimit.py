"""Write rate limits per token, with the ``limits`` library.

``LINEAGE_API_WRITE_RATE`` (``limits`` notation, default ``600/minute``) is
counted per token name in a moving window kept in ``LINEAGE_API_RATE_STORAGE``
(a ``limits`` storage URI): ``memory://`` counts per process (in
:class:`~api.local_window.LocalMovingWindow`, the same moving window without
``limits``' timer threads), so with N workers a token may write up to N times
the rate; ``redis://host:6379`` shares one count between every worker and host.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.concurrency import run_in_threadpool

from api.local_window import LocalMovingWindow
from lineage.errors import LimitExceeded

__all__ = ["RateLimited", "WriteRateLimiter", "parse_rate"]


def parse_rate(text: str) -> RateLimitItem:
    """The ``limits`` item for a rate such as ``600/minute``; ValueError when invalid."""
    return parse(text)


class RateLimited(LimitExceeded):
    """Too many writes for this token: ``retry_after`` seconds until one is allowed."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class WriteRateLimiter:
    """Counts writes per token name; refuses those beyond the rate."""

    def __init__(self, rate: str, storage_uri: str = "memory://") -> None:
        self.rate = rate
        self.item = parse_rate(rate)
        self.storage = storage_from_string(storage_uri)
        self.limiter = MovingWindowRateLimiter(self.storage)
        # In-process counts answer in microseconds: no thread hop for them.
        self.local: LocalMovingWindow | None = None
        if isinstance(self.storage, MemoryStorage):
            self.local = LocalMovingWindow(self.item.amount, self.item.get_expiry())
        self.inline = self.local is not None

    def _hit(self, key: str) -> int | None:
        if self.local is not None:
            return self.local.hit(key)
        if self.limiter.hit(self.item, "write", key):
            return None
        stats = self.limiter.get_window_stats(self.item, "write", key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def check(self, key: str) -> None:
        """Count one write for ``key``; raise :class:`RateLimited` beyond the rate."""
        retry_after = self._hit(key) if self.inline else await run_in_threadpool(self._hit, key)
        if retry_after is not None:
            raise RateLimited(
                f"write rate limit of {self.rate} exceeded for this token; "
                f"retry after {retry_after} s",
                retry_after,
            )
