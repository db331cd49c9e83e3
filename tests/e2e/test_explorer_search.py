"""The explorer's search in headless Chromium, against the API's answers.

The header box (words list the matches, an exact id opens that video),
``/?q=TEXT`` opened directly, its pages, "search in this tree", and Back and
Forward through them; Chinese as English. One served demo for all of them.
"""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import api, drive, number, only_live_socket_errors

SEARCH = """query($t: String!, $w: ID, $after: String) {
  search(text: $t, within: $w, first: 20, after: $after) {
    totalCount pageInfo { endCursor }
    edges { node { id derivativeCount directRemixCount remixOf { promptDiff { variantKey } } } }
  }
}"""


def search(url: str, text: str, within: str | None = None, after: str | None = None) -> Any:
    return api(url, SEARCH, t=text, w=within, after=after)["search"]


def ids(page: Any) -> list[str]:
    return [edge["node"]["id"] for edge in page["edges"]]


def test_the_header_box_searches_opens_an_exact_id_and_the_history_returns(
    demo_url: str,
) -> None:
    expected = search(demo_url, "我奶奶")
    assert expected["totalCount"] >= 1
    shown = drive(demo_url, "search", "我奶奶", "grandma", "zebra-in-a-spaceship")
    first = shown["first"]
    assert first["q"] == "我奶奶"
    assert first["ids"] == ids(expected)
    assert "grandma" in first["ids"]
    total = expected["totalCount"]
    noun = "video matches" if total == 1 else "videos match"
    assert first["status"].startswith(f"{number(total)} {noun} “我奶奶”")
    # Keyboard and screen readers: the heading takes the focus, the count is announced.
    assert shown["focused"] == "results-title"
    assert shown["live"] == "polite"
    top = expected["edges"][0]["node"]
    assert shown["firstHit"]["link"] == f"/?video={top['id']}"
    assert number(top["derivativeCount"]) in shown["firstHit"]["facts"]
    # The words are marked where they occur: grandma's title, 我奶奶真实的脚步.
    assert top["id"] == "grandma"
    assert shown["firstHit"]["titleMarks"] == ["我奶奶"]
    assert shown["firstHit"]["marks"] == []
    # An exact id opens that video, and offers the search instead.
    assert shown["opened"]["video"] == "grandma"
    assert shown["opened"]["resultsHidden"]
    assert "search for “grandma” instead" in shown["opened"]["notice"]
    # Nothing matches: said in words.
    assert search(demo_url, "zebra-in-a-spaceship")["totalCount"] == 0
    assert shown["none"]["ids"] == []
    assert shown["none"]["status"].startswith(
        "No video in the store matches “zebra-in-a-spaceship”"
    )
    # Back: the id's video, then the first results; Forward: the video again.
    assert shown["back1"] == "grandma"
    assert shown["back2"]["q"] == "我奶奶"
    assert shown["back2"]["ids"] == ids(expected)
    assert shown["forward"] == "grandma"
    assert only_live_socket_errors(shown["consoleErrors"]) == []


def test_a_shared_address_opens_the_matches_with_their_keys_and_pages(demo_url: str) -> None:
    expected = search(demo_url, "HIPPO night")
    assert expected["totalCount"] > 20
    second = search(demo_url, "HIPPO night", after=expected["pageInfo"]["endCursor"])
    shown = drive(demo_url, "q", "HIPPO night")
    assert shown["first"]["ids"] == ids(expected)
    assert shown["first"]["status"] == (
        f"{number(expected['totalCount'])} videos match “HIPPO night”; 1–20 shown."
    )
    # Every remix shows its variant key as the contract spells it.
    keys = [e["node"]["remixOf"]["promptDiff"]["variantKey"] for e in expected["edges"]]
    assert shown["first"]["keys"] == keys
    assert all("→" in key or key.startswith("+") for key in keys)
    assert shown["second"]["ids"] == ids(second)
    assert shown["second"]["start"] == "21"
    assert shown["second"]["status"].endswith(f"21–{20 + len(second['edges'])} shown.")
    assert "HIPPO night" in shown["title"]
    # The second page's first link opens that video, focused; Back returns to the results.
    assert shown["opened"]["id"] == ids(second)[0]
    assert shown["opened"]["focused"] == "main"
    assert shown["opened"]["back"] == "HIPPO night"
    assert only_live_socket_errors(shown["consoleErrors"]) == []


def test_search_in_this_tree_keeps_to_it_and_an_unknown_tree_is_said(demo_url: str) -> None:
    within = search(demo_url, "河马", within="nainai")
    everywhere = search(demo_url, "河马")
    assert 20 < within["totalCount"] <= everywhere["totalCount"]
    nainai = api(demo_url, 'query { video(id: "nainai") { derivativeCount } }')["video"]
    shown = drive(demo_url, "treesearch", "nainai", "河马", "no-such-video")
    assert (shown["q"], shown["within"]) == ("河马", "nainai")
    assert shown["ids"] == ids(within)
    assert shown["focused"] == "results-title"
    assert shown["status"] == (
        f"{number(within['totalCount'])} videos match “河马” in the tree of 奶奶赶鳄鱼 "
        f"(nainai and its {number(nainai['derivativeCount'])} derivatives); 1–20 shown."
    )
    assert only_live_socket_errors(shown["consoleErrors"]) == []
    # An unknown tree to search in is said in words.
    unknown = shown["unknown"]
    assert unknown["status"] == "There is no video with the id “no-such-video” to search in."
    assert unknown["hits"] == 0
    assert unknown["pagerHidden"]
