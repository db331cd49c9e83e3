"""Guards against hostile queries, each its own small extension.

* :class:`FieldRepeatLimit`: a response key repeated many times in one
  selection set (``{ video { parent { id } parent { id } ... } }``) makes
  validation's overlap check quadratic; refused before validation.
* :class:`DirectiveLimit`: at most so many directives in a document, and
  no directive twice on one location (unless the schema declares it
  repeatable), refused before validation with one error (validation would
  list each directive, unknown or repeated, as an error of its own).
* :class:`QueryCostLimit`: each field costs 1 and a list multiplies the
  cost of what it selects by a bound on its length: its ``first`` or
  ``limit`` argument, or for ``ancestors`` and ``attribution`` the deepest
  generation in the store, read once per query that selects one
  (:data:`DEPTH_BOUNDED`; lists of plain values multiply nothing,
  :data:`UNMULTIPLIED_LISTS`);
  refused before execution when above the budget, with ``LIMIT_EXCEEDED``
  naming the cost and the budget.
* :class:`GuardedValidationCache`: the validation cache, which does not
  validate a document a guard has already refused.

Refusals carry ``extensions.code = LIMIT_EXCEEDED``. Verdicts are
remembered per query text (and, for the cost, its variables), so a query
asked again is not walked again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any

from graphql import (
    DirectiveNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    Visitor,
    get_named_type,
    get_nullable_type,
    is_list_type,
    visit,
)
from graphql.pyutils import Undefined
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef
from strawberry.extensions import SchemaExtension, ValidationCache

from api.keys import digest
from lineage.errors import ErrorCode

__all__ = [
    "DEPTH_BOUNDED",
    "UNMULTIPLIED_LISTS",
    "DepthUnknown",
    "DirectiveLimit",
    "FieldRepeatLimit",
    "GuardedValidationCache",
    "QueryCostLimit",
    "query_cost",
]

_SIZE_ARGUMENTS = ("first", "limit")
# Lists without first/limit whose items select further lists: their length is
# at most the deepest generation in the store (one ancestor, and one
# attribution share, per generation above a video). Any other list without
# first/limit that is not below is charged the same way.
DEPTH_BOUNDED = frozenset({"Video.ancestors", "Video.attribution"})
# Lists that multiply nothing: a connection's edges (its first multiplied
# already), and lists of plain values, whose items select scalars only and so
# cannot nest: a diff's ops (at most one per changed token of a prompt) and a
# video's generation counts (one per generation below it, read for a whole
# page of videos at once). Each costs what a long string does.
UNMULTIPLIED_LISTS = frozenset(
    {"RemixConnection.edges", "VideoConnection.edges", "PromptDiff.ops", "Video.generationCounts"}
)
_META_FIELDS = {
    "__schema": SchemaMetaFieldDef,
    "__type": TypeMetaFieldDef,
    "__typename": TypeNameMetaFieldDef,
}


# Verdicts by (guard, its limit, query text...): a query is walked once, not
# on every request. Bounded: emptied when full (as the parser cache bounds
# the documents they were made from).
_VERDICTS: dict[tuple[Any, ...], Any] = {}
_MAX_VERDICTS = 1024
# Variables longer than this (as text) are not part of a remembered verdict.
_MAX_VARIABLES_KEY = 512


def _remembered(key: tuple[Any, ...] | None, compute: Callable[[], Any]) -> Any:
    """``compute()``, remembered under ``key`` (None: not remembered)."""
    if key is None:
        return compute()
    try:
        return _VERDICTS[key]
    except KeyError:
        pass
    verdict = compute()
    if len(_VERDICTS) >= _MAX_VERDICTS:
        _VERDICTS.clear()
    _VERDICTS[key] = verdict
    return verdict


def _refusal(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": ErrorCode.LIMIT_EXCEEDED})


class _Guard(SchemaExtension):
    """Refuses a parsed document before validation when :meth:`problem` names one."""

    limit: int

    def problem(self) -> str | None:
        raise NotImplementedError

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.pre_execution_errors is None and context.graphql_document is not None:
            query = context.query
            # A digest, not the text: a key would keep every distinct text alive.
            key = (type(self), self.limit, digest(query)) if query is not None else None
            message = _remembered(key, self.problem)
            if message is not None:
                context.pre_execution_errors = [_refusal(message)]
        yield


class FieldRepeatLimit(_Guard):
    """At most ``max_repeats`` selections of one response key in a selection set.

    Fragments are expanded (each once per selection set, as execution does),
    so repeating a field through fragments counts too.
    """

    def __init__(self, max_repeats: int) -> None:
        super().__init__()
        self.max_repeats = self.limit = max_repeats

    def problem(self) -> str | None:
        document = self.execution_context.graphql_document
        assert document is not None
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
                found = self._check(definition.selection_set, fragments)
                if found is not None:
                    return found
        return None

    def _check(
        self, selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode]
    ) -> str | None:
        keys: Counter[str] = Counter()
        seen: set[str] = set()
        pending = [selection_set]
        while pending:
            for selection in pending.pop().selections:
                if isinstance(selection, FieldNode):
                    key = (selection.alias or selection.name).value
                    keys[key] += 1
                    if keys[key] > self.max_repeats:
                        return (
                            f"field {key!r} is selected more than {self.max_repeats} times "
                            "in one selection set"
                        )
                    if selection.selection_set is not None:
                        found = self._check(selection.selection_set, fragments)
                        if found is not None:
                            return found
                elif isinstance(selection, InlineFragmentNode):
                    pending.append(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    if name not in seen and name in fragments:
                        seen.add(name)
                        pending.append(fragments[name].selection_set)
        return None


class DirectiveLimit(_Guard):
    """At most ``max_directives`` directives in one document, none repeated on one location.

    A directive the schema declares ``repeatable`` may repeat; any other
    (unknown ones included) may appear once per field, fragment or operation.
    """

    def __init__(self, max_directives: int) -> None:
        super().__init__()
        self.max_directives = self.limit = max_directives

    def problem(self) -> str | None:
        counted = 0
        repeated: str | None = None
        schema = self.execution_context.schema._schema

        class Count(Visitor):
            def enter(self, node: Any, *_: Any) -> None:
                nonlocal counted, repeated
                directives: tuple[DirectiveNode, ...] = getattr(node, "directives", None) or ()
                counted += len(directives)
                if repeated is None and len(directives) > 1:
                    names = Counter(directive.name.value for directive in directives)
                    for name, times in names.items():
                        declared = schema.get_directive(name)
                        if times > 1 and (declared is None or not declared.is_repeatable):
                            repeated = name
                            break

        assert self.execution_context.graphql_document is not None
        visit(self.execution_context.graphql_document, Count())
        if repeated is not None:
            return f"directive @{repeated} is repeated on one location"
        if counted > self.max_directives:
            return f"{counted} directives found; the limit is {self.max_directives}"
        return None


class GuardedValidationCache(ValidationCache):
    """Strawberry's validation cache, skipped for a document a guard refused."""

    def on_validate(self) -> Iterator[None]:
        if self.execution_context.pre_execution_errors:
            yield
            return
        yield from super().on_validate()


