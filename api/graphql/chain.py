"""The schema's extensions run as one: Strawberry's hook machinery paid once per stage.

For every request and every stage (operation, parse, validate, execute),
Strawberry looks at each extension for the stage's hook, wraps the hook in a
context manager and enters it through an exit stack: with ten extensions
that is forty look-ups and a dozen context managers per request, most of them
for hooks that do not exist. :class:`ExtensionChain` is one extension that
holds the others: which of their classes define which hook is found once,
when the schema is built, and each stage drives the hooks it has, in order,
as nested context managers would (entered first to last, left last to
first; an exception closes them, last to first, and goes on).

Every hook of a chained extension must be a generator (``yield`` once), sync
or async, as Strawberry's own are; ``get_results`` and ``resolve`` are not
chained (:func:`chain` refuses extensions that define them).

Strawberry still wraps each hook the chain has in a context manager per
request, so the chain made for a schema has only the stages some extension
hooks (Strawberry skips the others), and a stage whose hooks are all sync
gets a sync hook (a plain context manager, no awaits).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, cast

from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

__all__ = ["ExtensionChain", "chain"]

_STAGES = ("on_operation", "on_parse", "on_validate", "on_execute")
_UNCHAINED = ("resolve", "get_results")

Factory = Callable[[], SchemaExtension]
# Per stage, for each extension in order: (its position, whether its hook is async).
_Plan = dict[str, tuple[tuple[int, bool], ...]]


def _hook_of(kind: type[SchemaExtension], stage: str) -> bool | None:
    """Whether ``kind``'s hook for ``stage`` is async (None: it has none)."""
    hook = getattr(kind, stage)
    if hook is getattr(SchemaExtension, stage):
        return None
    if inspect.isasyncgenfunction(hook):
        return True
    if inspect.isgeneratorfunction(hook):
        return False
    raise TypeError(f"{kind.__name__}.{stage} must be a generator function to be chained")


def _stage_hook(stage: str) -> Callable[[ExtensionChain], AsyncIterator[None]]:
    """The chain's hook for ``stage``: its extensions' hooks entered in order, left in
    reverse, closed in reverse by an exception."""

    async def hook(self: ExtensionChain) -> AsyncIterator[None]:
        started = await self._enter(stage)
        try:
            yield
        except BaseException:
            await _close(started)
            raise
        await _leave(started)

    hook.__name__ = hook.__qualname__ = stage
    return hook


def _sync_stage_hook(stage: str) -> Callable[[ExtensionChain], Iterator[None]]:
    """:func:`_stage_hook` for a stage whose hooks are all sync."""

    def hook(self: ExtensionChain) -> Iterator[None]:
        started = self._enter_sync(stage)
        try:
            yield
        except BaseException:
            _close_sync(started)
            raise
        _leave_sync(started)

    hook.__name__ = hook.__qualname__ = stage
    return hook


class ExtensionChain(SchemaExtension):
    """The extensions made by ``factories`` (one set per request), run as one.

    Made by :func:`chain`, which plans the stages once for the schema and
    makes the subclass whose hooks are the stages planned.
    """

    def __init__(self, factories: Sequence[Factory], plan: _Plan) -> None:
        self.extensions = [factory() for factory in factories]
        self.plan = plan

    @property
    def execution_context(self) -> ExecutionContext:
        return self._execution_context

    @execution_context.setter
    def execution_context(self, context: ExecutionContext) -> None:
        self._execution_context = context
        for extension in self.extensions:
            extension.execution_context = context

    async def _enter(self, stage: str) -> list[tuple[Any, bool]]:
        """Enter the stage's hooks in order: the started ones, to be left."""
        started: list[tuple[Any, bool]] = []
        try:
            for position, is_async in self.plan[stage]:
                hooks = getattr(self.extensions[position], stage)()
                if is_async:
                    await hooks.__anext__()
                else:
                    next(hooks)
                started.append((hooks, is_async))
        except BaseException:
            await _close(started)
            raise
        return started

    def _enter_sync(self, stage: str) -> list[Iterator[None]]:
        """:meth:`_enter` for a stage whose hooks are all sync."""
        started: list[Iterator[None]] = []
        try:
            for position, _ in self.plan[stage]:
                hooks = getattr(self.extensions[position], stage)()
                next(hooks)
                started.append(hooks)
        except BaseException:
            _close_sync(started)
            raise
        return started

    # Strawberry calls each stage's hook by name (async here: :func:`chain`'s
    # subclass replaces them by the ones each schema needs).
    on_operation = _stage_hook("on_operation")
    on_parse = _stage_hook("on_parse")
    on_validate = _stage_hook("on_validate")
    on_execute = _stage_hook("on_execute")

    def on_stream_result(self, result: Any) -> Iterator[None]:
        # Each result a subscription pushes: the sync hooks that look at it.
        started: list[Iterator[None]] = []
        for extension in self.extensions:
            hook = type(extension).on_stream_result
            if hook is not SchemaExtension.on_stream_result:
                hooks = cast(Iterator[None], hook(extension, result))
                next(hooks)
                started.append(hooks)
        yield
        for hooks in reversed(started):
            for _ in hooks:
                raise RuntimeError("an on_stream_result hook yielded twice")


