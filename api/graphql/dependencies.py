"""Which videos an answer depends on, field by field: the response cache's noting.

A cached answer is valid while the versions of the videos it depends on are
unchanged (:mod:`api.cache`), and a video's version moves with any change to
its row or to anything under it: every remix into a tree moves its
original's. So an answer that reads of a video only what never changes
must not depend on that video's version, or every answer naming the
original (``original { id }``, an ancestor list) would miss after every
remix into the tree.

What never changes of a stored video, for every caller (a takedown keeps
the node and its edges, and blanks only words, which the rights reads note
themselves): its ``id``, its ``generation``, whether it is an original, and
the videos its fixed edges lead to: its ``original``, its ``parent`` and its
``ancestors`` (each of those is read for its own fields, and noted by the
resolver that reads it). Everything else (counts, likes and views,
``createdAt``, title and creator, which metadata updates change, rights,
lists) depends on the video's version. A fragment spread whose fragment is
unknown, or any selection not named here, counts as changing: when unsure,
the answer depends on the video.
"""

from __future__ import annotations

from typing import Any

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode

__all__ = ["FIXED_VIDEO_FIELDS", "asks_fixed_only"]

# Video fields whose answer never changes once the video is stored.
FIXED_VIDEO_FIELDS = frozenset(
    {"__typename", "id", "generation", "isOriginal", "original", "parent", "ancestors"}
)


def asks_fixed_only(info: Any) -> bool:
    """Whether the videos the current field answers are asked only fields that never
    change (:data:`FIXED_VIDEO_FIELDS`): the rows read for them then need no version.

    ``info`` is the resolver's (Strawberry's, or graphql-core's own).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from graphql import parse
    >>> def field(query):  # the first field below video(id:)
    ...     video = parse(query).definitions[0].selection_set.selections[0]
    ...     return SimpleNamespace(field_nodes=[video.selection_set.selections[0]], fragments={})
    >>> asks_fixed_only(field('{ video(id: "v") { ancestors { id generation } } }'))
    True
    >>> asks_fixed_only(field('{ video(id: "v") { original { id likes } } }'))
    False
    """
    raw = getattr(info, "_raw_info", info)
    fragments = raw.fragments
    return all(
        node.selection_set is not None and _fixed(node.selection_set, fragments, set())
        for node in raw.field_nodes
    )


def _fixed(selections: SelectionSetNode, fragments: dict[str, Any], seen: set[str]) -> bool:
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value not in FIXED_VIDEO_FIELDS:
                return False
        elif isinstance(selection, InlineFragmentNode):
            if not _fixed(selection.selection_set, fragments, seen):
                return False
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None:
                return False
            if name not in seen:  # validation refuses cycles; stay finite anyway
                seen.add(name)
                if not _fixed(fragment.selection_set, fragments, seen):
                    return False
        else:
            return False
    return True