class DepthUnknown(Exception):
    """The cost depends on the store's deepest generation, which was not given."""


def _size(
    field: GraphQLField, node: FieldNode, variables: Mapping[str, Any], defaults: Mapping[str, Any]
) -> int | None:
    """The list size a field asks for (its first/limit argument); None if it has none."""
    for name in _SIZE_ARGUMENTS:
        argument = field.args.get(name)
        if argument is None:
            continue
        value: Any = Undefined
        for given in node.arguments or ():
            if given.name.value != name:
                continue
            if isinstance(given.value, IntValueNode):
                value = int(given.value.value)
            elif isinstance(given.value, VariableNode):
                variable = given.value.name.value
                value = variables.get(variable, defaults.get(variable, Undefined))
        if value is Undefined:
            value = argument.default_value
        # A value that is not a 32-bit Int is refused when variables are coerced.
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31:
            return value
        return 1
    return None


def _multiplier(
    parent: GraphQLNamedType,
    field: GraphQLField,
    node: FieldNode,
    variables: Mapping[str, Any],
    defaults: Mapping[str, Any],
    depth: int | None,
) -> int:
    """How many times a field's selection is charged: a bound on its list's length."""
    size = _size(field, node, variables, defaults)
    if size is not None:
        return size
    if not is_list_type(get_nullable_type(field.type)) or parent.name.startswith("__"):
        return 1  # one object, or introspection (bounded by the schema itself)
    name = f"{parent.name}.{node.name.value}"
    if name in UNMULTIPLIED_LISTS:
        return 1
    if depth is None:
        raise DepthUnknown(name)
    return max(depth, 1)


