"""End-to-end fixtures: a real server with the demo, and headless Chromium.

The browser is Debian's ``chromium`` driven by ``playwright-core`` (pinned in
``web/package.json`` to the release whose Chromium matches Debian's), through
``web/e2e/run.mjs``; ``scripts/test`` installs both. Nothing here skips: a
missing browser or build fails the tests with what to install.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.core.config import DEFAULT_WEB_DIST, ApiSettings
from api.main import create_app
from lineage.demo.tree import demo_records
from lineage.importing.records import SourcedRecord
from lineage.stores.sqlite import SQLiteStore
from tests.api.live import serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def _require_browser_tools() -> None:
    problems = []
    if not (DEFAULT_WEB_DIST / "index.html").is_file():
        problems.append(
            "web/dist is not built (scripts/bootstrap, or cd web && npm ci && npm run build)"
        )
    if not (WEB / "node_modules" / "playwright-core").is_dir():
        problems.append("web/node_modules lacks playwright-core (cd web && npm ci)")
    if shutil.which("node") is None:
        problems.append("node is not on PATH")
    if not Path(CHROMIUM).exists():
        problems.append(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    if problems:
        pytest.fail("end-to-end tests need: " + "; ".join(problems), pytrace=False)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SQLite file the demo server serves."""
    return Path(tmp_path_factory.mktemp("e2e")) / "demo.db"


@pytest.fixture(scope="session")
def demo_url(demo_db: Path) -> Iterator[str]:
    """A uvicorn server on a loopback port serving the demo on SQLite."""
    _require_browser_tools()
    store = SQLiteStore(demo_db)
    report = store.import_videos(
        SourcedRecord(r, "demo", n) for n, r in enumerate(demo_records(), 1)
    )
    assert not report.rejected
    with serve_in_thread(create_app(ApiSettings(), store=store)) as url:
        yield url
    store.close()


def drive(url: str, scenario: str, *args: str, token: str | None = None) -> dict[str, Any]:
    """Run one scenario of ``web/e2e/run.mjs`` in Chromium; what the page showed."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["node", "e2e/run.mjs", scenario, url, *args],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "E2E_ARTIFACTS": str(ARTIFACTS),
            "CHROMIUM": CHROMIUM,
            **({"LINEAGE_TOKEN": token} if token else {}),
        },
        check=False,
    )
    try:
        result: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"{scenario}: no result (exit {done.returncode})\n{done.stdout}\n{done.stderr}")
    if done.returncode != 0 or "error" in result:
        pytest.fail(f"{scenario} failed in the browser:\n{result.get('error')}\n{done.stderr}")
    return result


def api(url: str, query: str, token: str | None = None, **variables: Any) -> Any:
    """Ask the server directly (what the page must agree with)."""
    headers = {"cache-control": "no-cache"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    reply = httpx.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=30,
    ).json()
    assert not reply.get("errors"), reply["errors"]
    return reply["data"]


def number(value: int) -> str:
    """A count as the page writes it (en-US grouping)."""
    return f"{value:,}"


def only_live_socket_errors(errors: list[str]) -> list[str]:
    """Console errors other than the live socket's (a server without videoUpdated)."""
    return [e for e in errors if "WebSocket" not in e]
