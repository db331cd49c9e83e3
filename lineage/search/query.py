"""``search``: the videos whose searchable text holds every term, ranked, in keyset pages.

The contract's semantics (``shared/contract.md``, "Search"): the text is
split on whitespace into terms; a video matches when every term occurs in
its prompt, title or creator, NFKC-normalised and case-folded on both sides
(:mod:`lineage.search.text`); ``within`` keeps a video and its derivatives;
matches are ranked by the order's measure, highest first, ties by id
ascending, in keyset pages; the total is exact. Below ``admin`` a removed
video's text is blank, so it matches no term: whether a caller sees a removed
video's text is :func:`lineage.rights.visibility.visibility`'s decision, and
the store leaves removed videos out when the caller does not.

The store answers with the plan :func:`lineage.search.plan.choose_plans`
picks from its estimates of each term's frequency.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lineage.access.tokens import Role
from lineage.errors import InvalidInput, LimitExceeded, VideoNotFound
from lineage.models import VideoRecord
from lineage.rights.policy import REMOVED, VideoRights
from lineage.rights.visibility import visibility
from lineage.search.plan import (
    ESTIMATE_CAP,
    Plan,
    Scope,
    SearchEstimates,
    SearchQuery,
    choose_count_plan,
    choose_plans,
)
from lineage.search.text import MAX_TERMS, split_terms
from lineage.store import LineageStore, VideoOrder
from lineage.tree.queries import MAX_PAGE_SIZE, check_page_size

__all__ = ["MAX_TEXT_LENGTH", "SearchResult", "search", "sees_removed_text"]

# A query's text beyond this is refused (LIMIT_EXCEEDED): no person types it.
MAX_TEXT_LENGTH = 1000
_REMOVED = VideoRights(status=REMOVED, removed_reason="search")


def sees_removed_text(role: Role | None) -> bool:
    """Whether a caller of ``role`` sees (and so can find) a removed video's text."""
    return visibility(role, _REMOVED).text


@dataclass(slots=True)
class SearchResult:
    """One page of matches; :meth:`total` counts every match (read when first asked)."""

    videos: list[VideoRecord]
    has_next: bool
    query: SearchQuery
    plan: Plan | None
    estimates: SearchEstimates
    store: LineageStore = field(repr=False)
    _total: int | None = None

    def total(self) -> int:
        """The exact number of matches (all pages)."""
        if self._total is None:
            estimates = self.estimates
            count_plan = choose_count_plan(self.query, estimates.terms, estimates.store_size)
            self._total = self.store.search_count(self.query, count_plan)
        return self._total


def _terms(text: str) -> tuple[str, ...]:
    if len(text) > MAX_TEXT_LENGTH:
        raise LimitExceeded(
            f"text must be at most {MAX_TEXT_LENGTH:,} characters, got {len(text):,}"
        )
    terms = split_terms(text)
    if not terms:
        raise InvalidInput("text has no term to search for: give at least one word")
    if len(terms) > MAX_TERMS:
        raise LimitExceeded(f"text must have at most {MAX_TERMS} terms, got {len(terms)}")
    return terms


def _scope(store: LineageStore, within: str | None) -> Scope | None:
    if within is None:
        return None
    video = store.get_video(within)
    if video is None:
        raise VideoNotFound(within, f"within: unknown video id {within!r}")
    return Scope(
        video_id=video.id,
        original=video.parent_id is None,
        original_id=video.original_id,
        size=video.derivative_count + 1,
    )


def search(
    store: LineageStore,
    text: str,
    *,
    within: str | None = None,
    first: int = 20,
    after: tuple[int, str] | None = None,
    order: VideoOrder = VideoOrder.DERIVATIVES,
    role: Role | None = None,
    max_page_size: int = MAX_PAGE_SIZE,
) -> SearchResult:
    """The first ``first`` matches of ``text`` after the key ``after``.

    Raises
    ------
    InvalidInput
        When the text has no term (only whitespace), or ``first`` is negative.
    LimitExceeded
        When ``first`` is above ``max_page_size``, or the text is too long.
    VideoNotFound
        When ``within`` names no stored video.

    Notes
    -----
    About ``first`` index entries plus the page's videos for a frequent term
    (a walk down the ranking), the videos holding the rarest term for a rare
    one, the subtree for a small ``within``; never a sort of every match.
    """
    terms = _terms(text)
    size = check_page_size(first, "first", max_page_size)
    scope = _scope(store, within)
    query = SearchQuery(
        terms=terms,
        order=order,
        limit=size + 1,
        after=after,
        scope=scope,
        include_removed=sees_removed_text(role),
    )
    estimates = store.search_estimates(terms, ESTIMATE_CAP)
    result = SearchResult([], False, query, None, estimates, store)
    if min(estimates.terms.values()) == 0:  # an upper bound: some term occurs nowhere
        result._total = 0
        return result
    records: list[VideoRecord] | None = None
    for plan in choose_plans(query, estimates.terms, estimates.store_size, store.search_rankings):
        records = store.search_page(query, plan)
        if records is not None:
            result.plan = plan
            break
    assert records is not None  # the last plan never gives up
    result.has_next = len(records) > size
    result.videos = records[:size]
    if after is None and len(records) < query.limit:
        result._total = len(records)  # the page holds every match
    return result
