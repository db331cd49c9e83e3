"""Crash safety: SIGKILL in the middle of writes, then restart.

After the kill, ``lineage check`` passes (no half-applied aggregate), every
write a client saw acknowledged is there, and importing the same file
again ends with exactly the expected totals. The CI versions are short;
the ``slow`` ones use larger inputs and longer runs.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from lineage.access.tokens import Role, token_store_for
from lineage.cli.main import main as lineage_main
from lineage.stores.sqlite import SQLiteStore
from lineage.tree.check import check_store
from tests.api.live import wait_ready
from tests.forests import Shape, build_forest

ROOT = Path(__file__).resolve().parents[1]


def _env(database: Path) -> dict[str, str]:
    return {**os.environ, "LINEAGE_STORE": "sqlite", "LINEAGE_DB": str(database)}


def _write_forest(path: Path, size: int) -> int:
    records = build_forest(
        [Shape("tree", size // 2), Shape("chain", 200), Shape("star", size // 4)]
        + [Shape("pairs", 50)] * (size // 400),
        seed=11,
    )
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, default=str) + "\n")
    return len(records)


def _kill_import_then_reimport(tmp_path: Path, size: int, kill_after: float) -> None:
    source = tmp_path / "forest.jsonl"
    total = _write_forest(source, size)
    database = tmp_path / "crash.db"
    SQLiteStore(database).close()
    importer = subprocess.Popen(
        [sys.executable, "-m", "lineage.cli.main", "import", str(source)],
        env=_env(database),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(kill_after)
    assert importer.poll() is None, "the import finished before the kill: make it larger"
    importer.send_signal(signal.SIGKILL)
    importer.wait(timeout=30)
    store = SQLiteStore(database)
    try:
        assert check_store(store) == []
        # One transaction: all or nothing.
        assert store.count_videos() in (0, total)
    finally:
        store.close()
    assert lineage_main(["import", str(source), "--db", str(database)]) == 0
    store = SQLiteStore(database)
    try:
        assert store.count_videos() == total
        assert check_store(store) == []
    finally:
        store.close()
    # And once more: nothing changes.
    assert lineage_main(["import", str(source), "--db", str(database)]) == 0
    store = SQLiteStore(database)
    assert store.count_videos() == total
    store.close()


def test_sigkill_during_import_short(tmp_path: Path) -> None:
    # Large enough that a quiet machine is still importing when the kill comes.
    _kill_import_then_reimport(tmp_path, size=60_000, kill_after=1.5)


@pytest.mark.slow
def test_sigkill_during_import_large(tmp_path: Path) -> None:
    _kill_import_then_reimport(tmp_path, size=200_000, kill_after=8.0)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(database: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "lineage.cli.main", "serve", "--port", str(port), "--workers", "2"],
        env={**_env(database), "LINEAGE_API_WRITE_RATE": "100000/minute"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the workers die with it
    )


def _kill_server_under_writes(tmp_path: Path, clients: int, seconds: float) -> None:
    database = tmp_path / "serve.db"
    store = SQLiteStore(database)
    token = token_store_for(store).create("crash-writer", Role.WRITER)
    store.close()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _serve(database, port)
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    try:
        wait_ready(base, timeout=90)
        with httpx.Client(base_url=base, headers={"authorization": f"Bearer {token}"}) as http:
            reply = http.post(
                "/graphql",
                json={
                    "query": 'mutation { createOriginal(input: {id: "viral", '
                    'prompt: "A grandmother chases a crocodile out of the yard"}) { id } }'
                },
            )
            assert reply.json()["data"]["createOriginal"]["id"] == "viral"

        def remix(client: int) -> None:
            parent = "viral"
            number = 0
            with httpx.Client(
                base_url=base, headers={"authorization": f"Bearer {token}"}, timeout=10
            ) as http:
                while not stop.is_set():
                    video_id = f"c{client}-{number}"
                    try:
                        reply = http.post(
                            "/graphql",
                            json={
                                "query": "mutation($p: ID!, $id: ID!, $t: String!) { remixVideo("
                                "parentId: $p, input: {id: $id, prompt: $t}) { child { id } } }",
                                "variables": {
                                    "p": parent,
                                    "id": video_id,
                                    "t": f"A grandmother chases a robot {client} {number}",
                                },
                            },
                        )
                    except httpx.HTTPError:
                        return  # the server is gone
                    body = reply.json()
                    if reply.status_code == 200 and not body.get("errors"):
                        with lock:
                            acknowledged.append(video_id)
                        # Half go deeper: chains of ancestors to update.
                        parent = video_id if number % 2 == 0 else "viral"
                    number += 1

        threads = [threading.Thread(target=remix, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        os.killpg(server.pid, signal.SIGKILL)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        stop.set()
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
    assert len(acknowledged) > 10, "too few writes before the kill"
    store = SQLiteStore(database)
    try:
        assert check_store(store) == []
        stored = store.get_videos(acknowledged)
        assert sorted(stored) == sorted(acknowledged), "an acknowledged write was lost"
        viral = store.get_video("viral")
        assert viral is not None
        assert viral.derivative_count == store.count_videos() - 1
        assert viral.derivative_count >= len(acknowledged)
    finally:
        store.close()
    # The service comes back on the same file.
    server = _serve(database, port)
    try:
        wait_ready(base, timeout=90)
        reply = httpx.post(
            f"{base}/graphql", json={"query": '{ video(id: "viral") { derivativeCount } }'}
        )
        assert reply.json()["data"]["video"]["derivativeCount"] >= len(acknowledged)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_sigkill_serve_under_writes_short(tmp_path: Path) -> None:
    _kill_server_under_writes(tmp_path, clients=4, seconds=3.0)


@pytest.mark.slow
def test_sigkill_serve_under_writes_long(tmp_path: Path) -> None:
    _kill_server_under_writes(tmp_path, clients=16, seconds=20.0)
