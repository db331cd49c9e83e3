"""Seeded synthetic remix forests, for benchmarks and large-scale tests.

Trees have long-tailed sizes (a few viral originals, many small ones) and
preferential attachment inside each tree (popular remixes draw remixes), so
the shape resembles the demo's at any scale. Each remix swaps one word of
its parent's prompt, sometimes appends a phrase.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["synthetic_forest"]

_OCTOBER = datetime(2025, 10, 1, tzinfo=UTC)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


_SUBJECTS = [
    "crocodile", "hippo", "giraffe", "dinosaur", "tank", "penguin", "dragon", "robot", "tiger",
    "panda", "bear", "shark", "octopus", "camel", "elephant", "goose", "llama", "koala", "rhino",
    "zebra", "鳄鱼", "河马", "长颈鹿", "恐龙", "坦克", "熊猫",
]  # fmt: skip
_PLACES = ["yard", "kitchen", "beach", "moon", "garden", "rooftop", "supermarket", "院子", "厨房"]
_EXTRAS = ("at night", "in the rain", "in slow motion", "as a cartoon", "用水墨画风格")


def synthetic_forest(
    size: int, seed: int = 1, *, originals: int | None = None
) -> Iterator[dict[str, Any]]:
    """Yield ``size`` JSONL-shaped records of a random forest, parents first.

    Parameters
    ----------
    size : int
        Number of videos.
    seed : int
        Seed of the private random generator; the same seed gives the same forest.
    originals : int, optional
        Number of trees; by default about one per 500 videos.

    Examples
    --------
    >>> records = list(synthetic_forest(1000, seed=3))
    >>> len(records), records[0]["parent_id"] is None
    (1000, True)
    >>> records[1]["id"]
    's3-000001'

    Notes
    -----
    O(size) time; memory holds one tree's prompts at a time.
    """
    rng = random.Random(seed)
    # Times come from a generator of their own, so the forest's shape is the
    # same whatever the times are.
    clock = random.Random(seed * 7919 + 1)
    trees = originals or max(1, size // 500)
    # Long-tailed tree sizes that add up to ``size``.
    weights = [1.0 / (rank + 1) ** 1.1 for rank in range(trees)]
    total = sum(weights)
    sizes = [max(1, int(size * w / total)) for w in weights]
    sizes[0] += size - sum(sizes)
    while sizes[0] < 1:  # tiny sizes: fall back to fewer trees
        sizes.pop()
        sizes[0] += 1
    number = 0
    for tree_size in sizes:
        # A tree goes viral at some hour of October 2025 and gathers most of
        # its remixes within a few days: waits are exponential, 20 h on average.
        start = _OCTOBER + timedelta(hours=clock.randrange(24 * 28))
        prompts: list[str] = []
        ids: list[str] = []
        popularity: list[int] = []  # attachment tickets: an index per remix drawn
        for member in range(tree_size):
            video_id = f"s{seed}-{number:06d}"
            number += 1
            if member == 0:
                prompt = (
                    f"A grandmother chases a {rng.choice(_SUBJECTS)} out of her "
                    f"{rng.choice(_PLACES)} with a broom"
                )
                parent_id = None
            else:
                parent = popularity[rng.randrange(len(popularity))] if rng.random() < 0.7 else 0
                parent_id = ids[parent]
                words = prompts[parent].split(" ")
                roll = rng.random()
                if roll < 0.7:
                    words[4] = rng.choice(_SUBJECTS)
                elif roll < 0.9:
                    words[8] = rng.choice(_PLACES)
                else:
                    words.append(rng.choice(_EXTRAS))
                prompt = " ".join(words)
                popularity.append(parent)
            ids.append(video_id)
            prompts.append(prompt)
            popularity.append(member)
            yield {
                "id": video_id,
                "prompt": prompt,
                "parent_id": parent_id,
                "creator": f"user-{rng.randrange(100_000)}",
                "created_at": _stamp(
                    start
                    if member == 0
                    else start + timedelta(hours=min(clock.expovariate(1 / 20), 24 * 21))
                ),
                "likes": int(rng.paretovariate(1.5)) - 1,
                "views": int(rng.paretovariate(1.2) * 10),
            }
