"""Fuzzing the JSONL parser and the mutations, on every backend.

After every case the store's aggregates still pass ``lineage check`` and
the video count grew by exactly what was accepted: refused input changes
nothing. Example counts stay small so CI stays short.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.core.config import ApiSettings
from api.main import create_app
from lineage.access.tokens import Role, token_store_for
from lineage.importing.records import iter_jsonl
from lineage.store import LineageStore
from lineage.tree.check import check_store
from tests.api.conftest import SMALL_TREE, load

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
KNOWN = [record["id"] for record in SMALL_TREE]

ids = st.one_of(
    st.sampled_from([*KNOWN, "new-1", "new-2", "new-3"]),
    st.text(min_size=0, max_size=140),
)
counters = st.one_of(
    st.integers(min_value=-5, max_value=10),
    st.integers(min_value=2**31, max_value=2**70),
    # JSON carries no NaN or infinity: the client refuses to send them.
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=3),
    st.none(),
)
prompts = st.one_of(
    st.text(min_size=0, max_size=60),
    st.sampled_from(["A grandmother chases a hippo", "  ", "\x00", "鳄鱼→河马"]),
    st.just("x" * 4001),
)
records = st.fixed_dictionaries(
    {"id": ids, "prompt": prompts},
    optional={
        "parent_id": st.one_of(st.none(), ids),
        "likes": counters,
        "views": counters,
        "created_at": st.one_of(st.text(max_size=25), st.just("2025-10-02T08:00:00Z")),
        "title": st.one_of(st.text(max_size=10), st.integers()),
    },
)
json_lines = records.map(
    lambda r: json.dumps(r, ensure_ascii=False).encode("utf-8", "surrogatepass")
)
junk_lines = st.one_of(
    st.binary(max_size=40).filter(lambda b: b"\n" not in b),
    st.sampled_from(
        [
            b"[1, 2]",
            b"null",
            b'{"id": "a"',
            b"\xff\xfe",
            b'{"id": "d", "prompt": "x", "t": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        ]
    ),
)
files = st.lists(st.one_of(json_lines, junk_lines), min_size=1, max_size=8)


@pytest.fixture
def loaded(store: LineageStore) -> LineageStore:
    load(store, SMALL_TREE)
    return store


@FUZZ
@given(lines=files, atomic=st.booleans())
def test_fuzzed_jsonl_leaves_the_store_exact(
    loaded: LineageStore, lines: list[bytes], atomic: bool
) -> None:
    before = loaded.count_videos()
    stream = io.BytesIO(b"\n".join(lines) + b"\n")
    report = loaded.import_videos(iter_jsonl(stream, "fuzz.jsonl"), atomic=atomic)
    added = report.added if report.written else 0
    assert loaded.count_videos() == before + added
    assert check_store(loaded) == []
    for rejection in report.rejected:
        assert rejection.reason  # every refusal says why
        assert rejection.location.startswith("fuzz.jsonl:")


MUTATIONS = {
    "createOriginal": "mutation($input: VideoInput!) { createOriginal(input: $input) { id } }",
    "remixVideo": (
        "mutation($parent: ID!, $input: VideoInput!) "
        "{ remixVideo(parentId: $parent, input: $input) { child { id } } }"
    ),
}
inputs = st.fixed_dictionaries(
    {"prompt": prompts},
    optional={"id": ids, "likes": counters, "views": counters, "title": st.text(max_size=10)},
)


@pytest.fixture
def api(loaded: LineageStore) -> Any:
    app = create_app(ApiSettings(write_rate="100000/minute"), store=loaded)
    token = token_store_for(loaded).create("fuzzer", Role.WRITER)
    with TestClient(app, headers={"authorization": f"Bearer {token}"}) as client:
        yield client


@FUZZ
@given(name=st.sampled_from(sorted(MUTATIONS)), parent=ids, video=inputs)
def test_fuzzed_mutations_leave_the_store_exact(
    api: TestClient, loaded: LineageStore, name: str, parent: str, video: dict[str, Any]
) -> None:
    before = loaded.count_videos()
    variables: dict[str, Any] = {"input": video}
    if name == "remixVideo":
        variables["parent"] = parent
    reply = api.post("/graphql", json={"query": MUTATIONS[name], "variables": variables})
    assert reply.status_code < 500, reply.text
    body = reply.json()
    created = body.get("data") and body["data"].get(name)
    if body.get("errors"):
        assert created is None
        codes = {e["extensions"]["code"] for e in body["errors"]}
        assert "INTERNAL_SERVER_ERROR" not in codes, body
    grew = loaded.count_videos() - before
    # An accepted write adds one video or none (the same record again); a refusal none.
    assert grew in ((0, 1) if created else (0,))
    assert check_store(loaded) == []
