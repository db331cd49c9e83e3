"""A CSV export moves into a new Neo4j with neo4j-admin in one step (README's command).

Runs a scratch Neo4j from scripts/neo4j-local (its own instance directory and
ports, the same downloads), imports the CSV files offline with neo4j-admin,
starts it and checks that the store answers exactly as the source did.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
from pathlib import Path

import pytest

from lineage.export.dispatch import export_lineage
from lineage.stores.neo4j import Neo4jStore
from lineage.stores.sqlite import SQLiteStore
from lineage.tree.check import check_store
from lineage.tree.queries import lineage_stats
from tests.api.conftest import SMALL_TREE, load
from tests.forests import Shape, build_forest
from tests.lineage_snapshot import snapshot
from tests.neo4j_server import ROOT

pytestmark = pytest.mark.neo4j

SCRIPT = ROOT / "scripts" / "neo4j-local"


def free_ports(count: int) -> list[int]:
    """Distinct free ports: every probe stays bound until all are chosen."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def test_csv_export_imports_with_neo4j_admin(tmp_path: Path) -> None:
    source = SQLiteStore(tmp_path / "source.db")
    load(source, SMALL_TREE + build_forest([Shape("tree", 300), Shape("star", 200)], seed=3))
    export_lineage(source, None, "csv", tmp_path / "lineage.csv")
    bolt_port, http_port = free_ports(2)
    env = {
        **os.environ,
        "LINEAGE_NEO4J_INSTANCE": str(tmp_path / "scratch"),
        "LINEAGE_NEO4J_BOLT_PORT": str(bolt_port),
        "LINEAGE_NEO4J_HTTP_PORT": str(http_port),
        "LINEAGE_NEO4J_HEAP_MAX": "512m",
        "LINEAGE_NEO4J_HEAP_INITIAL": "512m",
    }

    def script(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SCRIPT), *args], env=env, capture_output=True, text=True, check=False
        )

    # `admin` creates the instance and its password; the server starts after the import.
    imported = subprocess.run(
        [
            str(SCRIPT),
            "admin",
            "database",
            "import",
            "full",
            "neo4j",
            "--overwrite-destination",
            "--ignore-empty-strings=true",
            "--array-delimiter=;",
            "--nodes=lineage.videos.csv",
            "--nodes=lineage.variant_groups.csv",
            "--nodes=lineage.remix_hours.csv",
            "--relationships=lineage.remixes.csv",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert imported.returncode == 0, imported.stdout[-2000:] + imported.stderr[-2000:]
    assert "IMPORT DONE" in imported.stdout
    started = script("start")
    try:
        assert started.returncode == 0, started.stderr
        values = dict(
            shlex.split(line)[1].split("=", 1) for line in started.stdout.splitlines() if line
        )
        target = Neo4jStore(values["NEO4J_URI"], values["NEO4J_USER"], values["NEO4J_PASSWORD"])
        try:
            assert snapshot(target) == snapshot(source)
            assert check_store(target) == []  # the closure too: the migration backfills it
            for video_id, original in (("c0-0", True), ("c0-1", False), ("c1-0", True)):
                pages = [
                    [(v.generation, v.id) for v in store.descendant_page(video_id, original, 100)]
                    for store in (target, source)
                ]
                assert pages[0] == pages[1]
                assert pages[0]
            for video_id in ("grandma", "nainai", "hippo"):
                assert json.dumps(lineage_stats(target, video_id, 10).as_json()) == json.dumps(
                    lineage_stats(source, video_id, 10).as_json()
                )
        finally:
            target.close()
    finally:
        script("stop")
        source.close()
