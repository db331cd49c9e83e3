"""The FastAPI application factory.

``create_app()`` builds a fresh application (nothing happens at import):
the store opens in the lifespan, unless one is handed in (tests do).
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.routing import Route, WebSocketRoute

from api.bookmarks import SharedBookmarks
from api.cache import ResponseCache
from api.cache_headers import PrivateAnswers
from api.core.config import ApiSettings
from api.graphql.http import LineageGraphQL, ServeFirst
from api.graphql.live import LiveHub
from api.graphql.schema import build_schema
from api.live_feed import make_feed
from api.logging import LogSettings, RequestIdMiddleware, configure_logging
from api.middleware import BodySizeLimit
from api.ratelimit import WriteRateLimiter
from api.read_scopes import ReadScopes
from api.redis_link import RedisLink
from api.routes import export, health, metrics
from api.routes.explorer import mount_explorer
from api.security import cache_partition
from api.timelimit import RequestTimeLimit
from lineage.access.tokens import TokenStore, token_store_for
from lineage.config import LineageSettings, read_settings
from lineage.store import LineageStore
from lineage.stores import open_store
from lineage.stores.neo4j.bookmarks import BookmarkRelay

__all__ = ["create_app"]


def _settle_heap() -> None:
    # The schema, the app and the imported modules live as long as the
    # process: moving them out of the collector's view keeps full collections
    # (and the latency spikes they cause) short.
    gc.collect()
    gc.freeze()


def _tokens_of(store: LineageStore) -> TokenStore | None:
    # A store of no known backend (a test double) has no tokens: every
    # token it is shown is unknown, so only public reads work on it.
    try:
        return token_store_for(store)
    except TypeError:
        return None


def _relay_of(store: object) -> BookmarkRelay | None:
    relay = getattr(store, "bookmarks", None)
    return relay if isinstance(relay, BookmarkRelay) else None


def create_app(
    settings: ApiSettings | None = None,
    *,
    store: LineageStore | None = None,
    lineage_settings: LineageSettings | None = None,
) -> FastAPI:
    """Build the service.

    Parameters
    ----------
    settings : ApiSettings, optional
        Limits, CORS and GraphiQL; read from the environment when omitted.
    store : LineageStore, optional
        An open store to serve (the caller closes it); otherwise the store
        named by ``lineage_settings`` (or the environment) is opened at
        start-up and closed at shutdown.
    lineage_settings : LineageSettings, optional
        Which store to open when ``store`` is not given.
    """
    settings = settings or read_settings(ApiSettings)
    # LINEAGE_REDIS_URL: what the processes share (api/redis_link.py).
    link = RedisLink(settings.redis_url) if settings.redis_url else None

    def start_live(app: FastAPI) -> None:
        # The live-count hub and the feed that tells it trees moved (Redis or polling).
        interval = settings.live_interval_ms / 1000
        feed = make_feed(app.state.store, link, interval=interval)
        app.state.tree_feed = feed
        app.state.live_hub = LiveHub(app.state.store, interval=interval, feed=feed)

    async def stop_live(app: FastAPI) -> None:
        await app.state.tree_feed.aclose()
        if link is not None:
            await link.aclose()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if store is not None:
            app.state.store = store
            app.state.tokens = _tokens_of(store)
            start_live(app)
            _settle_heap()
            try:
                yield
            finally:
                await stop_live(app)
                if app.state.tokens is not None:
                    app.state.tokens.close()
            return
        opened = open_store(lineage_settings or read_settings(LineageSettings))
        app.state.store = opened
        app.state.tokens = _tokens_of(opened)
        start_live(app)
        _settle_heap()
        try:
            yield
        finally:
            await stop_live(app)
            if app.state.tokens is not None:
                app.state.tokens.close()
            opened.close()

    app = FastAPI(
        title="remix-lineage",
        description="How short AI videos are remixed: lineage questions over GraphQL.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.write_limiter = WriteRateLimiter(
        settings.write_rate, settings.rate_storage, redis_url=settings.redis_url
    )

    graphql = LineageGraphQL(
        build_schema(settings),
        settings,
        graphql_ide="graphiql" if settings.graphiql else None,
        allow_queries_via_get=True,
        graphiql_page=settings.web_dist / "graphiql.html",
    )
    # Strawberry's ASGI view itself, without FastAPI's dependency solving; first,
    # so that a GraphQL request is matched before any other route is tried.
    app.router.routes[:0] = [
        Route("/graphql", graphql, include_in_schema=False),
        WebSocketRoute("/graphql", graphql),
    ]
    app.include_router(health.router)
    app.include_router(export.router)
    app.include_router(metrics.router)
    mount_explorer(app, settings.web_dist)
    # Innermost: /graphql needs neither the exception middleware nor the router.
    app.add_middleware(ServeFirst, endpoint=graphql)
    app.add_middleware(
        ResponseCache,
        store=lambda: app.state.store,
        max_entries=settings.response_cache_entries,
        max_bytes=settings.response_cache_bytes,
        http_max_age=settings.http_max_age,
        partition=cache_partition(settings.public_reads),
    )
    # Around the cache, whose version reads belong to the request too.
    app.add_middleware(ReadScopes)
    # Around the cache: its hits and 304s are marked like fresh answers.
    app.add_middleware(PrivateAnswers)
    if link is not None:
        # Outside the cache, whose version reads must wait for other processes' writes.
        app.add_middleware(
            SharedBookmarks, link=link, relay=lambda: _relay_of(getattr(app.state, "store", None))
        )
    if settings.cors_origins:
        # Outside the response cache: the allowed origin is the asking one,
        # computed per request, never replayed from a cached answer.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["content-type", "accept", "authorization"],
        )
    app.add_middleware(RequestTimeLimit, seconds=settings.request_timeout_s)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    # Outermost: every response (refusals included) carries the request id.
    log_settings = LogSettings()
    configure_logging(log_settings)
    app.add_middleware(RequestIdMiddleware, access_log=log_settings.access_log)
    return app
