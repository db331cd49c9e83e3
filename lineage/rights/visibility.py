"""What each caller sees of a video: the one masking rule every output applies.

A removed video stays in the tree (every count holds), but below ``admin``
its words are blank: the prompt reads as an empty string, title and creator
as null, and its prompt diff keeps its variant key and similarity but loses
its words (summary and ops). Who took a video down (``removed_by``, a
token's name) is an operator's fact: only ``admin`` sees it. The command
line is the operator's and sees everything.

GraphQL fields, subscriptions, the JSONL, CSV, GraphML and GEXF exports and
search all decide with :func:`visibility` and blank with
:func:`mask_video` (or :func:`mask_export_record` for export objects).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from lineage.access.tokens import Role
from lineage.models import PromptDiff, VideoRecord
from lineage.rights.policy import VideoRights

__all__ = [
    "FULL",
    "Visibility",
    "mask_export_record",
    "mask_rights",
    "mask_video",
    "visibility",
]


@dataclass(frozen=True, slots=True)
class Visibility:
    """What one caller sees of one video."""

    # Prompt, title, creator and the words of the prompt diff.
    text: bool
    # removed_by: the name of the token that took the video down.
    removal_actor: bool


FULL = Visibility(text=True, removal_actor=True)
_ACTIVE_BELOW_ADMIN = Visibility(text=True, removal_actor=False)
_REMOVED_BELOW_ADMIN = Visibility(text=False, removal_actor=False)


def visibility(role: Role | None, rights: VideoRights) -> Visibility:
    """What a caller of ``role`` (None: anonymous) sees of a video in the ``rights`` state.

    Examples
    --------
    >>> from lineage.rights.policy import DEFAULT_RIGHTS, REMOVED
    >>> removed = VideoRights(status=REMOVED, removed_reason="DMCA", removed_by="ops")
    >>> visibility(Role.READER, removed)
    Visibility(text=False, removal_actor=False)
    >>> visibility(Role.ADMIN, removed)
    Visibility(text=True, removal_actor=True)
    >>> visibility(None, DEFAULT_RIGHTS).text
    True
    """
    if role is not None and role >= Role.ADMIN:
        return FULL
    return _REMOVED_BELOW_ADMIN if rights.is_removed else _ACTIVE_BELOW_ADMIN


def mask_video(video: VideoRecord, seen: Visibility) -> VideoRecord:
    """The video as a caller who sees ``seen`` of it reads it (itself when nothing is hidden)."""
    if seen.text:
        return video
    diff = video.prompt_diff
    return video.model_copy(
        update={
            "prompt": "",
            "title": None,
            "creator": None,
            "prompt_diff": None if diff is None else _masked_diff(diff),
        }
    )


def _masked_diff(diff: PromptDiff) -> PromptDiff:
    return diff.model_copy(update={"summary": "", "ops": []})


def mask_rights(rights: VideoRights, seen: Visibility) -> VideoRights:
    """The rights state without what ``seen`` hides (who took the video down)."""
    if seen.removal_actor or rights.removed_by is None:
        return rights
    return replace(rights, removed_by=None)


def mask_export_record(record: dict[str, Any], seen: Visibility) -> None:
    """Blank, in place, what ``seen`` hides of an export object (the contract's JSONL fields)."""
    if seen.text:
        return
    record["prompt"] = ""
    record["title"] = None
    record["creator"] = None
    diff = record.get("prompt_diff")
    if diff is not None:
        diff["summary"] = ""
        diff["ops"] = []
