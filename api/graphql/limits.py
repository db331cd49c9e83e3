"""The query limits: depth, aliases and tokens, as Strawberry extensions.

Strawberry's limiters build their validation rule classes when they are
constructed. Constructed per request, that would make every request's rules
new classes, and the validation cache (keyed by the rules) would never hit.
So the rule classes are built once per schema here, and each request gets a
fresh, stateless :class:`AddValidationRules` carrying those same classes.
"""

from __future__ import annotations

from collections.abc import Callable

from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from api.core.config import ApiSettings

__all__ = ["limit_extensions"]


def limit_extensions(settings: ApiSettings) -> list[Callable[[], SchemaExtension]]:
    """Extension factories enforcing ``settings``' depth, alias and token limits."""
    rules = tuple(
        QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules
        + MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules
    )
    return [
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: AddValidationRules(list(rules)),
    ]
