"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.deps import StoreDep

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up (no store access)."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(store: StoreDep) -> JSONResponse:
    """The store answers: 200 when it does, 503 when it does not."""
    reachable = await run_in_threadpool(store.ping)
    if reachable:
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "unavailable", "detail": "store unreachable"}, status_code=503)
