"""Prometheus metrics, multiprocess-safe across uvicorn workers.

With ``PROMETHEUS_MULTIPROC_DIR`` set (``lineage serve --workers N`` sets it
to a fresh directory when it is not), every worker writes its samples there
and ``GET /metrics`` in any worker adds up all of them; without it, the
process's own registry is served.

Operation names come from clients: they are reduced to a safe identifier
and, beyond :data:`MAX_OPERATION_NAMES` distinct ones per process, counted
as ``other``, so a caller cannot blow up the number of series.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from strawberry.extensions import SchemaExtension

__all__ = [
    "CACHE_LOOKUPS",
    "CONTENT_TYPE_LATEST",
    "GRAPHQL_REQUESTS",
    "GRAPHQL_SECONDS",
    "IMPORTED_VIDEOS",
    "REDIS_FALLBACKS",
    "REDIS_OUTAGES",
    "REFUSALS",
    "STORE_ERRORS",
    "GraphQLMetrics",
    "metrics_text",
    "operation_label",
]

MAX_OPERATION_NAMES = 200
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_seen_names: set[str] = set()

GRAPHQL_REQUESTS = Counter(
    "lineage_graphql_requests",
    "GraphQL operations executed, by operation name and type",
    ["operation", "type"],
)
GRAPHQL_SECONDS = Histogram(
    "lineage_graphql_request_seconds",
    "Time to run a GraphQL operation, by operation name and type",
    ["operation", "type"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
)
REFUSALS = Counter("lineage_refusals", "Requests or fields refused, by error code", ["code"])
STORE_ERRORS = Counter("lineage_store_errors", "Unexpected errors while serving (store faults)")
CACHE_LOOKUPS = Counter("lineage_response_cache", "Response cache lookups", ["result"])
IMPORTED_VIDEOS = Counter(
    "lineage_imported_videos", "Videos written through the API, by outcome", ["outcome"]
)

# LINEAGE_REDIS_URL (api/redis_link.py): outages begun (each logged once) and
# what was served without Redis meanwhile, by feature (rate_limits,
# live_counts, bookmarks).
REDIS_OUTAGES = Counter(
    "lineage_redis_outages", "Redis outages seen (each logged once), by feature", ["feature"]
)
REDIS_FALLBACKS = Counter(
    "lineage_redis_fallbacks",
    "Operations served without Redis during an outage, by feature",
    ["feature"],
)


def operation_label(name: str | None) -> str:
    """A bounded, safe label for a client-chosen operation name."""
    if not name:
        return "anonymous"
    if not _NAME.match(name):
        return "invalid"
    if name not in _seen_names:
        if len(_seen_names) >= MAX_OPERATION_NAMES:
            return "other"
        _seen_names.add(name)
    return name


# The counter and histogram children of each (operation label, kind): found once,
# not by two label look-ups per request. Bounded as the labels are.
_SERIES: dict[tuple[str, str], tuple[Any, Any]] = {}


def _series(name: str, kind: str) -> tuple[Any, Any]:
    found = _SERIES.get((name, kind))
    if found is None:
        found = _SERIES[(name, kind)] = (
            GRAPHQL_REQUESTS.labels(name, kind),
            GRAPHQL_SECONDS.labels(name, kind),
        )
    return found


class GraphQLMetrics(SchemaExtension):
    """Counts and times every operation; counts refusals by code."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        try:
            kind = context.operation_type.value
        except (RuntimeError, AttributeError):  # the document never parsed
            kind = "unknown"
        requests, seconds = _series(operation_label(context.operation_name), kind)
        requests.inc()
        seconds.observe(time.perf_counter() - started)
        result = context.result
        for error in (result.errors if result is not None else None) or ():
            code = str((error.extensions or {}).get("code", "UNKNOWN"))
            REFUSALS.labels(code).inc()
            if code in ("INTERNAL_SERVER_ERROR", "STORE_UNAVAILABLE"):
                STORE_ERRORS.inc()


def metrics_text() -> bytes:
    """The exposition text: every worker's samples in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)