def query_cost(
    schema: GraphQLSchema,
    document: Any,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
    depth: int | None = None,
) -> int:
    """The cost of the operation ``document`` runs: fields, times bounds on list lengths.

    Parameters
    ----------
    schema : GraphQLSchema
    document : DocumentNode
    operation_name : str, optional
    variables : mapping, optional
    depth : int, optional
        The deepest generation in the store: the bound of the lists in
        :data:`DEPTH_BOUNDED`.

    Raises
    ------
    DepthUnknown
        The operation selects such a list and ``depth`` is None.
    """
    fragments: dict[str, FragmentDefinitionNode] = {}
    operations: list[OperationDefinitionNode] = []
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            fragments[definition.name.value] = definition
        elif isinstance(definition, OperationDefinitionNode):
            operations.append(definition)
    chosen = [
        op
        for op in operations
        if operation_name is None or (op.name is not None and op.name.value == operation_name)
    ]
    if not chosen:
        return 0
    operation = chosen[0]
    defaults: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        if isinstance(definition.default_value, IntValueNode):
            defaults[definition.variable.name.value] = int(definition.default_value.value)
    roots = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }
    root = roots.get(operation.operation)
    if root is None:
        return 0
    values = dict(variables or {})

    def cost(
        selection_set: SelectionSetNode, parent: GraphQLNamedType, visiting: frozenset[str]
    ) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                field = _META_FIELDS.get(name)
                if field is None and isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
                    field = parent.fields.get(name)
                total += 1
                if field is None or selection.selection_set is None:
                    continue
                below = cost(selection.selection_set, get_named_type(field.type), visiting)
                total += _multiplier(parent, field, selection, values, defaults, depth) * below
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = schema.get_type(condition.name.value) if condition else parent
                total += cost(selection.selection_set, target or parent, visiting)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is None or name in visiting:
                    continue
                target = schema.get_type(fragment.type_condition.name.value) or parent
                total += cost(fragment.selection_set, target, visiting | {name})
        return total

    return cost(operation.selection_set, root, frozenset())


def _sizes_of(variables: Mapping[str, Any]) -> list[tuple[str, int | None]]:
    """What of ``variables`` a cost can depend on: each one's value if it is an Int
    (a list size), else only that it is given (:func:`_size` charges any other
    value 1; an id or a text never changes a cost)."""
    return sorted(
        (name, value if isinstance(value, int) and not isinstance(value, bool) else None)
        for name, value in variables.items()
    )


class QueryCostLimit(SchemaExtension):
    """Refuse, before execution, an operation whose cost is above ``budget``.

    Parameters
    ----------
    budget : int
    depth : callable, optional
        Given the request's context, the deepest generation in the store;
        asked only for operations that select a list bounded by it. Without
        it such lists are charged ``default_depth``.
    default_depth : int
    """

    def __init__(
        self,
        budget: int,
        depth: Callable[[Any], Awaitable[int]] | None = None,
        default_depth: int = 100,
    ) -> None:
        super().__init__()
        self.budget = budget
        self.depth = depth
        self.default_depth = default_depth

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and context.result is None:
            spent = await self._cost()
            if spent > self.budget:
                context.result = ExecutionResult(
                    data=None,
                    errors=[
                        _refusal(
                            f"query cost {spent} exceeds the budget of {self.budget} "
                            "(each field costs 1; lists multiply by their first/limit, "
                            "ancestors and attribution by the deepest generation in the store)"
                        )
                    ],
                )
        yield

    async def _cost(self) -> int:
        context = self.execution_context
        document = context.graphql_document

        def compute(depth: int | None) -> int | None:
            try:
                return query_cost(
                    context.schema._schema,
                    document,
                    context.operation_name,
                    context.variables,
                    depth,
                )
            except DepthUnknown:
                return None

        key = self._key()
        # Most operations select no depth-bounded list: their cost needs no read.
        spent: int | None = _remembered(key, lambda: compute(None))
        if spent is not None:
            return spent
        depth = self.default_depth if self.depth is None else await self.depth(context.context)
        with_depth = None if key is None else (*key, depth)
        counted: int = _remembered(with_depth, lambda: compute(depth))
        return counted

    def _key(self) -> tuple[Any, ...] | None:
        """What the cost depends on: the schema, the text, the operation, and of the
        variables only their sizes (:func:`_sizes_of`), so that the same query about
        another video is not walked again."""
        context = self.execution_context
        if context.query is None:
            return None
        variables = repr(_sizes_of(context.variables)) if context.variables else ""
        if len(variables) > _MAX_VARIABLES_KEY:
            return None
        schema = id(context.schema)
        text = digest(context.query, repr(context.operation_name), variables)
        return (QueryCostLimit, schema, text)
