"""Strawberry alone serving the headline query's answer from memory: a floor.

:func:`headline_app` (``uvicorn --factory``) is Strawberry's ASGI view on a
schema of just the fields the headline query selects, with its parser and
validation caches and nothing else: no store, no guards, no extensions,
synchronous resolvers handing back objects built once from the answer
(``BENCH_FLOORS_ANSWERS``, as :class:`bench_floors.EngineApp` reads it).
What any service on Strawberry pays for this answer at least.
"""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path
from typing import Any

import strawberry
from strawberry.asgi import GraphQL
from strawberry.extensions import ParserCache, ValidationCache

__all__ = ["headline_app"]


@strawberry.type(name="Video")
class Child:
    id: strawberry.ID
    derivative_count: int


@strawberry.type
class PromptDiff:
    variant_key: str


@strawberry.type
class Remix:
    child: Child
    prompt_diff: PromptDiff


@strawberry.type
class VariantGroup:
    key: str
    remix_count: int
    reach: int


@strawberry.type(name="Headline")
class Video:
    derivative_count: int
    tree_depth: int
    tops: strawberry.Private[list[Remix]]
    groups: strawberry.Private[list[VariantGroup]]

    @strawberry.field
    def top_variants(self, limit: int | None = 10) -> list[Remix]:
        return self.tops[: 10 if limit is None else limit]

    @strawberry.field
    def variant_groups(self, limit: int | None = 10) -> list[VariantGroup]:
        return self.groups[: 10 if limit is None else limit]


def _video(answer: dict[str, Any]) -> Video:
    return Video(
        derivative_count=answer["derivativeCount"],
        tree_depth=answer["treeDepth"],
        tops=[
            Remix(
                child=Child(id=strawberry.ID(t["child"]["id"]),
                            derivative_count=t["child"]["derivativeCount"]),
                prompt_diff=PromptDiff(variant_key=t["promptDiff"]["variantKey"]),
            )
            for t in answer["topVariants"]
        ],
        groups=[
            VariantGroup(key=g["key"], remix_count=g["remixCount"], reach=g["reach"])
            for g in answer["variantGroups"]
        ],
    )  # fmt: skip


def headline_app() -> Any:
    """The floor's ASGI app over the first answer in ``BENCH_FLOORS_ANSWERS``."""
    answers = json.loads(Path(os.environ["BENCH_FLOORS_ANSWERS"]).read_text(encoding="utf-8"))
    data = next(iter(answers.values()))[""]
    videos = {"grandma": _video(data["video"])}

    @strawberry.type
    class Query:
        @strawberry.field
        def video(self, id: strawberry.ID) -> Video | None:
            return videos.get(str(id))

    schema = strawberry.Schema(
        query=Query,
        extensions=[lambda: ParserCache(maxsize=256), lambda: ValidationCache(maxsize=256)],
    )
    app = GraphQL(schema, graphql_ide=None)
    gc.collect()
    gc.freeze()
    return app
