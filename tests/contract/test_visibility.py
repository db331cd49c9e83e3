"""One masking rule for every output: what a reader and an admin see of a removed video.

Below ``admin`` a removed video's words (prompt, title, creator, the words of
its prompt diff) and who removed it are blank in every export format; the
lineage fields stay. An admin (and the command line, the operator's) sees
everything. GraphQL's side is in ``tests/api/test_rights_api.py``.
"""

from __future__ import annotations

import json

import pytest

from lineage.access.tokens import Role
from lineage.export.graph import to_networkx
from lineage.export.jsonl import iter_jsonl_lines
from lineage.export.neo4j_csv import CSV_REMIX_HEADER, CSV_VIDEO_HEADER, iter_csv_rows
from lineage.rights.policy import takedown
from lineage.store import LineageStore
from tests.api.conftest import SMALL_TREE, load


@pytest.fixture
def removed(store: LineageStore) -> LineageStore:
    load(store, SMALL_TREE)
    takedown(store, "hippo", "DMCA 7", "ops-token")
    return store


def _jsonl(store: LineageStore, viewer: Role | None) -> dict[str, dict[str, object]]:
    lines = [json.loads(line) for line in iter_jsonl_lines(store, "grandma", viewer=viewer)]
    return {line["id"]: line for line in lines}


def _csv(store: LineageStore, viewer: Role | None) -> dict[tuple[str, str], dict[str, object]]:
    headers = {"videos": CSV_VIDEO_HEADER, "remixes": CSV_REMIX_HEADER}
    rows = {}
    for part, row in iter_csv_rows(store, "grandma", ("videos", "remixes"), viewer=viewer):
        named = dict(zip(headers[part], row, strict=True))
        rows[(part, str(row[0]))] = named
    return rows


@pytest.mark.parametrize("viewer", [None, Role.READER, Role.WRITER])
def test_below_admin_every_format_blanks_the_same_fields(
    removed: LineageStore, viewer: Role | None
) -> None:
    line = _jsonl(removed, viewer)["hippo"]
    assert (line["prompt"], line["title"], line["creator"]) == ("", None, None)
    diff = line["prompt_diff"]
    assert isinstance(diff, dict)
    assert (diff["summary"], diff["ops"], diff["variant_key"]) == ("", [], "crocodile→hippo")
    assert (line["status"], line["removed_reason"]) == ("REMOVED", "DMCA 7")
    assert line["derivative_count"] == 1  # the lineage stays whole

    rows = _csv(removed, viewer)
    video = rows[("videos", "hippo")]
    assert (video["prompt"], video["title"], video["creator"]) == ("", "", "")
    assert video["removed_by"] == ""  # an operator's token name
    assert video["status"] == "REMOVED"
    remix = rows[("remixes", "hippo")]
    assert (remix["summary"], remix["ops"], remix["variant_key"]) == ("", "[]", "crocodile→hippo")

    graph = to_networkx(removed, "grandma", viewer=viewer)
    assert graph.nodes["hippo"]["prompt"] == ""
    assert graph.nodes["hippo"]["status"] == "REMOVED"
    assert graph.edges["hippo", "grandma"]["summary"] == ""
    assert graph.edges["hippo", "grandma"]["ops"] == []
    # Active videos are whole for everyone.
    assert graph.nodes["giraffe"]["prompt"] == rows[("videos", "giraffe")]["prompt"] != ""


def test_an_admin_sees_everything_in_every_format(removed: LineageStore) -> None:
    stored = removed.get_video("hippo")
    assert stored is not None
    line = _jsonl(removed, Role.ADMIN)["hippo"]
    assert line["prompt"] == stored.prompt
    assert line["prompt_diff"]["ops"]  # type: ignore[index]
    rows = _csv(removed, Role.ADMIN)
    assert rows[("videos", "hippo")]["removed_by"] == "ops-token"
    assert rows[("videos", "hippo")]["prompt"] == stored.prompt
    graph = to_networkx(removed, "grandma")  # the operator's view by default
    assert graph.nodes["hippo"]["prompt"] == stored.prompt
    assert graph.nodes["hippo"]["status"] == "REMOVED"
