"""Parsed and validated documents, cached by a digest of their text, bounded by bytes.

Strawberry's ``ParserCache`` keys its LRU on the query text, and its
``ValidationCache`` on the parsed document, whose locations hold the text
and every token: each keeps up to its ``maxsize`` texts and trees alive
whatever their length (a megabyte of comments is a handful of tokens, well
within the token limit), so distinct large queries, sent anonymously, grow
a worker by hundreds of megabytes. Here:

* :class:`CachedParse` keys documents by a digest of the text and the parse
  options, and bounds them by an estimate of the bytes each holds; a text
  whose document would be over its share of that budget is parsed every
  time and never kept.
* :class:`CachedValidation` remembers only that a (small) document passed
  validation, by the same digest: no document, no error (errors hold their
  nodes) is kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

from api.graphql.guards import GuardedValidationCache
from api.keys import digest
from api.lru import ByteBoundedLRU

__all__ = ["CachedParse", "CachedValidation", "DocumentCache"]

# What a parsed document holds per character of its text (its nodes, its
# token chain and the text): 80 to 120 bytes measured with sys.getsizeof on
# the service's queries, rounded up.
BYTES_PER_CHAR = 128
# What one remembered validation costs (its key and the map's node).
_VALIDATED_BYTES = 256


@dataclass
class DocumentCache:
    """The documents and validations of one schema (shared by all its requests).

    Parameters
    ----------
    max_bytes : int
        The estimated bytes all cached documents may hold.
    max_entries : int
        The most documents (and, separately, validations) kept.
    share : int
        A document estimated above ``max_bytes / share`` is not kept.
    """

    max_bytes: int = 8 * 1024 * 1024
    max_entries: int = 256
    share: int = 16
    documents: ByteBoundedLRU[bytes, DocumentNode] = field(init=False)
    validated: ByteBoundedLRU[tuple[Any, ...], bool] = field(init=False)

    def __post_init__(self) -> None:
        self.documents = ByteBoundedLRU(
            self.max_bytes, self.max_entries, self.max_bytes // self.share
        )
        self.validated = ByteBoundedLRU(
            self.max_entries * _VALIDATED_BYTES, self.max_entries, _VALIDATED_BYTES
        )

    def key(self, context: ExecutionContext) -> bytes | None:
        """The digest of the request's text and parse options, or None when its
        document would be too large to keep (it is then never cached)."""
        query = context.query
        if query is None or len(query) * BYTES_PER_CHAR > self.documents.max_entry_bytes:
            return None
        return digest(query, repr(sorted(context.parse_options.items())))


class CachedParse(SchemaExtension):
    """Parse through the schema's :class:`DocumentCache` (a miss parses as usual)."""

    def __init__(self, cache: DocumentCache) -> None:
        super().__init__()
        self.cache = cache

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        key = self.cache.key(context)
        if key is not None:
            document = self.cache.documents.get(key)
            if document is not None:
                context.graphql_document = document
                yield
                return
        yield  # Strawberry parses (and reports a syntax error) here
        if key is not None and context.graphql_document is not None:
            assert context.query is not None
            size = len(context.query) * BYTES_PER_CHAR
            self.cache.documents.put(key, context.graphql_document, size)


class CachedValidation(GuardedValidationCache):
    """The guarded validation cache, remembering by text digest that a document is valid."""

    def __init__(self, cache: DocumentCache) -> None:
        super().__init__()
        self.cache = cache
        self.cached_validate_document = self._validate

    def _validate(
        self, schema: GraphQLSchema, document: DocumentNode, rules: tuple[Any, ...]
    ) -> list[GraphQLError]:
        text_key = self.cache.key(self.execution_context)
        if text_key is None:
            return list(validate_document(schema, document, rules))
        # The rule classes are built once per schema (api/graphql/limits.py).
        key = (text_key, tuple(rules))
        if self.cache.validated.get(key):
            return []
        errors = list(validate_document(schema, document, rules))
        if not errors:
            self.cache.validated.put(key, True, _VALIDATED_BYTES)
        return errors
