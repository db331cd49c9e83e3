"""The explorer's live count and status marks, in Chromium.

These need the contract's ``videoUpdated`` subscription (over
graphql-transport-ws) and its "Rights" fields (``status``,
``derivedFromRemoved``, ``removedDerivativeCount``, ``takedown``,
``restore``). Each test writes its own small lineage through the API, so the
demo the other tests read stays as it was.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import api, drive

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
