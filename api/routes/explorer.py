"""The remix-tree explorer: the built page at ``/`` and its assets.

The page is built from ``web/`` by ``scripts/bootstrap`` (npm and Vite) into
``ApiSettings.web_dist``; it talks to ``/graphql`` like any other client.
``/?video=ID`` and ``/?q=TEXT[&within=ID]`` are the same page: it reads the
address itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, PlainTextResponse, Response
from starlette.staticfiles import StaticFiles

__all__ = ["NOT_BUILT", "HashedAssets", "mount_explorer"]

NOT_BUILT = (
    "The explorer page is not built. Run scripts/bootstrap (it needs Node.js 20+ and npm), "
    "or build it by hand: cd web && npm ci && npm run build.\n"
    "The GraphQL API is at /graphql.\n"
)


class HashedAssets(StaticFiles):
    """Vite's assets: their names carry a content hash, so browsers keep them."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["cache-control"] = "public, max-age=31536000, immutable"
        return response


def mount_explorer(app: FastAPI, web_dist: Path) -> None:
    """Serve ``web_dist/index.html`` at ``/`` and ``web_dist/assets`` at ``/assets``.

    Parameters
    ----------
    app : FastAPI
        The service.
    web_dist : Path
        Vite's output folder. When it holds no page, ``/`` answers 503 with
        how to build it (the API still works).
    """
    router = APIRouter(tags=["explorer"])
    index = web_dist / "index.html"

    @router.get("/", response_model=None, include_in_schema=False)
    async def explorer() -> Response:
        """The explorer page; ``?video=ID`` selects a video, ``?q=TEXT`` searches."""
        if not index.is_file():
            return PlainTextResponse(NOT_BUILT, status_code=503)
        # The page names its hashed assets: it must never be cached stale.
        return FileResponse(index, headers={"cache-control": "no-cache"})

    app.include_router(router)
    assets = web_dist / "assets"
    # Built after the service started: a restart serves the new assets.
    if assets.is_dir():
        app.mount("/assets", HashedAssets(directory=assets), name="assets")
