"""Records as video platforms publish them, mapped onto the contract's fields.

OpenAI's video API returns a *video object* for every generation job
(``"object": "video"``). ``lineage import`` takes those objects line by line,
mixed with our own records in one file. The mapping:

=========================  ====================================================
video object               our record
=========================  ====================================================
``id``                     ``id``
``remixed_from_video_id``  ``parent_id`` (absent or null: an original)
``prompt``                 ``prompt``
``created_at``             ``created_at`` (Unix seconds, read as UTC)
``status``                 only ``completed`` is imported; any other status
                           (``queued``, ``in_progress``, ``failed``) is
                           rejected with a reason that names it
everything else            ignored (``model``, ``size``, ``seconds``, ...)
=========================  ====================================================

A completed object without a prompt is rejected too: the prompt diff of
every remix edge needs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

__all__ = ["from_openai_video", "from_platform"]


def _timestamp(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"created_at of a video object must be Unix seconds, got {value!r}")
    return datetime.fromtimestamp(value, UTC)


def from_openai_video(video: Mapping[str, object]) -> dict[str, object]:
    """One OpenAI video object as our record.

    Raises
    ------
    ValueError
        If the video is not ``completed``, or has no prompt.

    Examples
    --------
    >>> from_openai_video({"object": "video", "id": "video_2", "status": "completed",
    ...     "prompt": "a cat", "remixed_from_video_id": "video_1", "created_at": 0})
    ... # doctest: +NORMALIZE_WHITESPACE
    {'id': 'video_2', 'parent_id': 'video_1', 'prompt': 'a cat',
     'created_at': datetime.datetime(1970, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)}
    """
    video_id = video.get("id")
    name = repr(video_id) if isinstance(video_id, str) else "without an id"
    status = video.get("status")
    if status != "completed":
        raise ValueError(
            f"video object {name} has status {status!r}: only completed videos are imported"
        )
    prompt = video.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError(f"video object {name} (status 'completed') has no prompt")
    return {
        "id": video_id,
        "parent_id": video.get("remixed_from_video_id"),
        "prompt": prompt,
        "created_at": _timestamp(video.get("created_at")),
    }


def from_platform(data: object) -> object:
    """``data`` as our record if it is a platform's video object, else unchanged."""
    if isinstance(data, Mapping) and data.get("object") == "video":
        return from_openai_video(data)
    return data
