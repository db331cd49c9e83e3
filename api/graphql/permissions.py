"""Who may run which field: Strawberry permission classes.

Attach them to any field: ``@strawberry.mutation(permission_classes=WRITE)``.

* :class:`CanRead`: queries; anyone while ``LINEAGE_API_PUBLIC_READS`` is
  true (the default), else a ``reader`` token or above
  (:class:`CanSubscribe` for subscriptions).
* :class:`IsWriter`, :class:`IsAdmin`: a live token with that role or above.
* :class:`WithinWriteRate`: the token's write rate (``LINEAGE_API_WRITE_RATE``);
  beyond it ``LIMIT_EXCEEDED`` and HTTP 429 with ``Retry-After``.

A refusal raises the error with its contract code (``UNAUTHENTICATED``,
``FORBIDDEN``, ``LIMIT_EXCEEDED``), so the client learns which it was.
"""

from __future__ import annotations

from typing import Any, ClassVar

from strawberry.permission import BasePermission
from strawberry.types import Info

from api.ratelimit import RateLimited, WriteRateLimiter
from lineage.access.tokens import Role

__all__ = [
    "ADMIN",
    "READ",
    "SUBSCRIBE",
    "WRITE",
    "CanRead",
    "CanSubscribe",
    "IsAdmin",
    "IsReader",
    "IsWriter",
    "WithinWriteRate",
]


class _HasRole(BasePermission):
    role: ClassVar[Role]
    message = "not allowed"

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        await info.context.access.require(self.role)
        return True


class IsReader(_HasRole):
    """A ``reader`` token or above."""

    role = Role.READER


class IsWriter(_HasRole):
    """A ``writer`` token or above."""

    role = Role.WRITER


class IsAdmin(_HasRole):
    """An ``admin`` token."""

    role = Role.ADMIN


class CanRead(BasePermission):
    """Public reads, unless ``LINEAGE_API_PUBLIC_READS=false`` asks for a ``reader`` token.

    It waits for nothing, so a query field that waits for nothing either
    resolves without an awaitable: with private reads the HTTP layer looks
    the token up before execution, and the check uses that verdict.
    """

    message = "not allowed"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if not info.context.settings.public_reads:
            info.context.access.require_now(Role.READER)
        return True


class CanSubscribe(BasePermission):
    """:class:`CanRead` for subscriptions: a socket's context outlives one verdict
    (each push looks the token up again), so this one may wait for the token store."""

    message = "not allowed"

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if not info.context.settings.public_reads:
            await info.context.access.require(Role.READER)
        return True


class WithinWriteRate(BasePermission):
    """Counts the write against its token's rate; put it after a role check."""

    message = "write rate limit exceeded"

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        context = info.context
        limiter: WriteRateLimiter | None = getattr(context.request.app.state, "write_limiter", None)
        if limiter is None:
            return True
        principal = await context.access.principal()
        key = principal.name if principal is not None else "anonymous"
        try:
            await limiter.check(key)
        except RateLimited as error:
            response = context.response
            if response is not None:
                response.status_code = 429
                response.headers["retry-after"] = str(error.retry_after)
            raise
        return True


# The lists fields take as ``permission_classes``.
READ: list[type[BasePermission]] = [CanRead]
SUBSCRIBE: list[type[BasePermission]] = [CanSubscribe]
WRITE: list[type[BasePermission]] = [IsWriter, WithinWriteRate]
ADMIN: list[type[BasePermission]] = [IsAdmin, WithinWriteRate]
