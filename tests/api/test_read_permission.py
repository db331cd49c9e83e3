"""The read permission waits for nothing: with private reads it decides from the
verdict the HTTP layer reached before execution, or looks the token up at once."""

from __future__ import annotations

import pytest
from fastapi.security import HTTPAuthorizationCredentials

from api.core.config import ApiSettings
from api.graphql.context import LineageContext
from api.graphql.schema import build_schema
from api.security import Access
from lineage.access.tokens import Role, TokenStore
from lineage.store import LineageStore

pytestmark = pytest.mark.anyio

READ = '{ video(id: "grandma") { id derivativeCount } }'
PRIVATE = ApiSettings(public_reads=False)


def access(tokens: TokenStore, token: str | None) -> Access:
    credentials = (
        None if token is None else HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
    )
    return Access(tokens, credentials)


def derivatives(store: LineageStore) -> int:
    grandma = store.get_video("grandma")
    assert grandma is not None
    return grandma.derivative_count


async def codes(store: LineageStore, caller: Access) -> tuple[object, list[object]]:
    schema = build_schema(PRIVATE)
    result = await schema.execute(READ, context_value=LineageContext(store, PRIVATE, caller))
    return result.data, [error.extensions["code"] for error in result.errors or ()]


async def test_a_reader_token_not_looked_up_before_is_looked_up_once(
    small_tree: LineageStore, tokens: TokenStore
) -> None:
    reader = tokens.create("reader", Role.READER)
    caller = access(tokens, reader)
    assert not caller.checked
    data, errors = await codes(small_tree, caller)
    assert errors == []
    assert data == {"video": {"id": "grandma", "derivativeCount": derivatives(small_tree)}}
    assert caller.checked
    assert caller.checked_principal is not None


async def test_no_token_and_a_revoked_one_are_refused(
    small_tree: LineageStore, tokens: TokenStore
) -> None:
    assert await codes(small_tree, access(tokens, None)) == ({"video": None}, ["UNAUTHENTICATED"])
    reader = tokens.create("gone", Role.READER)
    assert tokens.revoke("gone")
    assert await codes(small_tree, access(tokens, reader)) == (
        {"video": None},
        ["UNAUTHENTICATED"],
    )


async def test_the_verdict_reached_before_execution_is_the_one_used(
    small_tree: LineageStore, tokens: TokenStore
) -> None:
    reader = tokens.create("early", Role.READER)
    caller = access(tokens, reader)
    assert await caller.principal() is not None
    # Revoked after the verdict (as between the HTTP layer's look-up and the field):
    # the request keeps the verdict it started with, as one look-up per request means.
    assert tokens.revoke("early")
    data, errors = await codes(small_tree, caller)
    assert errors == []
    assert data == {"video": {"id": "grandma", "derivativeCount": derivatives(small_tree)}}
