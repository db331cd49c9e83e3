"""Strawberry alone serving the popularity mix's four reads from memory: the floor of a miss.

:func:`mix_app` (``uvicorn --factory``) is Strawberry's ASGI view on a schema
of the shape the mix's reads select (``load.py``'s ``MIX_READS``: a video's
counts, a page of its remixes, its ancestors, its top variants and variant
groups), with its parser and validation caches and nothing else: no store,
no guards, no cache, no extensions. At start-up each worker reads, once,
what those queries can ask of the videos named in ``BENCH_MIX_IDS`` (a JSON
list) from the SQLite file ``LINEAGE_DB`` and holds it as objects; the
resolvers hand back slices of them and wait for nothing. What any service on
Strawberry pays for a miss of the mix at least: ``bench_mix_bound.py``
checks that its answers are the service's and measures it at the mix's
concurrency.
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

__all__ = ["mix_app"]


@strawberry.type
class GenerationCount:
    generation: int
    count: int


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class PromptDiff:
    summary: str
    variant_key: str


@strawberry.type
class VariantGroup:
    key: str
    remix_count: int
    reach: int


@strawberry.type
class Video:
    id: strawberry.ID
    generation: int
    derivative_count: int
    direct_remix_count: int
    tree_depth: int
    generation_counts: list[GenerationCount]
    # Itself for an original (set when loaded).
    original_video: strawberry.Private[Video | None]
    # Filled for the named videos only (the others are reached as children).
    children: strawberry.Private[list[Remix]]
    cursors: strawberry.Private[list[str]]
    groups: strawberry.Private[list[VariantGroup]]
    path: strawberry.Private[list[Video]]

    @strawberry.field
    def original(self) -> Video:
        return self.original_video or self

    @strawberry.field
    def ancestors(self) -> list[Video]:
        return self.path

    @strawberry.field
    def remixes(self, first: int | None = 20) -> RemixConnection:
        size = 20 if first is None else first
        page = self.children[:size]
        return RemixConnection(
            total_count=self.direct_remix_count,
            page_info=PageInfo(
                has_next_page=len(self.children) > size,
                end_cursor=self.cursors[len(page) - 1] if page else None,
            ),
            edges=[RemixEdge(node=remix) for remix in page],
        )

    @strawberry.field
    def top_variants(self, limit: int | None = 10) -> list[Remix]:
        return self.children[: 10 if limit is None else limit]

    @strawberry.field
    def variant_groups(self, limit: int | None = 10) -> list[VariantGroup]:
        return self.groups[: 10 if limit is None else limit]


@strawberry.type
class Remix:
    child: Video
    prompt_diff: PromptDiff


@strawberry.type
class RemixEdge:
    node: Remix


@strawberry.type
class RemixConnection:
    total_count: int
    page_info: PageInfo
    edges: list[RemixEdge]


VIDEOS: dict[str, Video] = {}


def _video(record: Any, counts: list[Any]) -> Video:
    return Video(
        id=strawberry.ID(record.id),
        generation=record.generation,
        derivative_count=record.derivative_count,
        direct_remix_count=record.direct_remix_count,
        tree_depth=record.tree_depth,
        generation_counts=[GenerationCount(generation=c.generation, count=c.count) for c in counts],
        original_video=None,
        children=[],
        cursors=[],
        groups=[],
        path=[],
    )


def load_videos(database: str, ids: list[str]) -> dict[str, Video]:
    """What the mix's reads can ask of ``ids``, read once from the SQLite file."""
    from api.graphql.cursors import encode_cursor
    from lineage.config import LineageSettings
    from lineage.store import VideoOrder
    from lineage.stores import open_store
    from lineage.tree.queries import measure_of

    order = VideoOrder.DERIVATIVES
    store = open_store(LineageSettings(store="sqlite", db=Path(database)))  # type: ignore[call-arg]
    try:
        records = store.get_videos(ids)
        counts = store.generation_counts_many(ids)
        videos = {i: _video(records[i], counts.get(i, [])) for i in ids}
        for video_id, video in videos.items():
            # 21: one more than the mix's page of 20 tells whether a next page exists.
            page = store.children(video_id, order, 21)
            video.children = [
                Remix(
                    child=videos.get(r.id) or _video(r, []),
                    prompt_diff=PromptDiff(
                        summary=r.prompt_diff.summary, variant_key=r.prompt_diff.variant_key
                    ),
                )
                for r in page
                if r.prompt_diff is not None
            ]
            video.cursors = [encode_cursor(order, measure_of(r, order), r.id) for r in page]
            video.groups = [
                VariantGroup(key=g.key, remix_count=g.remix_count, reach=g.reach)
                for g in store.variant_groups(video_id, 10)
            ]
            above = [node.id for node in store.lineage_path(video_id)[1:]]
            found = store.get_videos(above)
            video.path = [videos.get(a) or _video(found[a], []) for a in above]
            original = records[video_id].original_id
            if original != video_id:
                video.original_video = videos.get(original) or (video.path or [video])[-1]
    finally:
        store.close()
    return videos


def mix_app() -> Any:
    """The floor's ASGI app over the videos in ``BENCH_MIX_IDS``."""
    ids = json.loads(Path(os.environ["BENCH_MIX_IDS"]).read_text(encoding="utf-8"))
    VIDEOS.update(load_videos(os.environ["LINEAGE_DB"], ids))

    @strawberry.type
    class Query:
        @strawberry.field
        def video(self, id: strawberry.ID) -> Video | None:
            return VIDEOS.get(str(id))

    schema = strawberry.Schema(
        query=Query,
        extensions=[lambda: ParserCache(maxsize=256), lambda: ValidationCache(maxsize=256)],
    )
    app = GraphQL(schema, graphql_ide=None)
    gc.collect()
    gc.freeze()
    return app
