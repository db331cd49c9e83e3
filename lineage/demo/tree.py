"""The article's remix tree: a grandmother chasing a crocodile, and what came of it.

A seeded, deterministic generator of the tree that ``lineage demo`` loads.
The original ``grandma`` (title ``我奶奶真实的脚步``) has exactly 18,000
direct remixes, each swapping the crocodile for something else (a hippo, a
giraffe, a dinosaur, a tank and some fifty more, with a long-tailed spread so
that many remixes make the same swap). The most-remixed hippo remix has
7,200 remixes of its own and the most-remixed giraffe remix 6,400; the other
remixes draw a long-tailed handful, down to the fifth generation. A smaller
Chinese original ``nainai`` (``奶奶拿着扫帚把鳄鱼赶出院子``) has a few hundred
remixes swapping 鳄鱼 for 河马, 长颈鹿, 恐龙, 坦克, 熊猫 and others.

Every remix changes one part of its parent's prompt (the animal, the place,
the tool, the actor, the film style) or appends a phrase; a few change two.
Values of one part share no word (no character in Chinese), so each change
is one clean operation of the prompt diff and equal changes share a variant
key such as ``crocodile→hippo`` or ``鳄鱼→河马``.

Records come parents first, with ids such as ``grandma-r00001``, creation
times strictly increasing from 2025-10-02T08:00:00Z and spread like real
attention (most of the tree within a week, the hippo and giraffe branches
surging on day two), and long-tailed likes and views. The shape of the
tree (every count above and the per-generation counts) is the same for
every seed; the seed decides who remixed what.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

__all__ = [
    "DEMO_DIRECT_REMIXES",
    "DEMO_ORIGINAL_ID",
    "DEMO_SECOND_ORIGINAL_ID",
    "DEMO_SEED",
    "demo_records",
]

DEMO_ORIGINAL_ID = "grandma"
DEMO_SECOND_ORIGINAL_ID = "nainai"
DEMO_SEED = 20251002
DEMO_DIRECT_REMIXES = 18_000

# Remixes of the most-remixed hippo remix and giraffe remix.
_HIPPO_STAR_REMIXES = 7_200
_GIRAFFE_STAR_REMIXES = 6_400
# Remixes drawn by the other videos, per generation of the remixes.
_GRANDMA_BUDGETS = {2: 7_500, 3: 2_200, 4: 300, 5: 40}
_NAINAI_DIRECT_REMIXES = 360
_NAINAI_BUDGETS = {2: 70, 3: 12}

# The first record is created at 2025-10-02T08:00:00Z.
_FIRST_DAY = datetime(2025, 10, 2, tzinfo=UTC)
_FIRST_SECOND = 8 * 3600
# The mean wait (days) of the stars' remixes once their surge begins.
_SURGE_DAYS = 0.3

# -- vocabularies ------------------------------------------------------------
# Most popular first. Within a part no two values share a word (a character
# for Chinese), so the diff of a swap is one replacement of the whole value.

_SUBJECTS = [
    "crocodile", "hippo", "giraffe", "dinosaur", "tank", "kangaroo", "t-rex", "shark",
    "bear", "elephant", "penguin", "robot", "tiger", "panda", "dragon", "ostrich", "gorilla",
    "camel", "moose", "octopus", "llama", "rhino", "zebra", "goose", "peacock", "flamingo",
    "lion", "wolf", "koala", "sloth", "raccoon", "buffalo", "wild boar", "anaconda",
    "snowman", "alien", "lawnmower", "shopping cart", "pterodactyl", "mammoth", "yeti",
    "unicorn", "sumo wrestler", "capybara", "emu", "walrus", "giant squid", "honey badger",
    "cassowary", "pelican", "swarm of bees", "vacuum cleaner", "tax inspector",
]  # fmt: skip
_PLACES = [
    "yard", "kitchen", "living room", "garden", "supermarket", "rooftop", "bathroom",
    "backyard", "swimming pool", "rice paddy", "parking lot", "chicken coop", "church",
]  # fmt: skip
_TOOLS = [
    "broom", "mop", "frying pan", "rolling pin", "slipper", "feather duster", "hose",
    "walking stick", "wooden spoon", "leaf blower", "newspaper", "plunger",
]  # fmt: skip
_ACTORS = ["grandmother", "grandma", "granny", "nana", "babushka", "little old lady"]
_STYLES = [
    "shaky phone footage", "cctv clip", "anime style", "claymation", "film noir",
    "8mm home video", "nature documentary", "pixel art", "watercolor painting",
    "news broadcast",
]  # fmt: skip
_EXTRAS = [
    "in slow motion", "at night", "in the rain", "as a cartoon", "with dramatic music",
    "filmed from a drone", "in 4k", "during a thunderstorm", "with subtitles",
    "in black and white", "played backwards", "with a laugh track",
]  # fmt: skip

_ZH_SUBJECTS = [
    "鳄鱼", "河马", "长颈鹿", "恐龙", "坦克", "熊猫", "袋鼠", "老虎", "大象", "企鹅",
    "机器人", "狮子", "骆驼", "孔雀", "火烈鸟", "猩猩", "考拉", "犀牛", "野猪", "树懒",
    "海豹", "乌龟", "蟒蛇", "刺猬", "水豚",
]  # fmt: skip
_ZH_PLACES = ["院子", "厨房", "客厅", "菜地", "超市", "天台", "村口", "鸡窝"]
_ZH_EXTRAS = ["慢动作", "晚上", "下雨天", "卡通风格", "黑白电影", "配上激昂音乐"]

# Parts of a prompt, in the order of a _Prompt's fields.
_SUBJECT, _PLACE, _TOOL, _ACTOR, _STYLE = range(5)

# How a remix of a remix changes its parent: (part or "extra", weight).
_EN_CHANGES: list[tuple[int | str, int]] = [
    (_SUBJECT, 55),
    (_PLACE, 16),
    ("extra", 12),
    (_TOOL, 7),
    (_STYLE, 6),
    (_ACTOR, 4),
]
_ZH_CHANGES: list[tuple[int | str, int]] = [(_SUBJECT, 70), (_PLACE, 18), ("extra", 12)]


class _Table:
    """Values with Zipf-like weights (rank r weighs 1 / (r + 1) ** exponent)."""

    def __init__(self, values: list[str], exponent: float = 1.05) -> None:
        self.values = values
        self.cumulative = list(
            itertools.accumulate(1.0 / (rank + 1) ** exponent for rank in range(len(values)))
        )

    def draw(self, rng: random.Random, avoid: tuple[str, ...] = ()) -> str:
        """One value, never one of ``avoid``."""
        total = self.cumulative[-1]
        while True:
            index = bisect.bisect_right(self.cumulative, rng.random() * total)
            value = self.values[min(index, len(self.values) - 1)]
            if value not in avoid:
                return value


class _Prompt(NamedTuple):
    subject: str
    place: str
    tool: str
    actor: str
    style: str
    extras: tuple[str, ...] = ()

    def english(self) -> str:
        text = (
            f"A {self.actor} chases the {self.subject} out of her {self.place} "
            f"with a {self.tool}, {self.style}"
        )
        return text + "".join(f", {extra}" for extra in self.extras)

    def chinese(self) -> str:
        text = f"{self.actor}拿着{self.tool}把{self.subject}赶出{self.place}"
        return text + "".join(f"，{extra}" for extra in self.extras)


@dataclass(frozen=True, slots=True)
class _Language:
    parts: tuple[_Table, ...]  # indexed by _SUBJECT, _PLACE, ...
    extras: _Table
    changes: list[tuple[int | str, int]]
    chinese: bool
    changes_total: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "changes_total", sum(weight for _, weight in self.changes))

    def change(self, rng: random.Random, prompt: _Prompt, part: int | str) -> _Prompt:
        """``prompt`` with one part swapped for another value, or a phrase appended."""
        if part == "extra" and len(prompt.extras) >= len(self.extras.values) - 1:
            part = _SUBJECT  # (never happens at the demo's depth)
        if part == "extra":
            extra = self.extras.draw(rng, prompt.extras)
            return prompt._replace(extras=(*prompt.extras, extra))
        assert isinstance(part, int)
        table = self.parts[part]
        if len(table.values) < 2:  # nothing to swap for: append instead
            return self.change(rng, prompt, "extra")
        current = prompt[part]
        assert isinstance(current, str)
        values: list[object] = list(prompt)
        values[part] = table.draw(rng, (current,))
        return _Prompt._make(values)

    def remix(self, rng: random.Random, prompt: _Prompt) -> _Prompt:
        """A remix of a remix: one change, the kind drawn by weight."""
        roll = rng.random() * self.changes_total
        for part, weight in self.changes:
            roll -= weight
            if roll < 0:
                return self.change(rng, prompt, part)
        return self.change(rng, prompt, _SUBJECT)

    def render(self, prompt: _Prompt) -> str:
        return prompt.chinese() if self.chinese else prompt.english()


_ENGLISH = _Language(
    parts=(
        _Table(_SUBJECTS[1:]),  # remixes never swap back to the crocodile
        _Table(_PLACES),
        _Table(_TOOLS),
        _Table(_ACTORS),
        _Table(_STYLES),
    ),
    extras=_Table(_EXTRAS),
    changes=list(_EN_CHANGES),
    chinese=False,
)
_CHINESE = _Language(
    parts=(
        _Table(_ZH_SUBJECTS[1:]),
        _Table(_ZH_PLACES),
        _Table(["扫帚"]),
        _Table(["奶奶"]),
        _Table([""]),  # Chinese prompts name no film style
    ),
    extras=_Table(_ZH_EXTRAS),
    changes=list(_ZH_CHANGES),
    chinese=True,
)


@dataclass(slots=True)
class _Node:
    tree: str
    parent: int  # index of the parent node, -1 for an original
    generation: int
    prompt: _Prompt
    moment: float  # virtual time in days, only used to order the records
    derivatives: int = 0


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.nodes: list[_Node] = []

    def add(self, parent: int, prompt: _Prompt, delay_days: float, not_before: float = 0.0) -> int:
        parent_node = self.nodes[parent]
        # Strictly later than the parent, so sorting by time puts parents first.
        start = max(parent_node.moment, not_before)
        moment = start + 1e-6 + self.rng.expovariate(1.0 / delay_days)
        node = _Node(parent_node.tree, parent, parent_node.generation + 1, prompt, moment)
        self.nodes.append(node)
        return len(self.nodes) - 1

    def remixes_of(
        self,
        parent: int,
        count: int,
        language: _Language,
        delay: float,
        not_before: float = 0.0,
    ) -> None:
        for _ in range(count):
            prompt = language.remix(self.rng, self.nodes[parent].prompt)
            self.add(parent, prompt, delay, not_before)

    def long_tail(
        self, parents: list[int], budget: int, language: _Language, delay: float
    ) -> list[int]:
        """Give ``budget`` remixes to ``parents``: most none, a few dozens.

        Each parent's appeal is a capped Pareto draw, so remix counts are
        long-tailed. Returns the new remixes' indexes.
        """
        rng = self.rng
        appeal = [min(rng.paretovariate(0.8), 5_000.0) for _ in parents]
        chosen = rng.choices(parents, weights=appeal, k=budget)
        chosen.sort()  # keeps the node list grouped by parent
        first = len(self.nodes)
        for parent in chosen:
            self.add(parent, language.remix(rng, self.nodes[parent].prompt), delay)
        return list(range(first, len(self.nodes)))

    def grandma(self) -> None:
        rng = self.rng
        original = _Prompt("crocodile", "yard", "broom", "grandmother", "shaky phone footage")
        self.nodes.append(_Node(DEMO_ORIGINAL_ID, -1, 0, original, 0.0))
        first = len(self.nodes)
        for _ in range(DEMO_DIRECT_REMIXES):
            prompt = _ENGLISH.change(rng, original, _SUBJECT)
            roll = rng.random()
            if roll < 0.06:
                prompt = _ENGLISH.change(rng, prompt, "extra")
            elif roll < 0.08:
                prompt = _ENGLISH.change(rng, prompt, _PLACE)
            self.add(0, prompt, 2.0)
        direct = list(range(first, len(self.nodes)))

        # The stars: one of the ten earliest remixes that only swapped in the animal.
        stars = []
        for subject in ("hippo", "giraffe"):
            target = original._replace(subject=subject)
            pure = [i for i in direct if self.nodes[i].prompt == target]
            pure.sort(key=lambda i: self.nodes[i].moment)
            stars.append(rng.choice(pure[:10]))
        # The two stars surge on day two: their remixes start a day after the
        # original and most come within hours.
        self.remixes_of(stars[0], _HIPPO_STAR_REMIXES, _ENGLISH, _SURGE_DAYS, 1.0)
        self.remixes_of(stars[1], _GIRAFFE_STAR_REMIXES, _ENGLISH, _SURGE_DAYS, 1.0)
        generation = list(range(direct[-1] + 1, len(self.nodes)))
        others = [i for i in direct if i not in stars]
        generation += self.long_tail(others, _GRANDMA_BUDGETS[2], _ENGLISH, 2.0)
        for level in (3, 4, 5):
            generation = self.long_tail(generation, _GRANDMA_BUDGETS[level], _ENGLISH, 1.5)

    def nainai(self) -> None:
        rng = self.rng
        original = _Prompt("鳄鱼", "院子", "扫帚", "奶奶", "")
        root = len(self.nodes)
        self.nodes.append(_Node(DEMO_SECOND_ORIGINAL_ID, -1, 0, original, 1.5))
        first = len(self.nodes)
        for _ in range(_NAINAI_DIRECT_REMIXES):
            prompt = _CHINESE.change(rng, original, _SUBJECT)
            roll = rng.random()
            if roll < 0.06:
                prompt = _CHINESE.change(rng, prompt, "extra")
            elif roll < 0.1:
                prompt = _CHINESE.change(rng, prompt, _PLACE)
            self.add(root, prompt, 3.0)
        generation = list(range(first, len(self.nodes)))
        for level in (2, 3):
            generation = self.long_tail(generation, _NAINAI_BUDGETS[level], _CHINESE, 2.0)


def _title(rng: random.Random, node: _Node) -> str | None:
    if node.parent < 0:
        return "我奶奶真实的脚步" if node.tree == DEMO_ORIGINAL_ID else "奶奶赶鳄鱼"
    if rng.random() >= 0.25:
        return None
    if node.tree == DEMO_SECOND_ORIGINAL_ID:
        return f"奶奶赶{node.prompt.subject}"
    return rng.choice(
        [f"grandma vs the {node.prompt.subject}", f"my {node.prompt.actor} is unstoppable"]
    )


def demo_records(seed: int = DEMO_SEED) -> list[dict[str, Any]]:
    """Generate the demo's videos as JSONL-shaped records, parents first.

    Parameters
    ----------
    seed : int, optional
        Seed of the private random generator; the same seed gives the same
        records. The counts of the tree do not depend on it.

    Returns
    -------
    list of dict
        One record per video with the JSONL fields ``id``, ``prompt``,
        ``parent_id``, ``title``, ``creator``, ``created_at``, ``likes`` and
        ``views``, ordered by ``created_at`` (strictly increasing), so every
        parent comes before its remixes.

    Examples
    --------
    >>> records = demo_records()
    >>> records[0]["id"], records[0]["title"], records[0]["created_at"]
    ('grandma', '我奶奶真实的脚步', '2025-10-02T08:00:00Z')
    >>> records[0]["prompt"]
    'A grandmother chases the crocodile out of her yard with a broom, shaky phone footage'
    >>> sum(record["parent_id"] == "grandma" for record in records)
    18000

    Notes
    -----
    O(n log n) time and O(n) memory for n (about 42,000) videos; the global
    :mod:`random` state is never touched.
    """
    builder = _Builder(seed)
    builder.grandma()
    builder.nainai()
    nodes = builder.nodes
    for index in range(len(nodes) - 1, 0, -1):  # remixes come after their parents
        parent = nodes[index].parent
        if parent >= 0:
            nodes[parent].derivatives += 1 + nodes[index].derivatives

    rng = builder.rng
    random_ = rng.random
    order = sorted(range(len(nodes)), key=lambda index: (nodes[index].moment, index))
    ids: list[str] = [""] * len(nodes)
    numbers = {DEMO_ORIGINAL_ID: 0, DEMO_SECOND_ORIGINAL_ID: 0}
    seconds = _FIRST_SECOND  # since _FIRST_DAY began
    days: dict[int, str] = {}
    records: list[dict[str, Any]] = []
    for index in order:
        node = nodes[index]
        if node.parent < 0:
            ids[index] = node.tree
            parent_id = None
            creator = "@user123" if node.tree == DEMO_ORIGINAL_ID else "@user8848"
        else:
            numbers[node.tree] += 1
            ids[index] = f"{node.tree}-r{numbers[node.tree]:05d}"
            parent_id = ids[node.parent]
            creator = f"@user{1 + int(random_() * 999_999)}"
        views = int(rng.paretovariate(1.16) * 120) + node.derivatives * (40 + int(random_() * 121))
        day, second = divmod(seconds, 86_400)
        if day not in days:
            days[day] = (_FIRST_DAY + timedelta(days=day)).strftime("%Y-%m-%d")
        hour, second = divmod(second, 3600)
        minute, second = divmod(second, 60)
        language = _CHINESE if node.tree == DEMO_SECOND_ORIGINAL_ID else _ENGLISH
        records.append(
            {
                "id": ids[index],
                "prompt": language.render(node.prompt),
                "parent_id": parent_id,
                "title": _title(rng, node),
                "creator": creator,
                "created_at": f"{days[day]}T{hour:02d}:{minute:02d}:{second:02d}Z",
                "likes": int(views * (0.01 + 0.11 * random_())),
                "views": views,
            }
        )
        # The next video's time: its virtual moment, strictly after this one.
        if len(records) < len(order):
            following = nodes[order[len(records)]].moment
            seconds = max(seconds + 1, _FIRST_SECOND + int(following * 86_400))
    return records
