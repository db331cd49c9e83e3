"""The API's lineage answers on random forests equal networkx's."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from hypothesis import HealthCheck, example, given, settings

from api.core.config import ApiSettings
from api.main import create_app
from lineage.store import LineageStore
from tests.api.conftest import GraphQLClient, load
from tests.conftest import FULL_RUN, StoreFactory
from tests.forests import Record, Reference, Shape, build_forest, forests

FIELDS = """id derivativeCount treeDepth directRemixCount generation original { id }
  generationCounts { generation count } ancestors { id }
  topVariants(limit: 7) { child { id } promptDiff { variantKey } }
  byLikes: topVariants(limit: 7, by: LIKES) { child { id } }
  variantGroups(limit: 5) { key remixCount reach top { child { id } } }"""


async def _answers(store: LineageStore, ids: list[str]) -> dict[str, Any]:
    app = create_app(ApiSettings(), store=store)
    answers: dict[str, Any] = {}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        client = GraphQLClient(http)
        # Aliases are capped at 30 per query (byLikes is one per video).
        for start in range(0, len(ids), 12):
            batch = ids[start : start + 12]
            selection = " ".join(
                f'v{n}: video(id: "{video_id}") {{ {FIELDS} }}' for n, video_id in enumerate(batch)
            )
            data = await client.data("{ %s }" % selection)
            answers.update({data[f"v{n}"]["id"]: data[f"v{n}"] for n in range(len(batch))})
    return answers


def _check(store: LineageStore, records: list[Record]) -> None:
    load(store, records)
    reference = Reference(records)
    ids = sorted(reference.records)[:200]
    answers = asyncio.run(_answers(store, ids))
    for video_id in ids:
        video = answers[video_id]
        assert video["derivativeCount"] == reference.derivative_count(video_id), video_id
        assert video["treeDepth"] == reference.tree_depth(video_id), video_id
        assert video["directRemixCount"] == reference.direct_remix_count(video_id)
        assert video["generation"] == reference.generation(video_id)
        assert video["original"]["id"] == reference.original_id(video_id)
        assert [(g["generation"], g["count"]) for g in video["generationCounts"]] == (
            reference.generation_counts(video_id)
        )
        assert [a["id"] for a in video["ancestors"]] == reference.ancestors(video_id)
        top = reference.top_variants(video_id, "derivative_count", 7)
        assert [t["child"]["id"] for t in video["topVariants"]] == top
        assert [t["promptDiff"]["variantKey"] for t in video["topVariants"]] == [
            reference.variant_key(child) for child in top
        ]
        assert [t["child"]["id"] for t in video["byLikes"]] == reference.top_variants(
            video_id, "likes", 7
        )
        assert [
            (g["key"], g["remixCount"], g["reach"], g["top"]["child"]["id"])
            for g in video["variantGroups"]
        ] == reference.variant_groups(video_id, 5)


@settings(
    max_examples=10 if FULL_RUN else 4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(records=forests)
@example(records=build_forest([Shape("chain", 120), Shape("star", 400)], seed=5))
def test_api_answers_equal_networkx(make_store: StoreFactory, records: list[Record]) -> None:
    _check(make_store(), records)
