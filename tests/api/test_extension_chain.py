"""The schema's extensions run as one (api/graphql/chain.py): same order, same exits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import strawberry
from strawberry.extensions import SchemaExtension

from api.graphql.chain import chain

pytestmark = pytest.mark.anyio

EVENTS: list[str] = []


class Outer(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        EVENTS.append("outer in")
        yield
        EVENTS.append("outer out")

    def on_parse(self) -> Iterator[None]:
        EVENTS.append("outer parse")
        yield


class Inner(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        EVENTS.append("inner in")
        yield
        EVENTS.append("inner out")

    async def on_execute(self) -> AsyncIterator[None]:
        EVENTS.append("inner execute")
        yield
        result = self.execution_context.result
        if result is not None and result.data is not None:
            result.data["seen"] = True


class Fails(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        EVENTS.append("fails")
        raise RuntimeError("refused")
        yield


@strawberry.type
class Query:
    answer: int = 42


async def run(extensions: list[object]) -> tuple[object, list[str]]:
    EVENTS.clear()
    schema = strawberry.Schema(query=Query, extensions=extensions)  # type: ignore[arg-type]
    result = await schema.execute("{ answer }", root_value=Query())
    errors = [error.message for error in result.errors or ()]
    return (result.data, errors), list(EVENTS)


@pytest.mark.parametrize(
    "kinds", [[Outer, Inner], [Inner, Outer], [Outer, Fails, Inner], [Fails], [Inner, Fails]]
)
async def test_chained_extensions_do_what_they_do_apart(kinds: list[type[SchemaExtension]]) -> None:
    apart = await run(list(kinds))
    chained = await run([chain(kinds, kinds)])
    assert chained == apart


async def test_hooks_enter_in_order_and_leave_in_reverse() -> None:
    (data, errors), events = await run([chain([Outer, Inner], [Outer, Inner])])
    assert data == {"answer": 42, "seen": True}
    assert not errors
    assert events == [
        "outer in",
        "inner in",
        "outer parse",
        "inner execute",
        "inner out",
        "outer out",
    ]


def test_hooks_that_are_not_generators_are_refused() -> None:
    class Plain(SchemaExtension):
        def on_operation(self) -> None:  # type: ignore[override]
            return None

    with pytest.raises(TypeError, match="generator"):
        chain([Plain], [Plain])

    class Resolving(SchemaExtension):
        def resolve(self, _next, root, info, *args, **kwargs):  # type: ignore[no-untyped-def]
            return _next(root, info, *args, **kwargs)

    with pytest.raises(TypeError, match="resolve"):
        chain([Resolving], [Resolving])


def test_the_chain_hooks_only_what_its_extensions_hook_and_sync_where_they_all_are() -> None:
    import inspect

    made = type(chain([Outer, Fails], [Outer, Fails])())
    # No extension hooks execution: Strawberry is left nothing to wrap there.
    assert made.on_execute is SchemaExtension.on_execute
    for stage in ("on_operation", "on_parse", "on_validate"):
        assert inspect.isgeneratorfunction(getattr(made, stage)), stage
    mixed = type(chain([Outer, Inner], [Outer, Inner])())
    assert inspect.isasyncgenfunction(mixed.on_operation)
    assert inspect.isgeneratorfunction(mixed.on_parse)
    assert mixed.on_validate is SchemaExtension.on_validate


class Guarded(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        EVENTS.append("guard in")
        try:
            yield
        finally:
            EVENTS.append("guard closed")


async def test_a_sync_stage_closes_its_started_hooks_when_a_later_one_fails() -> None:
    (data, errors), events = await run([chain([Guarded, Fails], [Guarded, Fails])])
    (apart_data, apart_errors), _ = await run([Guarded, Fails])
    assert (data, errors) == (apart_data, apart_errors)
    # As nested context managers would (Strawberry apart leaves it to the collector).
    assert events == ["guard in", "fails", "guard closed"]
