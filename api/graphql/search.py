"""GraphQL ``Query.search``: videos by the words of their prompt, title or creator.

The contract's "Search": ``search(text, within, first, after, orderBy)``
answers a ``VideoConnection`` of the matches ranked by ``orderBy`` (ties by
id), in keyset pages whose cursors are those of the other ranked lists;
``totalCount`` is the exact number of matches, counted only when the query
asks for it. The domain (:func:`lineage.search.search`) decides everything
else: an empty text is ``INVALID_INPUT``, ``first`` above the maximum page
size ``LIMIT_EXCEEDED``, an unknown ``within`` ``NOT_FOUND``, and below
``admin`` a removed video's text is blank (it matches nothing).

The response cache (:mod:`api.cache`): an answer without ``within`` depends
on every tree (any write could add a match), so it reads the whole-store
version; with ``within`` it depends on that video's tree only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from api.graphql.cursors import decode_cursor, encode_cursor
from lineage.search import SearchResult, search
from lineage.store import ANY_TREE
from lineage.store import VideoOrder as DomainVideoOrder
from lineage.tree.queries import measure_of

if TYPE_CHECKING:
    from api.graphql.types import VideoConnection

__all__ = ["resolve_search"]

SearchInfo = Info[Any, None]


async def resolve_search(
    info: SearchInfo,
    text: Annotated[
        str,
        strawberry.argument(
            description="Terms separated by whitespace; each must occur in the prompt, "
            "title or creator (NFKC-normalised and case-folded on both sides)."
        ),
    ],
    within: Annotated[
        strawberry.ID | None,
        strawberry.argument(description="Only this video and its derivatives."),
    ] = None,
    first: int | None = 20,
    after: str | None = None,
    order_by: DomainVideoOrder | None = DomainVideoOrder.DERIVATIVES,
) -> Annotated[VideoConnection, strawberry.lazy("api.graphql.types")]:
    from api.graphql.pages import selects
    from api.graphql.types import PageInfo, Video, VideoConnection, VideoEdge

    context = info.context
    order = order_by or DomainVideoOrder.DERIVATIVES
    key = None if after is None else decode_cursor(after, order)
    caller = await context.access.principal()
    role = None if caller is None else caller.role
    size = 20 if first is None else first
    scope = None if within is None else str(within)
    max_page_size = context.settings.max_page_size

    def search_page() -> SearchResult:
        return search(
            context.store,
            text,
            within=scope,
            first=size,
            after=key,
            order=order,
            role=role,
            max_page_size=max_page_size,
        )

    result = await context.read(search_page, owners=())
    if result.query.scope is None:
        context.trees.add(ANY_TREE)  # a write into any tree may add or take a match
    else:
        context.trees.add(result.query.scope.original_id)
    context.note_videos(result.videos)
    context.prime(result.videos)
    total = await context.read(result.total, owners=()) if selects(info, "totalCount") else 0
    edges = [
        VideoEdge(
            cursor=encode_cursor(order, measure_of(record, order), record.id),
            node=Video.from_record(record),
        )
        for record in result.videos
    ]
    return VideoConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=result.has_next, end_cursor=edges[-1].cursor if edges else None
        ),
        total_count=total,
    )
