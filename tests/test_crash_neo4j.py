"""Crash safety on Neo4j: SIGKILL the server itself in the middle of an import.

The server must be the one ``scripts/neo4j-local`` runs for the tests (its
pid is read from the script's status, matched by Bolt port). After the kill
and a restart, ``lineage check`` passes (each committed transaction left the
store exact, the interrupted one left nothing), and importing the same file
again ends with exactly the expected totals.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lineage.stores.neo4j import Neo4jStore
from lineage.tree.check import check_store
from tests.conftest import wipe_neo4j
from tests.forests import Shape, build_forest
from tests.neo4j_server import ROOT, Neo4jServer

pytestmark = pytest.mark.neo4j


def _local_pid(server: Neo4jServer) -> int:
    status = subprocess.run(
        [str(ROOT / "scripts" / "neo4j-local"), "status"], capture_output=True, text=True
    )
    found = re.search(r"pid (\d+), bolt://127\.0\.0\.1:(\d+)", status.stdout)
    port = server.uri.rsplit(":", 1)[-1]
    message = (
        "this test kills the Neo4j server: it needs the one scripts/neo4j-local runs "
        f"(LINEAGE_NEO4J_* for port {port}); status said: {status.stdout or status.stderr}"
    )
    assert found is not None, message
    assert found.group(2) == port, message
    return int(found.group(1))


def _env(server: Neo4jServer) -> dict[str, str]:
    return {
        **os.environ,
        "LINEAGE_STORE": "neo4j",
        "NEO4J_URI": server.uri,
        "NEO4J_USER": server.user,
        "NEO4J_PASSWORD": server.password,
        "NEO4J_DATABASE": server.database,
        # Several transactions: some commit before the kill.
        "LINEAGE_NEO4J_IMPORT_GROUP": "6000",
    }


def _count(server: Neo4jServer) -> int:
    try:
        store = Neo4jStore(server.uri, server.user, server.password, server.database)
    except Exception:
        return -1
    try:
        return store.count_videos()
    finally:
        store.close()


def _kill_server_mid_import(neo4j: Neo4jServer, tmp_path: Path, size: int) -> None:
    wipe_neo4j(neo4j)
    records = build_forest(
        [Shape("tree", size // 2), Shape("star", size // 4)] + [Shape("pairs", 50)] * (size // 200),
        seed=5,
    )
    source = tmp_path / "forest.jsonl"
    source.write_text("".join(json.dumps(r, default=str) + "\n" for r in records), "utf-8")
    pid = _local_pid(neo4j)
    importer = subprocess.Popen(
        [sys.executable, "-m", "lineage", "import", str(source)],
        env=_env(neo4j),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while _count(neo4j) <= 0 and importer.poll() is None:
        assert time.monotonic() < deadline, "the import wrote nothing in 120 s"
        time.sleep(0.5)
    assert importer.poll() is None, "the import finished before the kill: make it larger"
    os.kill(pid, signal.SIGKILL)
    try:
        importer.wait(timeout=60)
    except subprocess.TimeoutExpired:
        importer.kill()
        importer.wait()
    # Recovery replays the transaction log: give a loaded machine time for it.
    restarted = subprocess.run(
        [str(ROOT / "scripts" / "neo4j-local"), "start"],
        capture_output=True,
        text=True,
        env={**os.environ, "LINEAGE_NEO4J_START_TIMEOUT": "600"},
    )
    assert restarted.returncode == 0, restarted.stderr
    store = Neo4jStore(neo4j.uri, neo4j.user, neo4j.password, neo4j.database)
    try:
        partial = store.count_videos()
        assert partial < len(records)
        assert check_store(store) == []
    finally:
        store.close()
    again = subprocess.run(
        [sys.executable, "-m", "lineage", "import", str(source)],
        env=_env(neo4j),
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stderr
    store = Neo4jStore(neo4j.uri, neo4j.user, neo4j.password, neo4j.database)
    try:
        assert store.count_videos() == len(records)
        assert check_store(store) == []
    finally:
        store.close()


def test_sigkill_neo4j_mid_import_short(neo4j: Neo4jServer, tmp_path: Path) -> None:
    _kill_server_mid_import(neo4j, tmp_path, size=24_000)


@pytest.mark.slow
def test_sigkill_neo4j_mid_import_large(neo4j: Neo4jServer, tmp_path: Path) -> None:
    _kill_server_mid_import(neo4j, tmp_path, size=200_000)
