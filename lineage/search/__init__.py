"""Search: find videos by the words of their prompt, title or creator (the contract's "Search").

:mod:`~lineage.search.text` normalises texts and splits queries into terms,
:mod:`~lineage.search.plan` chooses how a store finds a page by the terms'
selectivity, :mod:`~lineage.search.query` runs a search and
:mod:`~lineage.search.check` is ``lineage check``'s part: the index holds
exactly the stored text. Each store's part is its ``search`` module.
"""

from lineage.search.plan import Plan, Scope, SearchEstimates, SearchQuery, Strategy
from lineage.search.query import SearchResult, search, sees_removed_text
from lineage.search.text import normalise, searchable_text, split_terms

__all__ = [
    "Plan",
    "Scope",
    "SearchEstimates",
    "SearchQuery",
    "SearchResult",
    "Strategy",
    "normalise",
    "search",
    "searchable_text",
    "sees_removed_text",
    "split_terms",
]
