"""The service's link to Redis (``LINEAGE_REDIS_URL``) and what happens when it breaks.

Redis shares three things between API processes: write rate limits
(:mod:`api.ratelimit`), live counts (:mod:`api.live_feed`) and the latest
Neo4j bookmarks (:mod:`api.bookmarks`). None of them may fail a request:
when Redis does not answer, each feature falls back to what one process can
do alone (limits per process, live counts by polling the store, bookmarks of
this process only) and tries Redis again after :data:`RETRY_S`. An
:class:`Outage` logs the start and the end of each outage once per feature
and counts them in ``/metrics`` (``lineage_redis_outages_total``, and
``lineage_redis_fallbacks_total`` for the operations served without Redis).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from api.metrics import REDIS_FALLBACKS, REDIS_OUTAGES

__all__ = ["RETRY_S", "TIMEOUT_S", "Outage", "RedisLink", "client_options"]

log = logging.getLogger(__name__)

# Seconds between two tries of a Redis that failed.
RETRY_S = 1.0
# Seconds a Redis command may take before it counts as an outage (loopback
# or a LAN answers in well under a millisecond).
TIMEOUT_S = 0.5


def client_options() -> dict[str, Any]:
    """Options of every Redis client here: short timeouts and no retries (an
    outage is detected at once; the caller falls back and retries later)."""
    return {
        "socket_connect_timeout": TIMEOUT_S,
        "socket_timeout": TIMEOUT_S,
        "retry_on_timeout": False,
        "retry": Retry(NoBackoff(), 0),
    }


class Outage:
    """One feature's view of Redis: up, or down since a failure (logged once)."""

    def __init__(self, feature: str, fallback: str) -> None:
        self.feature = feature
        self.fallback = fallback
        self.down = False
        self._retry_at = 0.0

    def failed(self, error: BaseException) -> None:
        """Redis failed: start an outage (logged and counted once) and wait before retrying."""
        self._retry_at = time.monotonic() + RETRY_S
        if not self.down:
            self.down = True
            REDIS_OUTAGES.labels(self.feature).inc()
            log.warning(
                "Redis unreachable (%s: %s): %s %s until it answers again",
                type(error).__name__,
                error,
                self.feature.replace("_", " "),
                self.fallback,
            )

    def fell_back(self) -> None:
        """Count one operation served without Redis."""
        REDIS_FALLBACKS.labels(self.feature).inc()

    def should_try(self) -> bool:
        """Whether to ask Redis now (always when up; once a RETRY_S when down)."""
        return not self.down or time.monotonic() >= self._retry_at

    def succeeded(self) -> None:
        """Redis answered: end the outage (logged once)."""
        if self.down:
            self.down = False
            log.warning("Redis answers again: %s shared again", self.feature.replace("_", " "))


class RedisLink:
    """Asyncio Redis clients for one URL, one per event loop (a client's
    connections belong to the loop that opened them)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._clients: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}

    def client(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            for old in [old for old in self._clients if old.is_closed()]:
                del self._clients[old]
            client = self._clients[loop] = aioredis.Redis.from_url(self.url, **client_options())
        return client

    def new_client(self) -> aioredis.Redis:
        """A client of its own (a pub/sub connection is held for its subscriptions)."""
        options = client_options()
        options["socket_timeout"] = None  # it waits for messages
        return aioredis.Redis.from_url(self.url, **options)

    async def aclose(self) -> None:
        """Close the running loop's client."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()
