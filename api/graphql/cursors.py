"""Opaque keyset cursors for connections.

A cursor names the last item a client has seen by its ranking key, the
(measure, id) pair, and the order it was ranked by. The next page starts
strictly after that key, so remixes that arrive while a client pages are
never counted twice and never push an item past the client (what offset
paging would do).
"""

from __future__ import annotations

import base64
import binascii
import json

from lineage.errors import InvalidInput
from lineage.store import VideoOrder

__all__ = [
    "decode_cursor",
    "decode_descendant_cursor",
    "encode_cursor",
    "encode_descendant_cursor",
]

_PREFIX = "k1:"
# Video.descendants: the (generation, id) of the last derivative seen.
_DESCENDANT_PREFIX = "d1:"


def encode_cursor(order: VideoOrder, measure: int, video_id: str) -> str:
    payload = json.dumps([order.value, measure, video_id], separators=(",", ":"))
    return base64.urlsafe_b64encode((_PREFIX + payload).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, order: VideoOrder) -> tuple[int, str]:
    """The (measure, id) key in ``cursor``, which must come from a page ranked by ``order``."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
        if not text.startswith(_PREFIX):
            raise ValueError(text)
        order_name, measure, video_id = json.loads(text[len(_PREFIX) :])
        if not isinstance(measure, int) or not isinstance(video_id, str):
            raise ValueError(text)
    except (ValueError, UnicodeDecodeError, binascii.Error, TypeError) as error:
        raise InvalidInput(f"after: {cursor!r} is not a cursor of this API") from error
    if order_name != order.value:
        raise InvalidInput(
            f"after: the cursor comes from a list ordered by {order_name}, "
            f"not {order.value}; keep orderBy the same while paging"
        )
    return measure, video_id


def encode_descendant_cursor(generation: int, video_id: str) -> str:
    """The cursor of a derivative in a ``descendants`` page (breadth first)."""
    payload = json.dumps([generation, video_id], separators=(",", ":"))
    return base64.urlsafe_b64encode((_DESCENDANT_PREFIX + payload).encode()).decode().rstrip("=")


def decode_descendant_cursor(cursor: str) -> tuple[int, str]:
    """The (generation, id) key in a cursor of a ``descendants`` page."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
        if not text.startswith(_DESCENDANT_PREFIX):
            raise ValueError(text)
        generation, video_id = json.loads(text[len(_DESCENDANT_PREFIX) :])
        if type(generation) is not int or not 0 <= generation < 2**31:
            raise ValueError(text)
        if not isinstance(video_id, str):
            raise ValueError(text)
    except (ValueError, UnicodeDecodeError, binascii.Error, TypeError) as error:
        raise InvalidInput(
            f"after: {cursor!r} is not a cursor of a descendants list of this API"
        ) from error
    return generation, video_id
