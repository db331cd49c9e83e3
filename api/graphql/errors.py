"""Error codes on every GraphQL error, and no internals in messages.

Refusals of the lineage core carry their contract code (``NOT_FOUND``,
``INVALID_INPUT``, ``CYCLE``, ``CONFLICT``, ``LIMIT_EXCEEDED``...). Refusals
of the query limits get ``LIMIT_EXCEEDED``; other parse and validation
errors ``GRAPHQL_PARSE_FAILED`` / ``GRAPHQL_VALIDATION_FAILED``. Anything
unexpected is logged with its stack trace and reaches the client only as
``INTERNAL_SERVER_ERROR`` with a fixed message.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from lineage.errors import ErrorCode, LineageError

__all__ = ["INTERNAL_ERROR_MESSAGE", "ErrorCodes", "code_of", "with_code"]

logger = logging.getLogger("api.graphql")

INTERNAL_ERROR_MESSAGE = "internal error; it has been logged"

# The messages of Strawberry's limit extensions and graphql-core's token limit.
_LIMIT_MESSAGES = re.compile(
    r"exceeds maximum operation depth of \d+"
    r"|^\d+ aliases found\. Allowed: \d+"
    r"|Document contains more than \d+ tokens"
    r"|^Maximum introspection depth exceeded"
)


_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def code_of(error: GraphQLError) -> str:
    """The ``extensions.code`` a GraphQL error is reported with."""
    original = error.original_error
    given = (error.extensions or {}).get("code")
    if original is None and isinstance(given, str):  # our own guards set theirs
        return given
    if isinstance(original, LineageError):
        return original.code
    if original is None:
        if _LIMIT_MESSAGES.search(error.message):
            return ErrorCode.LIMIT_EXCEEDED
        if error.message.startswith("Syntax Error"):
            return "GRAPHQL_PARSE_FAILED"
        return "GRAPHQL_VALIDATION_FAILED"
    if isinstance(original, GraphQLError):  # e.g. a variable that does not coerce
        return code_of(original)
    return "INTERNAL_SERVER_ERROR"


def with_code(error: GraphQLError) -> GraphQLError:
    """A copy of ``error`` with its ``extensions.code``; unexpected errors masked."""
    code = code_of(error)
    message = error.message
    if code == "INTERNAL_SERVER_ERROR":
        logger.error(
            "unexpected error in GraphQL resolver at %s",
            error.path,
            exc_info=error.original_error,
        )
        message = INTERNAL_ERROR_MESSAGE
    elif isinstance(error.original_error, LineageError):
        message = error.original_error.message
    else:
        # No "Did you mean ...?": suggestions would map the schema for a caller.
        message = _SUGGESTION.sub("", message)
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error if code != "INTERNAL_SERVER_ERROR" else None,
        extensions={**(error.extensions or {}), "code": code},
    )


class ErrorCodes(SchemaExtension):
    """Give every error of a result its code, and mask unexpected ones."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [with_code(error) for error in result.errors]

    def on_stream_result(self, result: Any) -> Iterator[None]:
        # Each result a subscription pushes (its errors too) gets its codes.
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = [
                error if "code" in (error.extensions or {}) else with_code(error)
                for error in errors
            ]
        yield
