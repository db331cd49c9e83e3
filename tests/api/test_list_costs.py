"""Lists without first/limit are charged by a bound on their length, on both stores.

``ancestors`` and ``attribution`` hold one entry per generation above a
video: the cost limit charges each by the deepest generation in the store,
read before execution, so nesting them on a deep chain is refused before it
runs.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import pytest
from graphql import GraphQLObjectType, get_nullable_type, is_list_type, parse

from api.core.config import ApiSettings
from api.graphql.guards import DEPTH_BOUNDED, UNMULTIPLIED_LISTS, DepthUnknown, query_cost
from api.graphql.schema import build_schema
from api.main import create_app
from lineage.store import LineageStore
from lineage.stores.sqlite import SQLiteStore
from lineage.stores.sqlite.depth import MAX_GENERATION
from tests.api.chains import chain_store, nested_ancestors
from tests.api.conftest import GraphQLClient, client_of, load
from tests.conftest import BACKENDS

pytestmark = pytest.mark.anyio

DEPTH = 300


CHAIN = f"c{DEPTH}"


@pytest.fixture(scope="module", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LineageStore]:
    """A chain ``DEPTH`` deep, shared by the module's tests."""
    with chain_store(request, tmp_path_factory.mktemp("costs"), DEPTH) as opened:
        yield opened


@pytest.fixture
async def client(store: LineageStore) -> AsyncIterator[GraphQLClient]:
    """An anonymous client of a service with the default limits."""
    app = create_app(ApiSettings(), store=store)
    async with app.router.lifespan_context(app), client_of(app) as http:
        yield GraphQLClient(http)


def test_every_list_without_a_size_argument_has_a_declared_bound() -> None:
    schema = build_schema()._schema
    unsized = {
        f"{type_name}.{field_name}"
        for type_name, kind in schema.type_map.items()
        if isinstance(kind, GraphQLObjectType) and not type_name.startswith("__")
        for field_name, field in kind.fields.items()
        if is_list_type(get_nullable_type(field.type)) and not {"first", "limit"} & set(field.args)
    }
    assert unsized == DEPTH_BOUNDED | UNMULTIPLIED_LISTS


def test_depth_bounded_lists_multiply_by_the_depth() -> None:
    schema = build_schema()._schema
    one = parse(nested_ancestors("c1", 1))
    with pytest.raises(DepthUnknown):
        query_cost(schema, one)
    # video 1, ancestors 1, and its id once per generation above.
    assert query_cost(schema, one, depth=DEPTH) == 1 + 1 + DEPTH
    three = parse(nested_ancestors("c1", 3))
    assert query_cost(schema, three, depth=DEPTH) == 1 + 1 + DEPTH * (1 + DEPTH * (1 + DEPTH))
    attribution = parse('{ video(id: "c1") { attribution { share video { id } } } }')
    assert query_cost(schema, attribution, depth=DEPTH) == 1 + 1 + DEPTH * 3
    # Lists of plain values multiply nothing, and need no depth.
    counts = parse('{ video(id: "c1") { generationCounts { generation count } } }')
    assert query_cost(schema, counts) == 1 + 1 + 2
    diff = parse('{ video(id: "c1") { remixOf { promptDiff { ops { op } } } } }')
    assert query_cost(schema, diff) == 5


async def test_nested_unbounded_lists_on_a_deep_chain_are_refused_before_they_run(
    client: GraphQLClient,
) -> None:
    chain = CHAIN
    attribution = "attribution { video { attribution { video { attribution { share } } } } }"
    for query in (
        nested_ancestors(chain, 3),
        '{ video(id: "%s") { %s } }' % (chain, attribution),
    ):
        started = time.perf_counter()
        reply = await client.post(query)
        assert reply.codes == ["LIMIT_EXCEEDED"], reply.body
        error = reply.errors[0]
        assert "query cost" in error["message"], error
        assert "budget of 20000" in error["message"]
        # Refused before execution: no field ran, so no error has a path.
        assert reply.data is None
        assert "path" not in error
        assert time.perf_counter() - started < 5


async def test_one_list_of_ancestors_is_charged_by_the_depth(store: LineageStore) -> None:
    query = nested_ancestors(CHAIN, 1)  # costs 2 + DEPTH
    for budget, refused in ((DEPTH + 1, True), (DEPTH + 2, False)):
        app = create_app(ApiSettings(max_query_cost=budget), store=store)
        async with app.router.lifespan_context(app), client_of(app) as http:
            reply = GraphQLClient(http)
            answer = await reply.post(query)
        if refused:
            assert answer.codes == ["LIMIT_EXCEEDED"], answer.body
            assert f"query cost {DEPTH + 2} exceeds" in answer.errors[0]["message"]
        else:
            assert not answer.errors, answer.body
            ancestors = answer.data["video"]["ancestors"]
            assert [a["id"] for a in ancestors] == [f"c{n}" for n in range(DEPTH - 1, -1, -1)]


async def test_the_explorer_view_of_a_deep_video_stays_within_the_budget(
    client: GraphQLClient,
) -> None:
    # The explorer's core query asks for ancestors with their diffs and the
    # generation counts: one level of each, which a 300-deep chain affords.
    reply = await client.post(
        '{ video(id: "c150") { generationCounts { generation count } '
        "ancestors { id title prompt generation derivativeCount "
        "remixOf { promptDiff { summary variantKey ops { op before after } } } } "
        "attribution { share video { id } } } }"
    )
    assert not reply.errors, reply.body
    video = reply.data["video"]
    assert len(video["ancestors"]) == 150
    assert len(video["attribution"]) == 150
    assert video["generationCounts"][-1] == {"generation": DEPTH, "count": 1}


def test_the_deepest_generation_is_read_from_the_store(store: LineageStore) -> None:
    assert store.max_generation() == DEPTH
    load(store, [{"id": "shallow", "prompt": "Another original"}])
    assert store.max_generation() == DEPTH
    if isinstance(store, SQLiteStore):  # one seek in the small index of originals
        plan = store._conn().execute("EXPLAIN QUERY PLAN " + MAX_GENERATION).fetchall()
        assert [row[3] for row in plan] == ["SEARCH videos USING INDEX originals_by_depth"]