async def _close(started: list[tuple[Any, bool]]) -> None:
    """Close started hooks, last first (an exception leaves the stage)."""
    for hooks, is_async in reversed(started):
        if is_async:
            await hooks.aclose()
        else:
            hooks.close()


async def _leave(started: list[tuple[Any, bool]]) -> None:
    """Run the rest of started hooks, last first."""
    for index in range(len(started) - 1, -1, -1):
        hooks, is_async = started[index]
        try:
            if is_async:
                await hooks.__anext__()
            else:
                next(hooks)
        except (StopIteration, StopAsyncIteration):
            continue
        except BaseException:  # the hooks outside it are closed, as an exit stack would
            await _close(started[:index])
            raise
        raise RuntimeError(f"a chained hook ({hooks.__qualname__}) yielded twice")


def _close_sync(started: list[Iterator[None]]) -> None:
    """:func:`_close` of sync hooks."""
    for hooks in reversed(started):
        cast(Any, hooks).close()


def _leave_sync(started: list[Iterator[None]]) -> None:
    """:func:`_leave` of sync hooks."""
    for index in range(len(started) - 1, -1, -1):
        hooks = started[index]
        try:
            next(hooks)
        except StopIteration:
            continue
        except BaseException:
            _close_sync(started[:index])
            raise
        raise RuntimeError(f"a chained hook ({cast(Any, hooks).__qualname__}) yielded twice")


def chain(kinds: Sequence[type[SchemaExtension]], factories: Sequence[Factory]) -> Factory:
    """One extension factory running the extensions ``factories`` make, in order.

    Parameters
    ----------
    kinds : sequence of SchemaExtension classes
        The class each factory makes, in the same order (their hooks are
        found here, once).
    factories : sequence of callables
        Each makes one fresh extension per request.

    Examples
    --------
    >>> from api.graphql.errors import ErrorCodes
    >>> make = chain([ErrorCodes], [ErrorCodes])
    >>> [type(e).__name__ for e in make().extensions]
    ['ErrorCodes']
    """
    if len(kinds) != len(factories):
        raise ValueError("one class per factory")
    for kind in kinds:
        for name in _UNCHAINED:
            if getattr(kind, name) is not getattr(SchemaExtension, name):
                raise TypeError(f"{kind.__name__}.{name} cannot be chained")
    plan: _Plan = {}
    for stage in _STAGES:
        found = [(position, _hook_of(kind, stage)) for position, kind in enumerate(kinds)]
        plan[stage] = tuple((position, kind) for position, kind in found if kind is not None)
    stages: dict[str, Any] = {}
    for stage, planned in plan.items():
        if not planned:  # Strawberry wraps nothing for a stage left at the default
            stages[stage] = getattr(SchemaExtension, stage)
        elif not any(is_async for _, is_async in planned):
            stages[stage] = _sync_stage_hook(stage)
    made = type("ExtensionChain", (ExtensionChain,), stages)
    frozen = tuple(factories)
    return lambda: made(frozen, plan)
