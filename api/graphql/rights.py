"""GraphQL for rights: takedown state, attribution and downstream views of a video.

The resolvers here are attached to :class:`api.graphql.types.Video`; the
``takedown`` and ``restore`` mutations to the schema's ``Mutation``. A
removed video's ``prompt`` reads as an empty string and its ``title`` and
``creator`` as null for every caller below ``admin`` (:func:`is_admin` asks
the context for the caller's role). Rights states load through the
context's ``rights`` loader, so a page of videos costs one store call.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from lineage.access.tokens import Role, TokenInfo
from lineage.rights import policy as rights
from lineage.rights.policy import VideoRights
from lineage.rights.visibility import visibility

if TYPE_CHECKING:
    from api.graphql.context import LineageContext
    from api.graphql.types import Video

__all__ = [
    "Attribution",
    "AttributionPolicy",
    "VideoStatus",
    "is_admin",
    "restore_video",
    "takedown_video",
    "words_hidden",
    "words_hidden_now",
]

RightsInfo = Info[Any, None]


@strawberry.enum(description="Whether a video is up or taken down.")
class VideoStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    REMOVED = "REMOVED"


AttributionPolicy = strawberry.enum(
    rights.AttributionPolicy,
    name="AttributionPolicy",
    description="RELATIVE: the ancestor k generations up gets rate^k; ABSOLUTE: each gets rate.",
)


@strawberry.type(description="One ancestor's share of a remix's value.")
class Attribution:
    video: Annotated[Video, strawberry.lazy("api.graphql.types")]
    share: float


async def _caller(info: RightsInfo) -> TokenInfo | None:
    access = getattr(info.context, "access", None)
    return None if access is None else await access.principal()


async def is_admin(info: RightsInfo) -> bool:
    """Whether the caller sent a live token with the ``admin`` role."""
    caller = await _caller(info)
    return caller is not None and caller.role >= Role.ADMIN


async def _actor(info: RightsInfo) -> str | None:
    caller = await _caller(info)
    return None if caller is None else caller.name


async def _rights_of(root: Any, info: RightsInfo) -> VideoRights:
    context: LineageContext = info.context
    return await context.rights.load(root.record.id)


async def words_hidden(video_id: str, info: RightsInfo) -> bool:
    """Whether the caller may not read the video's words: the one rule of
    :func:`lineage.rights.visibility.visibility`, as every export applies it."""
    context: LineageContext = info.context
    rights = await context.rights.load(video_id)
    if not rights.is_removed:  # the token is looked up only for removed videos
        return False
    caller = await _caller(info)
    return not visibility(None if caller is None else caller.role, rights).text


def words_hidden_now(video_id: str, info: RightsInfo) -> bool | None:
    """:func:`words_hidden` from what the request already holds (the video's rights
    state, and for a removed video the caller), or None when it must be read."""
    context: LineageContext = info.context
    held = context.rights.cache_map.get(video_id)
    if held is None or not held.done() or held.cancelled() or held.exception():
        return None
    rights = held.result()
    if not rights.is_removed:
        return False
    caller = getattr(context, "access", None)
    if caller is None or not caller.checked:
        return None
    info_of = caller.checked_principal
    return not visibility(None if info_of is None else info_of.role, rights).text


async def _hidden(root: Any, info: RightsInfo) -> bool:
    return await words_hidden(root.record.id, info)


# -- Video fields ----------------------------------------------------------------------
async def resolve_prompt(root: Any, info: RightsInfo) -> str:
    return "" if await _hidden(root, info) else str(root.record.prompt)


async def resolve_title(root: Any, info: RightsInfo) -> str | None:
    return None if await _hidden(root, info) else root.record.title


async def resolve_creator(root: Any, info: RightsInfo) -> str | None:
    return None if await _hidden(root, info) else root.record.creator


async def resolve_status(root: Any, info: RightsInfo) -> VideoStatus:
    return VideoStatus((await _rights_of(root, info)).status)


async def resolve_removed_reason(root: Any, info: RightsInfo) -> str | None:
    return (await _rights_of(root, info)).removed_reason


async def resolve_removed_at(root: Any, info: RightsInfo) -> datetime | None:
    return (await _rights_of(root, info)).removed_at


async def resolve_removed_derivative_count(root: Any, info: RightsInfo) -> int:
    if root.record.derivative_count == 0:
        return 0
    return (await _rights_of(root, info)).removed_derivative_count


async def resolve_c2pa_manifest(root: Any, info: RightsInfo) -> str | None:
    return (await _rights_of(root, info)).c2pa_manifest


async def resolve_derived_from_removed(root: Any, info: RightsInfo) -> bool:
    if root.record.parent_id is None:
        return False
    context = info.context
    # It depends on the status of every ancestor: a takedown anywhere in the tree.
    context.trees.add(root.record.original_id)
    found = await context.read(context.store.derived_from_removed, [root.record.id])
    return bool(found.get(root.record.id, False))


async def resolve_attribution(
    root: Any,
    info: RightsInfo,
    policy: rights.AttributionPolicy | None = rights.AttributionPolicy.RELATIVE,
    rate: float | None = 0.1,
) -> list[Attribution]:
    from api.graphql.types import Video

    policy, rate = policy or rights.AttributionPolicy.RELATIVE, 0.1 if rate is None else rate
    record = root.record
    rights.check_rate(policy, rate, record.generation)
    if record.parent_id is None:
        return []
    context = info.context
    path = await context.read(context.store.lineage_path, record.id)
    ancestors = await context.videos.load_many([node.id for node in path[1:]])
    await context.turn()
    return [
        Attribution(
            video=Video.from_record(ancestor),
            share=rate**hops if policy is rights.AttributionPolicy.RELATIVE else rate,
        )
        for hops, ancestor in enumerate(ancestors, start=1)
        if ancestor is not None
    ]


async def resolve_downstream_views(
    root: Any,
    info: RightsInfo,
    policy: rights.AttributionPolicy | None = rights.AttributionPolicy.RELATIVE,
    rate: float | None = 0.1,
) -> float:
    policy, rate = policy or rights.AttributionPolicy.RELATIVE, 0.1 if rate is None else rate
    record = root.record
    rights.check_rate(policy, rate)
    if record.derivative_count == 0:
        return 0.0
    context = info.context
    totals = await context.read(context.store.generation_views_many, [record.id])
    return rights.downstream_views_of(record.generation, totals[record.id], policy, rate)


# -- mutations ---------------------------------------------------------------------------
async def takedown_video(info: RightsInfo, video_id: str, reason: str) -> Video:
    """Take a video down, logged with the caller's token name; the video as it is now."""
    from api.graphql.types import Video

    context = info.context
    await context.write(rights.takedown, context.store, video_id, reason, await _actor(info))
    return Video.from_record(await _fresh(info, video_id))


async def restore_video(info: RightsInfo, video_id: str) -> Video:
    """Restore a removed video, logged with the caller's token name."""
    from api.graphql.types import Video

    context = info.context
    await context.write(rights.restore, context.store, video_id, await _actor(info))
    return Video.from_record(await _fresh(info, video_id))


async def _fresh(info: RightsInfo, video_id: str) -> Any:
    from lineage.errors import VideoNotFound

    context = info.context
    record = await context.read(context.store.get_video, video_id)
    if record is None:
        raise VideoNotFound(video_id)
    # The loader may hold the state from before the change.
    context.rights.clear_all()
    return record
