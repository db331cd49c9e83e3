"""``GET /metrics``: Prometheus text format (see :mod:`api.metrics`)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.metrics import CONTENT_TYPE_LATEST, metrics_text

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response)
def metrics() -> Response:
    """Counters and latency histograms of every worker."""
    return Response(metrics_text(), media_type=CONTENT_TYPE_LATEST)
