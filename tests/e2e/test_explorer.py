"""The explorer in headless Chromium against a real server with the demo.

These use only the fields of the core schema; the live count and the status
marks are in ``test_explorer_over_time_and_rights.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import api, drive, number, only_live_socket_errors

VIDEO = """query($id: ID!) { video(id: $id) {
  id derivativeCount directRemixCount treeDepth generation
  generationCounts { generation count }
  ancestors { id }
  remixOf { promptDiff { ops { op before after } } }
  topVariants(limit: 8) { child { id derivativeCount directRemixCount } promptDiff { variantKey } }
  variantGroups(limit: 10) { key remixCount reach }
} }"""


def video(url: str, id: str) -> Any:
    return api(url, VIDEO, id=id)["video"]


def test_the_page_opens_on_the_leading_original_with_the_apis_counts(demo_url: str) -> None:
    shown = drive(demo_url, "load")
    grandma = video(demo_url, "grandma")
    print(f"first view of the demo: {shown['firstViewMs']} ms (browser start excluded)")
    assert shown["video"] == "grandma"
    assert shown["title"] == "我奶奶真实的脚步"
    assert shown["derivativeCount"] == number(grandma["derivativeCount"])
    assert shown["treeDepth"] == number(grandma["treeDepth"])
    assert shown["directRemixCount"] == number(grandma["directRemixCount"])
    assert shown["originals"][:2] == ["我奶奶真实的脚步", "奶奶赶鳄鱼"]
    assert shown["generationTable"] == [
        [f"gen {g['generation']}", number(g["count"])] for g in grandma["generationCounts"]
    ]
    # Variant keys spelled as the contract gives them, plurals right.
    assert shown["variantGroups"][0] == "crocodile→hippo: 3,991 remixes, reach 13,516"
    assert shown["variantGroups"] == [
        f"{g['key']}: {number(g['remixCount'])} remix{'' if g['remixCount'] == 1 else 'es'}, "
        f"reach {number(g['reach'])}"
        for g in grandma["variantGroups"]
    ]
    # The tree: the video, its top variants and theirs, the rest folded.
    labels = shown["treeLabels"]
    assert labels[0] == "我奶奶真实的脚步"
    # A label that repeats among its siblings carries the video's id.
    top = grandma["topVariants"][0]
    keys = [v["promptDiff"]["variantKey"] for v in grandma["topVariants"]]
    name = top["promptDiff"]["variantKey"]
    if keys.count(name) > 1:
        name = f"{name} ({top['child']['id']})"
    assert labels[1] == f"{name} · {number(top['child']['derivativeCount'])}"
    level_one = [t for t in labels if t.startswith("crocodile→")]
    assert len(level_one) == len(set(level_one))
    folded = grandma["directRemixCount"] - len(grandma["topVariants"])
    assert f"+{number(folded)} more remixes" in labels
    assert shown["treeNodes"] <= 300
    assert shown["domElements"] < 2000
    assert only_live_socket_errors(shown["consoleErrors"]) == []


def test_clicking_the_hippo_variant_shows_its_prompt_diff_and_count(demo_url: str) -> None:
    shown = drive(demo_url, "hippo", "grandma")
    grandma = video(demo_url, "grandma")
    hippo = next(
        v for v in grandma["topVariants"] if v["promptDiff"]["variantKey"] == "crocodile→hippo"
    )
    assert shown["clicked"] == hippo["child"]["id"]
    assert shown["video"] == hippo["child"]["id"]
    assert shown["derivativeCount"] == number(hippo["child"]["derivativeCount"])
    assert shown["deleted"] == ["crocodile"]
    assert shown["inserted"] == ["hippo"]
    assert shown["summary"] == "change: crocodile→hippo"
    assert shown["diffText"].startswith("A grandmother chases the crocodilehippo out of her yard")


def deepest_by_top_variants(url: str, id: str) -> str:
    while True:
        below = api(
            url,
            "query($id: ID!) { video(id: $id) { topVariants(limit: 1) { child { id } } } }",
            id=id,
        )
        top = below["video"]["topVariants"]
        if not top:
            return id
        id = top[0]["child"]["id"]


@pytest.mark.parametrize("original", ["grandma", "nainai"])
def test_a_deep_remix_opens_on_its_path_to_the_original(demo_url: str, original: str) -> None:
    deep = deepest_by_top_variants(demo_url, original)
    expected = video(demo_url, deep)
    assert expected["generation"] >= 2
    shown = drive(demo_url, "path", deep)
    assert shown["video"] == deep
    chain = [a["id"] for a in reversed(expected["ancestors"])] + [deep]
    assert [step["id"] for step in shown["steps"]] == chain
    assert chain[0] == original
    assert shown["steps"][0]["deleted"] == shown["steps"][0]["inserted"] == []
    for step in shown["steps"][1:]:
        ops = video(demo_url, step["id"])["remixOf"]["promptDiff"]["ops"]
        assert step["deleted"] == [op["before"] for op in ops if op["before"]]
        assert step["inserted"] == [op["after"] for op in ops if op["after"]]
    if original == "nainai":
        first_step = shown["steps"][1]
        assert first_step["deleted"]
        assert all("\u4e00" <= ch <= "\u9fff" for ch in first_step["deleted"][0])


def test_keyboard_navigation_moves_the_selection_and_back_returns(demo_url: str) -> None:
    shown = drive(demo_url, "keyboard", "grandma")
    second = video(demo_url, "grandma")["topVariants"][1]["child"]
    assert shown["focused"] == second["id"]
    assert shown["selected"] == second["id"]
    assert shown["derivativeCount"] == number(second["derivativeCount"])
    assert shown["afterBack"] == "grandma"


def test_more_opens_a_paged_searchable_list(demo_url: str) -> None:
    total = video(demo_url, "grandma")["directRemixCount"]
    shown = drive(demo_url, "more", "grandma", "hippo")
    assert shown["firstPage"] == 50
    assert shown["status"] == f"1–50 of {number(total)} direct remixes"
    assert shown["secondStatus"] == f"51–100 of {number(total)} direct remixes"
    assert shown["filtered"]
    assert all("hippo" in key for key in shown["filtered"])
    assert shown["listStart"] == "51"
    assert shown["filterNote"] == f"{len(shown['filtered'])} of 50 on this page match “hippo”."


def test_graphiql_renders_and_runs_a_query_with_the_network_blocked(demo_url: str) -> None:
    shown = drive(demo_url, "graphiql")
    assert shown["blocked"] == []
    derivatives = video(demo_url, "grandma")["derivativeCount"]
    assert f'"derivativeCount": {derivatives}' in shown["result"]
    assert only_live_socket_errors(shown["consoleErrors"]) == []
