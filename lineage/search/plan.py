"""How a search is answered: the query a store runs and the plan chosen by selectivity.

Three ways find the first page of matches, ranked by the order's measure
(highest first, ties by id):

* ``RANKING``: walk the order's ranking of every video from the top (an
  index that the store keeps in that order) and test each video's text,
  until the page is full. It reads about ``page / share`` videos, where
  ``share`` is the part of the store that matches: cheap for a frequent
  term, hopeless for a rare one. Only orders the store ranks globally
  (:attr:`~lineage.store.LineageStore.search_rankings`) have it.
* ``TEXT``: ask the text index for the videos that hold the most selective
  term (the *driver*), test the others, and rank what is left. It reads
  every video that holds the driver: cheap for a rare term.
* ``SCOPE``: with ``within``, read the video and its derivatives (an index
  range) and test their text: cheap for a small subtree.

:func:`choose_plans` puts them in order of estimated cost, from the store's
estimate of how many videos hold each term (capped: a term beyond the cap
is "frequent") and the store's size. A walk has a budget of rows: when it
runs out (terms that are frequent alone but rare together, or rare in the
scope) the next plan answers, so no plan ever reads much more than the
cheapest would have. The exact ``totalCount`` is counted with the cheapest
plan that reads every match (``TEXT`` or ``SCOPE``), only when asked for.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from lineage.store import VideoOrder

__all__ = [
    "ESTIMATE_CAP",
    "Plan",
    "Scope",
    "SearchEstimates",
    "SearchQuery",
    "Strategy",
    "choose_count_plan",
    "choose_plans",
]

# Estimates are exact up to this many videos; beyond it a term is frequent.
ESTIMATE_CAP = 2000
# Relative cost of one video read by each strategy: a ranking walk reads
# index entries in order and tests their text; the text index and a scope
# read videos in no useful order, then rank them.
_WALK_COST = 1.0
_READ_COST = 2.0
# A walk reads at most this many times its estimate (and at least _MIN_BUDGET)
# before it gives way to the next plan.
_BUDGET_FACTOR = 4
_MIN_BUDGET = 2000


class Strategy(enum.Enum):
    """How the store finds the matches (see the module's notes)."""

    RANKING = "ranking"
    TEXT = "text"
    SCOPE = "scope"


@dataclass(frozen=True, slots=True)
class Scope:
    """``within``: a stored video and its derivatives."""

    video_id: str
    original: bool  # an original's subtree is its whole tree
    original_id: str
    size: int  # the video and its derivatives


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """One page of a search, as a store runs it.

    ``terms`` are normalised (:func:`lineage.search.text.split_terms`);
    ``limit`` is the page size plus one (the extra one says whether a next
    page exists); ``after`` the (measure, id) key of the last video already
    seen; ``include_removed``: whether removed videos keep their text
    (only for callers who see it, :func:`lineage.rights.visibility.visibility`).
    """

    terms: tuple[str, ...]
    order: VideoOrder
    limit: int
    after: tuple[int, str] | None = None
    scope: Scope | None = None
    include_removed: bool = False


@dataclass(frozen=True, slots=True)
class SearchEstimates:
    """What a store tells the planner: its size and, for each term, about how many
    videos hold it (an upper bound, exact up to the cap; above it: "at least")."""

    store_size: int
    terms: dict[str, int]


@dataclass(frozen=True, slots=True)
class Plan:
    """A strategy with its parameters: the driver term of ``TEXT``, the row budget
    of ``RANKING``."""

    strategy: Strategy
    driver: str | None = None
    budget: int = 0


def _driver(estimates: dict[str, int]) -> str:
    """The most selective term (ties: the longest, then the first in order)."""
    return min(estimates, key=lambda term: (estimates[term], -len(term), term))


def _costs(
    query: SearchQuery, estimates: dict[str, int], store_size: int, ranked: bool
) -> list[tuple[float, Plan]]:
    driver = _driver(estimates)
    selected = estimates[driver]
    # Beyond the cap the term is frequent: reading its videos costs at least that
    # many, and maybe the whole store; a walk is then the plan to try first.
    frequent = selected > ESTIMATE_CAP
    text_reads = float(store_size if frequent else max(selected, 1))
    costs: list[tuple[float, Plan]] = [(text_reads * _READ_COST, Plan(Strategy.TEXT, driver))]
    size = max(store_size, 1)
    if query.scope is not None:
        costs.append((query.scope.size * _READ_COST, Plan(Strategy.SCOPE)))
    if ranked:
        # The share of the ranking that matches, terms and scope taken as independent.
        share = min(max(selected, 1), size) / size
        if query.scope is not None:
            share *= min(query.scope.size, size) / size
        rows = min(query.limit / share, float(size))
        budget = max(_MIN_BUDGET, int(rows * _BUDGET_FACTOR))
        costs.append((rows * _WALK_COST, Plan(Strategy.RANKING, budget=budget)))
    costs.sort(key=lambda item: item[0])
    return costs


def choose_plans(
    query: SearchQuery, estimates: dict[str, int], store_size: int, rankings: frozenset[VideoOrder]
) -> list[Plan]:
    """The plans to try for a page, cheapest first; the last one never gives up.

    Parameters
    ----------
    estimates : dict
        For each term, about how many videos hold it (capped at
        :data:`ESTIMATE_CAP`: a larger value means "at least that many").
    store_size : int
        About how many videos the store holds.
    rankings : frozenset of VideoOrder
        The orders the store ranks every video by (``RANKING`` needs one).

    Examples
    --------
    >>> q = SearchQuery(("hippo",), VideoOrder.DERIVATIVES, 21)
    >>> every = frozenset(VideoOrder)
    >>> [p.strategy.value for p in choose_plans(q, {"hippo": 100_000}, 10**6, every)]
    ['ranking', 'text']
    >>> [p.strategy.value for p in choose_plans(q, {"hippo": 9}, 10**6, every)]
    ['text']
    >>> [p.strategy.value for p in choose_plans(q, {"hippo": 100_000}, 10**6, frozenset())]
    ['text']
    """
    ranked = query.order in rankings
    plans = [plan for _, plan in _costs(query, estimates, store_size, ranked)]
    # A walk may give up; the first plan after it reads every match and never does.
    final = next(i for i, plan in enumerate(plans) if plan.strategy is not Strategy.RANKING)
    return plans[: final + 1]


def choose_count_plan(query: SearchQuery, estimates: dict[str, int], store_size: int) -> Plan:
    """The cheapest plan that reads every match (``TEXT`` or ``SCOPE``), to count them."""
    # Without a ranking: a walk stops at the page, it never reads every match.
    return _costs(query, estimates, store_size, False)[0][1]
