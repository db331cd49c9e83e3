"""Rank keys: the stored properties that let composite indexes serve ranked lists.

Every ranked list is "measure descending, id ascending". A range index is
read in ascending order only, so each video also stores its measures
negated (``rank_derivatives = -derivative_count`` and so on): "measure DESC,
id ASC" is then the ascending order of the index ``(parent_id, rank_*, id)``
and the first page of a parent's remixes is one index seek that stops after
``first`` entries, whatever the fan-out. Originals have no ``parent_id``;
their own indexes ``(:Original)(rank_*, id)`` rank them. The top of a variant
group reads ``(parent_id, variant_key, rank_derivatives, id)``, so a remix
also carries the variant key of its edge; a variant group stores
``rank_reach = -reach`` for ``(parent_id, rank_reach, key)``.

The keys are written with every video and updated in the same statement as
the measure they mirror, so they are exact at every commit;
``lineage check`` verifies them (:func:`rank_key_mismatches`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lineage.store import VideoOrder
from lineage.tree.queries import NULL_TIME

__all__ = [
    "NULL_TIME_RANK",
    "RANK_PROPERTY",
    "rank_of",
]

# A video without a creation time sorts last among NEWEST (as NULL_TIME does
# on SQLite); -NULL_TIME does not fit in 64 bits, so it gets the largest key.
NULL_TIME_RANK = 2**63 - 1

RANK_PROPERTY = {
    VideoOrder.DERIVATIVES: "rank_derivatives",
    VideoOrder.DIRECT_REMIXES: "rank_direct",
    VideoOrder.LIKES: "rank_likes",
    VideoOrder.VIEWS: "rank_views",
    VideoOrder.NEWEST: "rank_newest",
    VideoOrder.SUBTREE_LIKES: "rank_subtree_likes",
    VideoOrder.SUBTREE_VIEWS: "rank_subtree_views",
}


def rank_of(order: VideoOrder, measure: int) -> int:
    """The stored rank key of a measure (as a keyset cursor carries it)."""
    if order is VideoOrder.NEWEST and measure == NULL_TIME:
        return NULL_TIME_RANK
    return -measure


def newest_rank(created_us: str) -> str:
    """Cypher for the NEWEST key of a creation time expression (null sorts last)."""
    return f"CASE WHEN {created_us} IS NULL THEN {NULL_TIME_RANK} ELSE -{created_us} END"


# Recomputes the keys of the subtree totals of the video ``v``.
SET_SUBTREE_RANKS = (
    "v.rank_subtree_likes = -coalesce(v.subtree_likes, 0), "
    "v.rank_subtree_views = -coalesce(v.subtree_views, 0)"
)

# Recomputes every key of the video ``v`` (and its edge ``r``) from the measures.
SET_RANKS_FROM_MEASURES = (
    "SET v.rank_derivatives = -v.derivative_count, v.rank_direct = -v.direct_remix_count, "
    "v.rank_likes = -coalesce(v.likes, 0), v.rank_views = -coalesce(v.views, 0), "
    f"v.rank_newest = {newest_rank('v.created_us')}, v.variant_key = r.variant_key, "
    f"{SET_SUBTREE_RANKS}"
)

# Stored rank keys that differ from the measures they mirror (check).
_RANK_MISMATCHES = (
    "MATCH (v:Video) OPTIONAL MATCH (v)-[r:REMIX_OF]->() WITH v, r, "
    "[['rank_derivatives', v.rank_derivatives, -v.derivative_count], "
    "['rank_direct', v.rank_direct, -v.direct_remix_count], "
    "['rank_likes', v.rank_likes, -coalesce(v.likes, 0)], "
    "['rank_views', v.rank_views, -coalesce(v.views, 0)], "
    "['rank_subtree_likes', v.rank_subtree_likes, -coalesce(v.subtree_likes, 0)], "
    "['rank_subtree_views', v.rank_subtree_views, -coalesce(v.subtree_views, 0)], "
    f"['rank_newest', v.rank_newest, {newest_rank('v.created_us')}], "
    "['variant_key', v.variant_key, r.variant_key]] AS keys "
    "UNWIND keys AS key WITH v, key WHERE key[1] IS NULL AND key[2] IS NOT NULL "
    "OR key[1] <> key[2] OR key[1] IS NOT NULL AND key[2] IS NULL "
    "RETURN v.id AS id, key[0] AS name, key[1] AS stored, key[2] AS expected "
    "UNION ALL "
    "MATCH (g:VariantGroup) WHERE g.rank_reach IS NULL OR g.rank_reach <> -g.reach "
    "RETURN g.parent_id + ' ' + g.key AS id, 'rank_reach' AS name, "
    "g.rank_reach AS stored, -g.reach AS expected"
)


def rank_key_mismatches(session: Any) -> Iterator[tuple[str, str, object, object]]:
    """(video id, key, stored, expected) of every rank key that differs from its measure."""
    for row in session.run(_RANK_MISMATCHES):
        yield row["id"], row["name"], row["stored"], row["expected"]
