"""Who is calling: bearer tokens checked against the store, on every request.

FastAPI's :class:`~fastapi.security.HTTPBearer` reads ``Authorization:
Bearer TOKEN``; :class:`Access` authenticates it lazily (only when a field
or route needs a role) and at most once per request, reading the token
store each time, so a revoked token is refused by every worker from the
next request on. GraphQL fields check roles through the permission classes
of :mod:`api.graphql.permissions`; routes through :func:`require_role`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, cast

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.types import Scope

from api.metrics import REFUSALS
from lineage.access.tokens import Role, TokenInfo, TokenStore
from lineage.errors import ErrorCode, LineageError
from lineage.text import with_article

__all__ = [
    "Access",
    "AccessDep",
    "ConnectionAccessDep",
    "Forbidden",
    "Unauthenticated",
    "bearer",
    "cache_partition",
    "get_access",
    "get_connection_access",
    "require_role",
]

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="Authorization: Bearer TOKEN (made by `lineage token create NAME --role ROLE`).",
)


class Unauthenticated(LineageError):
    """No token, or one the store does not know (never made, or revoked)."""

    code = ErrorCode.UNAUTHENTICATED


class Forbidden(LineageError):
    """A valid token whose role is too low."""

    code = ErrorCode.FORBIDDEN


class Access:
    """The caller of one request: its bearer token, authenticated on first need.

    Parameters
    ----------
    tokens : TokenStore
        Where tokens are checked (read on every request, never cached).
    credentials : HTTPAuthorizationCredentials or None
        What :data:`bearer` found in the request.
    inline : bool
        Whether the token store answers in process (SQLite): then it is read
        on the event loop; else through its ``authenticate_async`` when it has
        one (Neo4j's asyncio driver), or in a worker thread.
    """

    def __init__(
        self,
        tokens: TokenStore | None,
        credentials: HTTPAuthorizationCredentials | None,
        *,
        inline: bool = False,
    ) -> None:
        self.tokens = tokens
        self.token = credentials.credentials if credentials is not None else None
        self.inline = inline
        self._checked = False
        self._info: TokenInfo | None = None

    async def principal(self) -> TokenInfo | None:
        """The live token of this request, or None (none sent, unknown or revoked)."""
        if not self._checked:
            self._checked = True
            if self.token and self.tokens is not None:
                if self.inline:
                    self._info = self.tokens.authenticate(self.token)
                elif (on_loop := getattr(self.tokens, "authenticate_async", None)) is not None:
                    # A remote store's asyncio driver: no worker thread per request.
                    self._info = await on_loop(self.token)
                else:
                    self._info = await run_in_threadpool(self.tokens.authenticate, self.token)
        return self._info

    def principal_now(self) -> TokenInfo | None:
        """:meth:`principal` without waiting: the verdict already reached, or the
        token store read here and now (on the event loop, even for a remote one).

        For a check that runs inside a resolver that waits for nothing; HTTP
        requests with private reads have looked the token up before execution.
        """
        if not self._checked:
            self._checked = True
            if self.token and self.tokens is not None:
                self._info = self.tokens.authenticate(self.token)
        return self._info

    @property
    def checked(self) -> bool:
        """Whether the token has been authenticated in this request already."""
        return self._checked

    @property
    def checked_principal(self) -> TokenInfo | None:
        """What :meth:`principal` found (only once :attr:`checked`)."""
        return self._info

    def refresh(self) -> None:
        """Forget the verdict: the next :meth:`principal` reads the token store
        again (a WebSocket connection outlives the request that opened it)."""
        self._checked = False
        self._info = None

    async def require(self, role: Role) -> TokenInfo:
        """The caller's token if its role is at least ``role``; else refuse."""
        return self.verdict(await self.principal(), role)

    def require_now(self, role: Role) -> TokenInfo:
        """:meth:`require` without waiting (:meth:`principal_now`)."""
        return self.verdict(self.principal_now(), role)

    def verdict(self, info: TokenInfo | None, role: Role) -> TokenInfo:
        """``info`` if it is a live token with at least ``role``; else refuse."""
        if info is None:
            reason = "no token sent" if not self.token else "unknown or revoked token"
            raise Unauthenticated(
                f"this needs {with_article(role.label)} token (Authorization: Bearer TOKEN): "
                f"{reason}"
            )
        if info.role < role:
            raise Forbidden(
                f"token {info.name!r} has role {info.role.label}; this needs {role.label}"
            )
        return info


def _access_for(
    request: HTTPConnection, credentials: HTTPAuthorizationCredentials | None
) -> Access:
    store = request.app.state.store
    return Access(
        getattr(request.app.state, "tokens", None),
        credentials,
        inline=bool(getattr(store, "in_process", False)),
    )


async def get_access(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Access:
    """FastAPI dependency: the request's :class:`Access` (one per request)."""
    access: Access | None = getattr(request.state, "access", None)
    if access is None:
        access = _access_for(request, credentials)
        request.state.access = access
    return access


AccessDep = Annotated[Access, Depends(get_access)]


async def get_connection_access(connection: HTTPConnection) -> Access:
    """Like :func:`get_access`, for HTTP requests and WebSocket handshakes alike.

    FastAPI fills ``Request`` parameters for HTTP only; the GraphQL context
    getter also serves subscriptions, so it reads the same ``Authorization:
    Bearer`` header through :data:`bearer` on either kind of connection.
    """
    access: Access | None = getattr(connection.state, "access", None)
    if access is None:
        # HTTPBearer reads only the headers, which both kinds of connection have.
        credentials = await bearer(cast(Request, connection))
        access = _access_for(connection, credentials)
        connection.state.access = access
    return access


ConnectionAccessDep = Annotated[Access, Depends(get_connection_access)]


def require_role(role: Role) -> Callable[..., Awaitable[TokenInfo]]:
    """A route dependency: 401 without a live token, 403 when its role is too low."""

    async def dependency(access: AccessDep) -> TokenInfo:
        try:
            return await access.require(role)
        except Unauthenticated as error:
            REFUSALS.labels(error.code).inc()
            raise HTTPException(
                401,
                detail={"code": error.code, "message": error.message},
                headers={"WWW-Authenticate": "Bearer"},
            ) from error
        except Forbidden as error:
            REFUSALS.labels(error.code).inc()
            raise HTTPException(
                403, detail={"code": error.code, "message": error.message}
            ) from error

    return dependency


def cache_partition(public_reads: bool) -> Callable[[Scope], Awaitable[str | None]]:
    """What the response cache asks before it answers: the caller's audience.

    Answers depend on the role (a removed video's prompt is shown to admins
    only), so admins, other token holders and anonymous callers never share
    a cached answer. A request that sends no live token is anonymous with
    public reads; with private reads it gets None and goes through to the
    schema, which refuses it exactly as it would without the cache.
    """

    async def partition(scope: Scope) -> str | None:
        request = Request(scope)
        credentials = await bearer(request)
        info = None
        if credentials is not None:
            # The request's one Access: the schema's context reuses it, so the
            # token is looked up once per request.
            access: Access | None = getattr(request.state, "access", None)
            if access is None:
                access = request.state.access = _access_for(request, credentials)
            info = await access.principal()
        if info is None:
            return "public" if public_reads else None
        return "admin" if info.role >= Role.ADMIN else "token"

    return partition
