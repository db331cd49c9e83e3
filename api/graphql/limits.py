"""The query limits: depth, aliases and tokens, as Strawberry extensions.

Strawberry's limiters build their validation rule classes when they are
constructed. Constructed per request, that would make every request's rules
new classes, and the validation cache (keyed by the rules) would never hit.
So the rule classes are built once per schema here, and each request gets one
fresh, stateless :class:`QueryLimits` carrying those same classes and the token
limit (one extension rather than two: each costs its hooks on every request).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from graphql import ASTValidationRule
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension

from api.core.config import ApiSettings

__all__ = ["QueryLimits", "limit_extensions"]


class QueryLimits(SchemaExtension):
    """The token limit (while parsing, as Strawberry's ``MaxTokensLimiter``) and
    the depth and alias rules (added to validation, as ``AddValidationRules``)."""

    def __init__(self, max_tokens: int, rules: tuple[type[ASTValidationRule], ...]) -> None:
        self.max_tokens = max_tokens
        self.rules = rules

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.max_tokens
        context.validation_rules = context.validation_rules + self.rules
        yield


def limit_extensions(settings: ApiSettings) -> list[Callable[[], SchemaExtension]]:
    """Extension factories enforcing ``settings``' depth, alias and token limits."""
    rules = tuple(
        QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules
        + MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules
    )
    return [lambda: QueryLimits(settings.max_tokens, rules)]
