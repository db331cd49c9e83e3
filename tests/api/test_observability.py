"""GET /metrics, request ids and logs that keep secrets out."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from api.logging import JsonFormatter, request_id
from lineage.store import LineageStore
from tests.api.conftest import PROMPT
from tests.api.live import wait_ready

pytestmark = pytest.mark.anyio


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        metric, _, rest = series.partition("{")
        found = ",".join(sorted(rest.rstrip("}").split(","))) if rest else ""
        if metric == name and found == wanted:
            return float(value)
    return 0.0


async def test_metrics_count_operations_refusals_cache_and_imports(
    http: httpx.AsyncClient, small_tree: LineageStore
) -> None:
    before = (await http.get("/metrics")).text
    query = 'query Tree { video(id: "grandma") { id } }'
    # What the client saw of the cache, ask by ask: a hit by the third ask on
    # every store (Neo4j learns the trees a query reads on its first run).
    seen = []
    for _ in range(3):
        reply = await http.post("/graphql", json={"query": query})
        seen.append(reply.headers["x-lineage-cache"])
    assert seen[-1] == "hit", seen
    remix = (
        'mutation Remix { remixVideo(parentId: "grandma", input: {id: "m1", prompt: "%s"}) '
        "{ child { id } } }" % PROMPT.replace("crocodile", "moose")
    )
    await http.post("/graphql", json={"query": remix})
    await http.post("/graphql", json={"query": '{ video(id: "x") { nope } }'})
    await http.get("/export", headers={"authorization": ""})
    reply = await http.get("/metrics")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    after = reply.text

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    # The schema ran the query once per miss; the cache counted every hit.
    ran = grew("lineage_graphql_requests_total", operation="Tree", type="query")
    assert ran == seen.count("miss")
    assert grew("lineage_response_cache_total", result="hit") == seen.count("hit")
    assert grew("lineage_graphql_requests_total", operation="Remix", type="mutation") == 1
    assert grew("lineage_graphql_request_seconds_count", operation="Remix", type="mutation") == 1
    assert grew("lineage_imported_videos_total", outcome="added") == 1
    assert grew("lineage_refusals_total", code="GRAPHQL_VALIDATION_FAILED") == 1
    assert grew("lineage_refusals_total", code="UNAUTHENTICATED") == 1


async def test_request_ids_are_returned_and_logged_without_secrets(
    http: httpx.AsyncClient, small_tree: LineageStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    secret_prompt = PROMPT.replace("crocodile", "secret-walrus")
    with caplog.at_level(logging.INFO):
        reply = await http.post(
            "/graphql",
            json={
                "query": 'mutation($p: String!) { remixVideo(parentId: "grandma", '
                'input: {id: "w1", prompt: $p}) { child { id } } }',
                "variables": {"p": secret_prompt},
            },
            headers={"x-request-id": "req-123"},
        )
        fresh = await http.get(
            "/graphql", params={"query": '{ video(id: "secret-id-in-url") { id } }'}
        )
    assert reply.headers["x-request-id"] == "req-123"
    assert len(fresh.headers["x-request-id"]) == 32  # a new one when none was sent
    evil = await http.get("/healthz", headers={"x-request-id": "a" * 500})
    assert evil.headers["x-request-id"] != "a" * 500
    access = [r for r in caplog.records if r.name == "lineage.access"]
    assert any(getattr(r, "request_id", None) == "req-123" for r in access) or any(
        "req-123" in JsonFormatter().format(r) for r in access
    )
    # The service's own lines (the test's HTTP client logs its URLs itself).
    formatted = "\n".join(
        JsonFormatter().format(r) for r in caplog.records if not r.name.startswith("httpx")
    )
    token = http.headers["authorization"].removeprefix("Bearer ")
    for secret in (token, "secret-walrus", "secret-id-in-url"):
        assert secret not in formatted


def test_json_lines_carry_the_request_id() -> None:
    record = logging.makeLogRecord({"msg": "hello %s", "args": ("x",), "levelname": "INFO"})
    marker = request_id.set("abc")
    try:
        record.request_id = request_id.get()
    finally:
        request_id.reset(marker)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello x"
    assert line["request_id"] == "abc"
    assert line["level"] == "info"


def test_serve_with_two_workers_adds_up_metrics_and_logs_json(tmp_path: Path) -> None:
    """A real `lineage serve --workers 2`: /metrics sums both, logs are JSON with ids."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "LINEAGE_STORE": "sqlite",
        "LINEAGE_DB": str(tmp_path / "serve.db"),
        "LINEAGE_LOG_FORMAT": "json",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "lineage.cli.main", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, timeout=60)
        total = 40
        for number in range(total):
            # New connections: the kernel spreads them over both workers.
            httpx.post(
                f"{base}/graphql",
                json={"query": "query Probe { __typename }"},
                headers={"x-request-id": f"probe-{number}", "cache-control": "no-cache"},
            )
        text = httpx.get(f"{base}/metrics").text
        assert (
            sample(text, "lineage_graphql_requests_total", operation="Probe", type="query") == total
        )
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    lines = [json.loads(line) for line in errors.splitlines() if line.startswith("{")]
    ids = {line.get("request_id") for line in lines if line.get("logger") == "lineage.access"}
    assert {f"probe-{n}" for n in range(total)} <= ids
    assert len({line.get("process") for line in lines}) >= 1
