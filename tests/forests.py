"""Random remix forests for the differential tests, and their networkx reference.

A forest is a list of JSONL-shaped records. Prompts change one word per
remix from a small vocabulary, so several remixes share a variant key.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

import networkx as nx
from hypothesis import strategies as st

from lineage.diff import diff_prompts

Record = dict[str, Any]

SUBJECTS = ["crocodile", "hippo", "giraffe", "dinosaur", "tank", "鳄鱼", "河马", "长颈鹿"]
PLACES = ["yard", "kitchen", "beach", "moon"]


@dataclass(frozen=True)
class Shape:
    kind: str  # chain | star | tree | pairs
    size: int


def _child_prompt(rng: random.Random, parent_prompt: str) -> str:
    words = parent_prompt.split(" ")
    roll = rng.random()
    if roll < 0.6:
        slot = 3
        words[slot] = rng.choice([w for w in SUBJECTS if w != words[slot]])
    elif roll < 0.85:
        slot = len(words) - 1
        words[slot] = rng.choice([w for w in PLACES if w != words[slot]])
    elif roll < 0.95:
        words.append(rng.choice(["at night", "in the rain", "slowly"]))
    # else: the same prompt (a remix that changed nothing)
    return " ".join(words)


def build_forest(shapes: list[Shape], seed: int) -> list[Record]:
    """Records of a forest made of the given components, parents before children."""
    rng = random.Random(seed)
    records: list[Record] = []
    for component, shape in enumerate(shapes):
        root = {
            "id": f"c{component}-0",
            "prompt": f"A grandmother chases {rng.choice(SUBJECTS)} out of the yard",
            "parent_id": None,
            "likes": rng.randrange(100),
            "views": rng.randrange(1000),
            "created_at": f"2025-10-{1 + component % 28:02d}T08:00:00Z",
        }
        members = [root]
        for number in range(1, shape.size):
            if shape.kind == "chain":
                parent = members[-1]
            elif shape.kind == "star":
                parent = root
            elif shape.kind == "pairs":
                parent = members[(number - 1) // 2]
            else:  # random recursive tree with a preference for popular parents
                parent = members[min(int(rng.paretovariate(1.2)) - 1, len(members) - 1)]
                if rng.random() < 0.5:
                    parent = rng.choice(members)
            members.append(
                {
                    "id": f"c{component}-{number}",
                    "prompt": _child_prompt(rng, parent["prompt"]),
                    "parent_id": parent["id"],
                    "likes": rng.randrange(100),
                    "views": rng.randrange(1000),
                    "created_at": None
                    if rng.random() < 0.1
                    else f"2025-11-{1 + number % 28:02d}T{number % 24:02d}:00:00Z",
                }
            )
        records.extend(members)
    return records


shapes = st.one_of(
    st.builds(Shape, st.just("chain"), st.integers(1, 40)),
    st.builds(Shape, st.just("star"), st.integers(1, 60)),
    st.builds(Shape, st.just("tree"), st.integers(1, 120)),
    st.builds(Shape, st.just("pairs"), st.integers(1, 30)),
)
forests = st.builds(
    build_forest, st.lists(shapes, min_size=1, max_size=8), st.integers(0, 2**32 - 1)
)


def random_topological_order(records: list[Record], rng: random.Random) -> list[Record]:
    """The records in a random order in which every parent precedes its children."""
    by_parent: dict[str | None, list[Record]] = {}
    for record in records:
        by_parent.setdefault(record["parent_id"], []).append(record)
    available = list(by_parent.get(None, []))
    ordered = []
    while available:
        record = available.pop(rng.randrange(len(available)))
        ordered.append(record)
        available.extend(by_parent.get(record["id"], []))
    return ordered


class Reference:
    """Every lineage answer, computed from scratch with networkx."""

    def __init__(self, records: list[Record]) -> None:
        self.records = {record["id"]: record for record in records}
        self.tree = nx.DiGraph()  # parent -> remix
        self.tree.add_nodes_from(self.records)
        self.tree.add_edges_from(
            (r["parent_id"], r["id"]) for r in records if r["parent_id"] is not None
        )
        assert nx.is_forest(self.tree)

    def generation(self, video_id: str) -> int:
        return len(nx.ancestors(self.tree, video_id))

    def original_id(self, video_id: str) -> str:
        roots = [a for a in nx.ancestors(self.tree, video_id) if self.tree.in_degree(a) == 0]
        return roots[0] if roots else video_id

    def derivative_count(self, video_id: str) -> int:
        return len(nx.descendants(self.tree, video_id))

    def direct_remix_count(self, video_id: str) -> int:
        return int(self.tree.out_degree(video_id))

    def tree_depth(self, video_id: str) -> int:
        return max(nx.single_source_shortest_path_length(self.tree, video_id).values())

    def generation_counts(self, video_id: str) -> list[tuple[int, int]]:
        base = self.generation(video_id)
        distances = nx.single_source_shortest_path_length(self.tree, video_id)
        levels = Counter(base + d for node, d in distances.items() if node != video_id)
        return sorted(levels.items())

    def ancestors(self, video_id: str) -> list[str]:
        chain = []
        parent = self.records[video_id]["parent_id"]
        while parent is not None:
            chain.append(parent)
            parent = self.records[parent]["parent_id"]
        return chain

    def subtree_total(self, video_id: str, counter: str) -> int:
        """A video's own ``likes`` or ``views`` plus all its derivatives'."""
        members = {video_id} | nx.descendants(self.tree, video_id)
        return sum(int(self.records[member].get(counter) or 0) for member in members)

    def variant_key(self, video_id: str) -> str:
        record = self.records[video_id]
        parent = self.records[record["parent_id"]]
        return diff_prompts(parent["prompt"], record["prompt"]).variant_key

    def top_variants(self, video_id: str, measure: str, limit: int) -> list[str]:
        def value(child: str) -> Any:
            if measure == "derivative_count":
                return self.derivative_count(child)
            if measure == "direct_remix_count":
                return self.direct_remix_count(child)
            if measure in ("subtree_likes", "subtree_views"):
                return self.subtree_total(child, measure.removeprefix("subtree_"))
            if measure == "created_at":
                stamp = self.records[child]["created_at"]
                return stamp or ""  # ISO strings of one format sort in time order
            return self.records[child][measure]

        children = sorted(self.tree.successors(video_id))
        ranked = sorted(children, key=lambda c: (_negate(value(c)), c))
        return ranked[:limit]

    def variant_groups(self, video_id: str, limit: int) -> list[tuple[str, int, int, str]]:
        groups: dict[str, list[str]] = {}
        for child in self.tree.successors(video_id):
            groups.setdefault(self.variant_key(child), []).append(child)
        rows = []
        for key, members in groups.items():
            reach = sum(1 + self.derivative_count(m) for m in members)
            top = min(members, key=lambda m: (-self.derivative_count(m), m))
            rows.append((key, len(members), reach, top))
        rows.sort(key=lambda row: (-row[2], row[0]))
        return rows[:limit]


class _Reversed:
    """Sort key wrapper that inverts the order of strings."""

    def __init__(self, value: str) -> None:
        self.value = value

    def __lt__(self, other: _Reversed) -> bool:
        return self.value > other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.value == other.value


def _negate(value: Any) -> Any:
    return -value if isinstance(value, int) else _Reversed(value)
