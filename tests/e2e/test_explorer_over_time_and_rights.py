"""The explorer's over-time panels, live count and status marks, in Chromium.

These need the contract's ``videoUpdated`` subscription (over
graphql-transport-ws) and its "Rights" fields (``status``,
``derivedFromRemoved``, ``removedDerivativeCount``, ``takedown``,
``restore``). Each test writes its own small lineage through the API, so the
demo the other tests read stays as it was.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import api, drive, number

ORIGINAL = "mutation($i: VideoInput!) { createOriginal(input: $i) { id } }"
REMIX = (
    "mutation($p: ID!, $i: VideoInput!) { remixVideo(parentId: $p, input: $i) { child { id } } }"
)


@pytest.fixture(scope="module")
def token(demo_db: Path, demo_url: str) -> str | None:
    """An admin token when the service has tokens (the contract's Access section)."""
    lineage = Path(sys.executable).with_name("lineage")
    made = subprocess.run(
        [str(lineage), "--db", str(demo_db), "token", "create", "e2e", "--role", "admin"],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode == 0:
        return made.stdout.strip().splitlines()[-1]
    return None


def test_a_remix_written_through_the_api_appears_in_the_live_count(
    demo_url: str, token: str | None
) -> None:
    api(demo_url, ORIGINAL, token, i={"id": "e2e-live", "prompt": "A cat naps on a sofa"})
    api(
        demo_url,
        REMIX,
        token,
        p="e2e-live",
        i={"id": "e2e-live-1", "prompt": "A dog naps on a sofa"},
    )
    shown = drive(
        demo_url, "live", "e2e-live", "e2e-live-1", "e2e-live-2", "A dog naps on a bed", token=token
    )
    assert "mutationErrors" not in shown, shown
    assert shown["before"] == "1"
    assert shown["after"] == "2"
    assert shown["liveState"].startswith("live")
    assert shown["consoleErrors"] == []


def test_removed_and_derived_from_removed_videos_are_marked(
    demo_url: str, token: str | None
) -> None:
    api(demo_url, ORIGINAL, token, i={"id": "e2e-rights", "prompt": "A cat naps on a sofa"})
    api(
        demo_url,
        REMIX,
        token,
        p="e2e-rights",
        i={"id": "e2e-rights-a", "prompt": "A dog naps on a sofa"},
    )
    api(
        demo_url,
        REMIX,
        token,
        p="e2e-rights-a",
        i={"id": "e2e-rights-a1", "prompt": "A dog naps on a bed"},
    )
    api(
        demo_url,
        'mutation { takedown(id: "e2e-rights-a", reason: "copyright claim") { id } }',
        token,
    )
    try:
        shown = drive(demo_url, "status", "e2e-rights-a", "e2e-rights-a1", "e2e-rights")
    finally:
        api(demo_url, 'mutation { restore(id: "e2e-rights-a") { id } }', token)
    removed, derived, original = shown["e2e-rights-a"], shown["e2e-rights-a1"], shown["e2e-rights"]
    assert removed["status"] == "REMOVED"
    assert removed["mark"] == "Removed: copyright claim"
    assert removed["derivedNodes"] == ["e2e-rights-a1"]
    assert derived["status"] == "ACTIVE"
    assert derived["mark"] == "Derived from removed content"
    # Its path: the removed parent, then itself, derived from removed content.
    assert derived["pathBadges"] == ["removed", "derived from removed"]
    assert original["status"] == "ACTIVE"
    assert original["mark"] == "Active · 1 removed below"
    assert original["removedNodes"] == ["e2e-rights-a"]
    assert original["derivedNodes"] == ["e2e-rights-a1"]
    assert shown["consoleErrors"] == []


def test_the_over_time_panels_show_the_apis_figures(demo_url: str, token: str | None) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    api(
        demo_url,
        ORIGINAL,
        token,
        i={"id": "e2e-time", "prompt": "A cat naps on a sofa", "views": 100, "likes": 10},
    )
    for n, (animal, hours_ago) in enumerate([("dog", 1), ("dog", 1), ("fox", 30)], 1):
        created = (now - timedelta(hours=hours_ago)).isoformat().replace("+00:00", "Z")
        api(demo_url, REMIX, token, p="e2e-time", i={
            "id": f"e2e-time-{n}", "prompt": f"A {animal} naps on a sofa",
            "views": 7 * n, "likes": n, "createdAt": created,
        })  # fmt: skip
    # Remixes of the two dogs today: two variants with the same key, told apart.
    for child, parent in [("1a", 1), ("1b", 1), ("2a", 2)]:
        created = (now - timedelta(minutes=30)).isoformat().replace("+00:00", "Z")
        api(demo_url, REMIX, token, p=f"e2e-time-{parent}", i={
            "id": f"e2e-time-{child}", "prompt": "A dog naps on a bed", "createdAt": created,
        })  # fmt: skip
    expected = api(demo_url, """query($id: ID!) { video(id: $id) {
        subtreeViews subtreeLikes day: remixesIn(window: DAY) week: remixesIn(window: WEEK)
        trendingVariants(window: DAY) { remixesIn remix { child { id } promptDiff { variantKey } } } } }""", id="e2e-time")["video"]  # fmt: skip
    assert expected["subtreeViews"] == 100 + 7 + 14 + 21
    shown = drive(demo_url, "time", "e2e-time")
    assert shown["subtreeViews"] == number(expected["subtreeViews"])
    assert shown["subtreeLikes"] == number(expected["subtreeLikes"])
    assert shown["remixesToday"] == number(expected["day"])
    assert len(shown["hours"]) == 168
    assert sum(int(count.replace(",", "")) for _, count in shown["hours"]) == expected["week"] == 6
    assert shown["historyUnit"] == "hour"
    trending = [(t["remix"]["child"]["id"], t["remixesIn"]) for t in expected["trendingVariants"]]
    assert trending == [("e2e-time-1", 2), ("e2e-time-2", 1)]
    assert shown["trending"] == [
        "cat→dog (e2e-time-1): 2 new remixes",
        "cat→dog (e2e-time-2): 1 new remix",
    ]
    assert shown["consoleErrors"] == []
