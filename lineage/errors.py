"""Errors raised by the lineage domain.

Each error carries the ``code`` that clients see (the GraphQL
``extensions.code`` of the contract) and names the ids it is about.
"""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "CycleError",
    "ErrorCode",
    "Forbidden",
    "InvalidInput",
    "LimitExceeded",
    "LineageError",
    "StoreUnavailable",
    "VideoNotFound",
]


class ErrorCode:
    """The contract's error codes."""

    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    CYCLE = "CYCLE"
    CONFLICT = "CONFLICT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"


class LineageError(Exception):
    """Base class: a refusal with a client-facing code and message."""

    code = ErrorCode.INVALID_INPUT

    def __init__(self, message: str, *, video_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.video_id = video_id


class InvalidInput(LineageError):
    code = ErrorCode.INVALID_INPUT


class VideoNotFound(LineageError):
    code = ErrorCode.NOT_FOUND

    def __init__(self, video_id: str, message: str | None = None) -> None:
        super().__init__(message or f"unknown video id {video_id!r}", video_id=video_id)


class CycleError(LineageError):
    code = ErrorCode.CYCLE


class ConflictError(LineageError):
    code = ErrorCode.CONFLICT


class Forbidden(LineageError):
    code = ErrorCode.FORBIDDEN


class LimitExceeded(LineageError):
    code = ErrorCode.LIMIT_EXCEEDED


class StoreUnavailable(LineageError):
    """The configured store cannot be reached or opened."""

    code = "STORE_UNAVAILABLE"
