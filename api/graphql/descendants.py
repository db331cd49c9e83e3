"""GraphQL ``Video.descendants``: every derivative, breadth first, in keyset pages.

Attached to :class:`api.graphql.types.Video`. Each edge's node is the remix
edge of one derivative (its ``child`` is the derivative, its ``parent`` that
derivative's parent). The cursor is the derivative's ``(generation, id)``,
so remixes written while a client pages never repeat or skip an item; a page
is one index range read (:mod:`lineage.tree.descendants`). ``totalCount`` counts
what the arguments select, from the maintained counts: the derivative count,
or with ``generation`` that generation's count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from api.graphql.cursors import decode_descendant_cursor, encode_descendant_cursor
from lineage.tree import queries
from lineage.tree.descendants import check_generation, descendant_total

if TYPE_CHECKING:
    from api.graphql.types import RemixConnection

__all__ = ["resolve_descendants"]

DescendantsInfo = Info[Any, None]


async def resolve_descendants(
    root: Any,
    info: DescendantsInfo,
    first: int | None = 20,
    after: str | None = None,
    generation: Annotated[
        int | None,
        strawberry.argument(
            description="Only this absolute generation (like Video.generation); one not "
            "greater than the video's own selects none."
        ),
    ] = None,
) -> Annotated[RemixConnection, strawberry.lazy("api.graphql.types")]:
    from api.graphql.types import PageInfo, Remix, RemixConnection, RemixEdge

    context = info.context
    size = queries.check_page_size(
        20 if first is None else first, "first", context.settings.max_page_size
    )
    check_generation(generation)
    key = None if after is None else decode_descendant_cursor(after)
    record = root.record
    total = 0
    if record.derivative_count and (generation is None or generation > record.generation):
        counts = []
        if generation is not None:
            loaded = await context.generation_counts.load(record.id)
            counts = [(item.generation, item.count) for item in loaded]
        total = descendant_total(record, counts, generation)
    records = []
    if total:
        records = await context.read(
            context.store.descendant_page,
            record.id,
            record.parent_id is None,
            size + 1,
            key,
            generation,
        )
        context.prime(records)
    page = records[:size]
    edges = [
        RemixEdge(cursor=encode_descendant_cursor(r.generation, r.id), node=Remix.of(r))
        for r in page
    ]
    return RemixConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(records) > size, end_cursor=edges[-1].cursor if edges else None
        ),
        total_count=total,
    )
