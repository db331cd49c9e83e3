"""The committed SDL is what the code builds."""

from __future__ import annotations

from pathlib import Path

from api.graphql.schema import print_sdl

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema" / "lineage.graphql"

CONTRACT_FIELDS = [
    "video(id: ID!): Video",
    "originals(first: Int = 20, after: String = null, orderBy: VideoOrder = DERIVATIVES): "
    "VideoConnection!",
    "createOriginal(input: VideoInput!): Video!",
    "remixVideo(parentId: ID!, input: VideoInput!): Remix!",
    "remixes(first: Int = 20, after: String = null, orderBy: VideoOrder = DERIVATIVES): "
    "RemixConnection!",
    "topVariants(limit: Int = 10, by: VideoOrder = DERIVATIVES): [Remix!]!",
    "variantGroups(limit: Int = 10): [VariantGroup!]!",
    "ancestors: [Video!]!",
    "generationCounts: [GenerationCount!]!",
]


def test_committed_schema_matches_the_code() -> None:
    expected = print_sdl()
    assert SCHEMA_FILE.read_text(encoding="utf-8") == expected, (
        "schema/lineage.graphql is stale: run `python -m api.graphql.schema > "
        "schema/lineage.graphql` and commit it"
    )


def test_schema_has_the_contract_fields() -> None:
    sdl = print_sdl()
    for field in CONTRACT_FIELDS:
        assert field in sdl, field
