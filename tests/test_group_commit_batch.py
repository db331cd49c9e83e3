"""Group commit at the store: one batch holding refused remixes, on both stores (issue 10, item 3).

Concurrent remixes of one tree submitted to a :class:`GroupCommitter` share
one transaction; a bad one (unknown parent, removed parent, a cycle, an id
stored under another parent, a remix of a refused one) is refused with its
own code while the others land, every acknowledged remix is stored and
``lineage check`` is clean. Two committers on one store (two API workers)
writing into one tree at once lose nothing either.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from lineage.errors import ErrorCode
from lineage.importing.group_commit import GroupCommitter
from lineage.importing.records import ImportReport, SourcedRecord
from lineage.rights.policy import takedown
from lineage.store import LineageStore
from lineage.tree.check import check_store
from tests.api.conftest import PROMPT, SMALL_TREE, load

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def remix(video_id: str, parent_id: str) -> SourcedRecord:
    prompt = PROMPT.replace("crocodile", video_id.replace("-", " "))
    return SourcedRecord({"id": video_id, "parent_id": parent_id, "prompt": prompt}, "api", 0)


GOOD = [
    remix("ok-1", "grandma"),
    remix("ok-2", "grandma"),
    remix("ok-3", "hippo"),
    remix("ok-4", "baby-hippo"),
    remix("ok-5", "ok-1"),  # a remix of another new remix of the same batch
]
BAD = {
    "lost": (remix("lost", "nobody"), ErrorCode.NOT_FOUND),
    "of-removed": (remix("of-removed", "tank"), ErrorCode.FORBIDDEN),
    "loop-a": (remix("loop-a", "loop-b"), ErrorCode.CYCLE),
    "loop-b": (remix("loop-b", "loop-a"), ErrorCode.CYCLE),
    "giraffe": (remix("giraffe", "hippo"), ErrorCode.CONFLICT),  # stored under grandma
    "of-loop": (remix("of-loop", "loop-a"), ErrorCode.INVALID_INPUT),
}


async def test_one_batch_refuses_the_bad_remixes_alone(store: LineageStore) -> None:
    load(store, SMALL_TREE)
    takedown(store, "tank", "test", None)
    committer = GroupCommitter(store, asyncio.to_thread, window=0.05)
    records = [*GOOD, *(record for record, _ in BAD.values())]
    reports = await asyncio.gather(*(committer.submit("grandma", r) for r in records))
    assert committer.batches == 1  # all of them in one transaction

    outcome: dict[str, ImportReport] = {
        record.data["id"]: report for record, report in zip(records, reports, strict=True)
    }
    for record in GOOD:
        report = outcome[record.data["id"]]
        assert report.added == 1, report
        assert not report.rejected, report
    for video_id, (_, code) in BAD.items():
        report = outcome[video_id]
        assert [r.code for r in report.rejected] == [code], (video_id, report.rejected)
        assert report.rejected[0].video_id == video_id
        assert not report.written

    stored = store.get_videos([r.data["id"] for r in records])
    assert sorted(stored) == sorted([*(r.data["id"] for r in GOOD), "giraffe"])
    assert stored["giraffe"].parent_id == "grandma"  # the conflicting line changed nothing
    grandma = store.get_video("grandma")
    assert grandma is not None
    assert grandma.derivative_count == 4 + len(GOOD)
    assert stored["ok-5"].generation == 2
    assert check_store(store) == []


async def test_two_committers_into_one_tree_lose_nothing(
    store: LineageStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Two API workers' committers writing into one tree at once, each in turns of batches.

    On Neo4j they queue on the tree's lock without deadlocks: the driver logs
    every transaction it retries, and none is.
    """
    caplog.set_level(logging.WARNING, logger="neo4j")
    load(store, SMALL_TREE)
    committers = [GroupCommitter(store, asyncio.to_thread) for _ in range(2)]

    async def client(number: int) -> list[str]:
        acknowledged = []
        committer = committers[number % 2]
        for step in range(6):
            parent = "grandma" if step % 3 else "hippo"
            video_id = f"w{number}-{step}"
            report = await committer.submit("grandma", remix(video_id, parent))
            assert not report.rejected, report.rejected
            acknowledged.append(video_id)
        return acknowledged

    results: list[Any] = await asyncio.gather(*(client(n) for n in range(8)))
    acknowledged = [video_id for ids in results for video_id in ids]
    assert len(acknowledged) == 48
    assert sorted(store.get_videos(acknowledged)) == sorted(acknowledged)
    assert sum(c.batches for c in committers) < 48  # batches formed
    grandma = store.get_video("grandma")
    assert grandma is not None
    assert grandma.derivative_count == 4 + 48
    assert check_store(store) == []
    retried = [r.getMessage() for r in caplog.records if "retried" in r.getMessage()]
    assert retried == []


async def test_each_caller_learns_its_own_outcome(store: LineageStore) -> None:
    """A batch mixing a new remix, a retry of a stored one and a stored one with new likes:
    each caller's report (and so the API's import metrics) says what became of its line."""
    load(store, SMALL_TREE)
    stored = store.get_video("hippo")
    assert stored is not None
    committer = GroupCommitter(store, asyncio.to_thread, window=0.05)
    retry = SourcedRecord(
        {"id": "hippo", "parent_id": "grandma", "prompt": stored.prompt}, "api", 0
    )
    liked = SourcedRecord(
        {"id": "giraffe", "parent_id": "grandma", "prompt": store.get_video("giraffe").prompt,  # type: ignore[union-attr]
         "likes": 99},
        "api",
        0,
    )  # fmt: skip
    new = remix("brand-new", "grandma")
    reports = await asyncio.gather(*(committer.submit("grandma", r) for r in (new, retry, liked)))
    assert committer.batches == 1
    outcomes = [(r.added, r.updated, r.unchanged, len(r.rejected)) for r in reports]
    assert outcomes == [(1, 0, 0, 0), (0, 0, 1, 0), (0, 1, 0, 0)]
    assert check_store(store) == []
