"""Pages of remixes and the resolvers' choice of read: at once, or through a loader.

What :mod:`api.graphql.types`' list fields share: cutting a page and its
cursors, reading it through the per-request loader or here and now on an
in-process store (``reads_now``), and the rights states its diffs' words need.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar, cast

import strawberry
from graphql import FieldNode, InlineFragmentNode
from strawberry.types import Info

from api.graphql.context import LineageContext
from api.graphql.cursors import decode_cursor, encode_cursor
from lineage.models import VideoRecord
from lineage.rights.policy import DEFAULT_RIGHTS
from lineage.store import VideoOrder as DomainVideoOrder
from lineage.tree import queries

__all__ = [
    "LineageInfo",
    "PageInfo",
    "alone",
    "asks_words",
    "cut_page",
    "first_page_now",
    "later",
    "ranked_page",
    "ranked_page_now",
    "reads_now",
    "rights_now",
    "selects",
]

LineageInfo = Info[LineageContext, None]
T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


def later(coroutine: Coroutine[Any, Any, T]) -> T:
    """A resolver's awaitable answer: graphql-core awaits what a plain resolver returns
    (typed as the answer itself, which Strawberry's annotations name)."""
    return cast(T, coroutine)


def alone(info: LineageInfo) -> bool:
    """Whether the field's object is reached through no list: nothing else in the
    query asks the same loader for the same kind of row at the same time."""
    path: Any = info.path
    while path is not None:
        if isinstance(path.key, int):
            return False
        path = path.prev
    return True


def reads_now(info: LineageInfo) -> bool:
    """Whether a resolver should read the store at once rather than through a loader."""
    return info.context.reads_now and alone(info)


def selects(info: LineageInfo, name: str) -> bool:
    """Whether the current field's selection may ask for ``name`` (fragments: assume so)."""
    for node in info._raw_info.field_nodes:
        if node.selection_set is None:
            continue
        for selection in node.selection_set.selections:
            if not isinstance(selection, FieldNode) or selection.name.value == name:
                return True
    return False


def cut_page(
    records: list[VideoRecord], first: int, order: DomainVideoOrder
) -> tuple[list[tuple[str, VideoRecord]], PageInfo]:
    """Cut one extra record off (it only tells whether a next page exists)."""
    has_next = len(records) > first
    page = records[:first]
    cursors = [(encode_cursor(order, queries.measure_of(r, order), r.id), r) for r in page]
    end = cursors[-1][0] if cursors else None
    return cursors, PageInfo(has_next_page=has_next, end_cursor=end)


async def ranked_page(
    context: LineageContext,
    parent_id: str | None,
    first: int | None,
    after: str | None,
    order_by: DomainVideoOrder | None,
) -> tuple[list[tuple[str, VideoRecord]], PageInfo]:
    """One page of a parent's remixes (originals when ``parent_id`` is None), with cursors.

    ``None`` arguments take the contract's defaults (20, DERIVATIVES). First
    pages of remixes go through the per-request loader, so asking for the
    remixes of many videos costs one batch.
    """
    size = queries.check_page_size(
        20 if first is None else first, "first", context.settings.max_page_size
    )
    order = order_by or DomainVideoOrder.DERIVATIVES
    if after is None and parent_id is not None:
        records = await context.remix_pages.load((parent_id, order, size + 1))
        await context.turn()
    else:
        key = decode_cursor(after, order) if after is not None else None
        records = await context.read(context.store.children, parent_id, order, size + 1, key)
        context.prime(records)
    return cut_page(records, size, order)


# Fields below a page of remixes whose answer depends on each remix's rights.
_WORDS = frozenset({"summary", "ops"})


def asks_words(info: LineageInfo) -> bool:
    """Whether the field's selection asks, anywhere below, for a diff's words
    (fragment spreads: assume so)."""
    pending = [node.selection_set for node in info._raw_info.field_nodes]
    while pending:
        selection_set = pending.pop()
        if selection_set is None:
            continue
        for selection in selection_set.selections:
            if not isinstance(selection, FieldNode | InlineFragmentNode):
                return True
            if isinstance(selection, FieldNode) and selection.name.value in _WORDS:
                return True
            pending.append(selection.selection_set)
    return False


def first_page_now(
    context: LineageContext, parent_id: str, order: DomainVideoOrder, size: int
) -> list[VideoRecord]:
    """A parent's first ``size`` remixes read here and now (``reads_now``), primed."""
    found = context.read_now(context.store.children_many, [parent_id], order, size)
    records = found.get(parent_id, [])
    context.prime(records)
    return records


def rights_now(context: LineageContext, records: list[VideoRecord]) -> None:
    """The rights states of a page of remixes, read here and now in one call and held
    for their diffs' words (which then resolve without waiting)."""
    missing = [r.id for r in records if context.rights.cache_map.get(r.id) is None]
    if not missing:
        return
    found = context.read_now(context.store.video_rights, missing)
    for video_id in missing:
        context.rights.prime(video_id, found.get(video_id, DEFAULT_RIGHTS))


def ranked_page_now(
    context: LineageContext,
    parent_id: str,
    first: int | None,
    after: str | None,
    order_by: DomainVideoOrder | None,
) -> tuple[list[tuple[str, VideoRecord]], PageInfo]:
    """:func:`ranked_page` of one parent's remixes, read here and now (``reads_now``)."""
    size = queries.check_page_size(
        20 if first is None else first, "first", context.settings.max_page_size
    )
    order = order_by or DomainVideoOrder.DERIVATIVES
    if after is None:
        records = first_page_now(context, parent_id, order, size + 1)
    else:
        key = decode_cursor(after, order)
        records = context.read_now(context.store.children, parent_id, order, size + 1, key)
        context.prime(records)
    return cut_page(records, size, order)
