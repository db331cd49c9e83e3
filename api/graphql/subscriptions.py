"""``videoUpdated``: what a subscriber is pushed, and for how long.

Each push is the video as a fresh query would show it to the subscriber
now: the context forgets its loaders and who the caller is, takes the
pushed state into its loaders, and the fields resolve as in a query (a
removed video's text masked below ``admin`` by the same resolvers). The
first push is the state when the subscription starts; then one per change
of the video's counters or rights state (api/graphql/live.py).

A subscription opened with a live token ends with ``UNAUTHENTICATED`` once
the token is revoked: it is looked up again before every push and every
live interval in between. With private reads, a socket that outlived its
token cannot open a new subscription either.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING

from api.graphql.context import LineageContext
from api.security import Unauthenticated
from lineage.access.tokens import Role

if TYPE_CHECKING:
    from api.graphql.types import Video

__all__ = ["video_updates"]


async def video_updates(context: LineageContext, video_id: str) -> AsyncGenerator[Video, None]:
    """The pushes of one ``videoUpdated`` subscription (NOT_FOUND for an unknown id)."""
    from api.graphql.types import Video

    if context.live is None:  # a context made outside the service
        raise RuntimeError("live counts are not served here")
    access = context.access
    access.refresh()  # the socket's verdict may be older than this subscription
    if not context.settings.public_reads:
        await access.require(Role.READER)
    holder = await access.principal()
    # Only a token holder has something to lose while nothing changes.
    check_every = None if holder is None else context.live.interval
    async with context.live.watch(video_id) as updates:
        while True:
            state = await updates.next(check_every)
            context.forget()
            if holder is not None and await access.principal() is None:
                raise Unauthenticated(f"token {holder.name!r} was revoked")
            if state is None:
                continue
            context.prime([state.record])
            context.rights.prime(state.record.id, state.rights)
            yield Video.from_record(state.record)
