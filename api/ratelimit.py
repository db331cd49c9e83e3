"""Write rate limits per token, with the ``limits`` library.

``LINEAGE_API_WRITE_RATE`` (``limits`` notation, default ``600/minute``) is
counted per token name in a moving window.

* With ``LINEAGE_REDIS_URL`` set, the window lives in that Redis (the asyncio
  client of ``redis``, through ``limits.aio``): one count for a token across
  every process and host. When Redis does not answer, the count falls back to
  this process's memory (the token may then write up to N times the rate with
  N processes), the outage is logged once and counted in ``/metrics``
  (:mod:`api.redis_link`), and Redis is tried again a second later: a Redis
  outage never fails a write.
* Otherwise the window lives in ``LINEAGE_API_RATE_STORAGE`` (a ``limits``
  storage URI): ``memory://`` (the default) counts per process.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage as AsyncRedisStorage
from limits.aio.strategies import MovingWindowRateLimiter as AsyncMovingWindowRateLimiter
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.concurrency import run_in_threadpool

from api.redis_link import Outage, client_options
from lineage.errors import LimitExceeded

__all__ = ["RateLimited", "WriteRateLimiter", "parse_rate"]

# Keys in a shared Redis: LIMITS:<this prefix>/write/<token name>.
KEY_PREFIX = "LIMITS:lineage"


def parse_rate(text: str) -> RateLimitItem:
    """The ``limits`` item for a rate such as ``600/minute``; ValueError when invalid."""
    return parse(text)


class RateLimited(LimitExceeded):
    """Too many writes for this token: ``retry_after`` seconds until one is allowed."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _SharedWindow:
    """The moving window in Redis, one ``limits.aio`` storage per event loop."""

    def __init__(self, redis_url: str) -> None:
        # limits names async Redis storages async+redis://, async+rediss://...
        self.uri = "async+" + redis_url
        self._limiters: dict[asyncio.AbstractEventLoop, AsyncMovingWindowRateLimiter] = {}

    def limiter(self) -> AsyncMovingWindowRateLimiter:
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:
            for old in [old for old in self._limiters if old.is_closed()]:
                del self._limiters[old]
            options: dict[str, Any] = client_options()
            storage = AsyncRedisStorage(
                self.uri,
                wrap_exceptions=True,
                implementation="redispy",
                key_prefix=KEY_PREFIX,
                **options,
            )
            limiter = self._limiters[loop] = AsyncMovingWindowRateLimiter(storage)
        return limiter


class WriteRateLimiter:
    """Counts writes per token name; refuses those beyond the rate.

    Parameters
    ----------
    rate : str
        Writes allowed per token, ``limits`` notation.
    storage_uri : str
        Where the counts live without Redis (``memory://``: per process).
    redis_url : str, optional
        ``LINEAGE_REDIS_URL``: counts shared there, per process while it is down.
    """

    def __init__(
        self, rate: str, storage_uri: str = "memory://", *, redis_url: str | None = None
    ) -> None:
        self.rate = rate
        self.item = parse_rate(rate)
        self.storage = storage_from_string("memory://" if redis_url else storage_uri)
        self.limiter = MovingWindowRateLimiter(self.storage)
        # The memory storage answers in microseconds: no thread hop for it.
        self.inline = isinstance(self.storage, MemoryStorage)
        self.shared = _SharedWindow(redis_url) if redis_url else None
        self.outage = Outage("rate_limits", "counted per process")

    def _hit(self, key: str) -> int | None:
        if self.limiter.hit(self.item, "write", key):
            return None
        stats = self.limiter.get_window_stats(self.item, "write", key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def _shared_hit(self, key: str) -> tuple[bool, int | None]:
        """Count in Redis: (answered, seconds to wait or None when allowed); not
        answered when Redis is down (the caller counts in memory)."""
        assert self.shared is not None
        if not self.outage.should_try():
            return False, None
        limiter = self.shared.limiter()
        try:
            if await limiter.hit(self.item, "write", key):
                self.outage.succeeded()
                return True, None
            stats = await limiter.get_window_stats(self.item, "write", key)
        except Exception as error:  # limits' StorageError, or a client error it let through
            self.outage.failed(error)
            return False, None
        self.outage.succeeded()
        return True, max(1, math.ceil(stats.reset_time - time.time()))

    async def check(self, key: str) -> None:
        """Count one write for ``key``; raise :class:`RateLimited` beyond the rate."""
        answered, retry_after = False, None
        if self.shared is not None:
            answered, retry_after = await self._shared_hit(key)
            if not answered:
                self.outage.fell_back()
        if not answered:
            retry_after = self._hit(key) if self.inline else await run_in_threadpool(self._hit, key)
        if retry_after is not None:
            raise RateLimited(
                f"write rate limit of {self.rate} exceeded for this token; "
                f"retry after {retry_after} s",
                retry_after,
            )
