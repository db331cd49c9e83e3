"""The export record of a video: the contract's fields, the computed ones, its rights.

:func:`export_record` is the object a JSONL line carries and the node
attributes of a networkx graph: the contract's fields (``id``, ``prompt``,
``parent_id``, ...) plus the computed ones (``generation``,
``original_id``, ``derivative_count``, ``direct_remix_count``,
``tree_depth`` and, for remixes, ``prompt_diff``) and the rights fields
(:func:`add_rights`). What a caller below ``admin`` sees of a removed video
is decided and blanked by :mod:`lineage.rights.visibility`.
"""

from __future__ import annotations

from typing import Any

from lineage.models import VideoRecord, format_timestamp
from lineage.rights.policy import DEFAULT_RIGHTS, VideoRights

__all__ = ["add_rights", "export_record"]


def add_rights(record: dict[str, Any], rights: VideoRights | None) -> None:
    """The rights fields: ``status``, ``removed_reason``, ``removed_at``, ``c2pa_manifest``."""
    rights = rights or DEFAULT_RIGHTS
    record["status"] = rights.status
    record["removed_reason"] = rights.removed_reason
    record["removed_at"] = format_timestamp(rights.removed_at)
    record["c2pa_manifest"] = rights.c2pa_manifest


def export_record(video: VideoRecord, rights: VideoRights | None = None) -> dict[str, Any]:
    """A video as the contract's export object (``rights``: its rights state, if any)."""
    record: dict[str, Any] = {
        "id": video.id,
        "prompt": video.prompt,
        "parent_id": video.parent_id,
        "title": video.title,
        "creator": video.creator,
        "created_at": format_timestamp(video.created_at),
        "likes": video.likes,
        "views": video.views,
        "generation": video.generation,
        "original_id": video.original_id,
        "derivative_count": video.derivative_count,
        "direct_remix_count": video.direct_remix_count,
        "tree_depth": video.tree_depth,
    }
    add_rights(record, rights)
    diff = video.prompt_diff
    if diff is not None:
        record["prompt_diff"] = {
            "summary": diff.summary,
            "variant_key": diff.variant_key,
            "similarity": diff.similarity,
            "ops": [{"op": op.op, "before": op.before, "after": op.after} for op in diff.ops],
        }
    return record
