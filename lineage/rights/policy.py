"""Rights along the lineage: takedowns, attribution shares and downstream views.

A takedown marks a video ``REMOVED`` (with a reason, a time and who asked)
and keeps its node and edges, so every lineage count stays what it was: a
removed video is a tombstone, not a hole. Each video keeps
``removed_derivative_count``, the removed videos below it, maintained by
every takedown, restore and import in the same transaction. Whether a video
is ``derived_from_removed`` is read along its lineage path (O(depth)).

Attribution gives each ancestor of a remix a share of the remix's value:
``RELATIVE`` passes ``rate`` on at every hop (parent ``rate``, grandparent
``rate²``...), ``ABSOLUTE`` gives every ancestor ``rate``. The views a video
earns from its derivatives (:func:`downstream_views`) are read from the
per-generation view totals that the stores maintain beside the generation
counts, in O(tree depth) for any rate.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime

from lineage.errors import InvalidInput, VideoNotFound
from lineage.models import VideoRecord
from lineage.store import LineageStore

__all__ = [
    "ACTIVE",
    "REMOVED",
    "AttributionPolicy",
    "AttributionShare",
    "RightsChange",
    "VideoRights",
    "attribution",
    "downstream_views",
    "downstream_views_of",
    "restore",
    "takedown",
]

ACTIVE = "ACTIVE"
REMOVED = "REMOVED"
MAX_REASON_LENGTH = 1000


class AttributionPolicy(enum.Enum):
    """How a remix's value is shared among its ancestors."""

    RELATIVE = "RELATIVE"
    ABSOLUTE = "ABSOLUTE"


@dataclass(frozen=True, slots=True)
class VideoRights:
    """The rights state of one video (defaults: active, nothing removed below)."""

    status: str = ACTIVE
    removed_reason: str | None = None
    removed_at: datetime | None = None
    removed_by: str | None = None
    removed_derivative_count: int = 0
    c2pa_manifest: str | None = None

    @property
    def is_removed(self) -> bool:
        return self.status == REMOVED


DEFAULT_RIGHTS = VideoRights()


@dataclass(frozen=True, slots=True)
class RightsChange:
    """What a takedown or restore did: ``changed`` is False for a repeat."""

    video_id: str
    status: str
    changed: bool


@dataclass(frozen=True, slots=True)
class AttributionShare:
    """One ancestor's share of a remix's value."""

    video: VideoRecord
    share: float


def _check_reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise InvalidInput("a takedown needs a reason")
    if len(text) > MAX_REASON_LENGTH:
        raise InvalidInput(f"the reason is longer than {MAX_REASON_LENGTH:,} characters")
    return text


def takedown(
    store: LineageStore,
    video_id: str,
    reason: str,
    actor: str | None,
    *,
    now: datetime | None = None,
) -> RightsChange:
    """Mark a video ``REMOVED``; a video already removed is left as it is.

    Raises
    ------
    VideoNotFound
        If the video is not stored.
    InvalidInput
        If the reason is empty or too long.
    """
    at = (now or datetime.now(UTC)).astimezone(UTC)
    change = store.set_status(video_id, REMOVED, _check_reason(reason), actor, at)
    if change is None:
        raise VideoNotFound(video_id)
    return change


def restore(
    store: LineageStore, video_id: str, actor: str | None, *, now: datetime | None = None
) -> RightsChange:
    """Make a removed video ``ACTIVE`` again; an active one is left as it is."""
    at = (now or datetime.now(UTC)).astimezone(UTC)
    change = store.set_status(video_id, ACTIVE, None, actor, at)
    if change is None:
        raise VideoNotFound(video_id)
    return change


def check_rate(policy: AttributionPolicy, rate: float, generation: int | None = None) -> float:
    """Refuse rates outside [0, 1], and ABSOLUTE shares that add up to more than 1."""
    if not 0.0 <= rate <= 1.0:
        raise InvalidInput(f"rate must be between 0 and 1, got {rate}")
    if (
        policy is AttributionPolicy.ABSOLUTE
        and generation is not None
        and generation * rate > 1.0 + 1e-12
    ):
        raise InvalidInput(
            f"ABSOLUTE attribution of rate {rate} to {generation} ancestors gives away "
            f"{generation * rate:g} of the remix's value (more than all of it)"
        )
    return rate


def attribution(
    store: LineageStore,
    video_id: str,
    policy: AttributionPolicy = AttributionPolicy.RELATIVE,
    rate: float = 0.1,
) -> list[AttributionShare]:
    """Each ancestor of a video with its share of the video's value, parent first.

    Notes
    -----
    One lineage-path read and one read of the ancestors: O(depth).
    """
    path = store.lineage_path(video_id)
    if not path:
        raise VideoNotFound(video_id)
    check_rate(policy, rate, path[0].generation)
    ancestors = [node.id for node in path[1:]]
    records = store.get_videos(ancestors)
    shares = []
    for hops, ancestor_id in enumerate(ancestors, start=1):
        share = rate**hops if policy is AttributionPolicy.RELATIVE else rate
        shares.append(AttributionShare(records[ancestor_id], share))
    return shares


def downstream_views_of(
    generation: int,
    generation_views: list[tuple[int, int]],
    policy: AttributionPolicy,
    rate: float,
) -> float:
    """The views attributed to a video of ``generation`` from its per-generation totals."""
    check_rate(policy, rate)
    if policy is AttributionPolicy.ABSOLUTE:
        return rate * sum(views for _, views in generation_views)
    return float(sum(views * rate ** (level - generation) for level, views in generation_views))


def downstream_views(
    store: LineageStore,
    video_id: str,
    policy: AttributionPolicy = AttributionPolicy.RELATIVE,
    rate: float = 0.1,
) -> float:
    """The views attributed to a video from all its derivatives (see the module).

    Notes
    -----
    Reads the maintained per-generation view totals: O(tree depth).
    """
    video = store.get_video(video_id)
    if video is None:
        raise VideoNotFound(video_id)
    totals = store.generation_views_many([video_id])[video_id]
    return downstream_views_of(video.generation, totals, policy, rate)
