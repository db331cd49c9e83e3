"""Which requests the front replays on another process after an empty response.

A real HAProxy with the backend policy of ``deploy/haproxy.cfg`` (its retry
lines and its replay rule, read from the file) in front of two servers that
read a request and close the connection without answering, as a process
killed with the request in hand does. Each server counts what reached it: a
replayed request arrives more than once, one that is not arrives once.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.scale.conftest import ROOT

pytestmark = pytest.mark.scale

_POLICY = (
    "http-reuse never",
    "option http-buffer-request",
    "retries 3",
    "option redispatch 1",
    "retry-on conn-failure empty-response",
)


class Dropper:
    """A TCP server that reads one HTTP request per connection, notes its
    X-Request-Id, and closes without a response."""

    def __init__(self, seen: Counter[str]) -> None:
        self.seen = seen
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                except OSError:
                    continue
                found = re.search(rb"(?im)^x-request-id:\s*(\S+)", data)
                if found:
                    self.seen[found.group(1).decode()] += 1

    def close(self) -> None:
        self.sock.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def front(tmp_path: Path) -> Iterator[tuple[str, Counter[str]]]:
    deployed = (ROOT / "deploy" / "haproxy.cfg").read_text()
    rule = re.search(r"^\s+(http-request disable-l7-retry .*)$", deployed, re.M)
    assert rule, "no replay rule in deploy/haproxy.cfg"
    for line in _POLICY:
        assert re.search(rf"^\s+{re.escape(line)}$", deployed, re.M), line
    seen: Counter[str] = Counter()
    droppers = [Dropper(seen), Dropper(seen)]
    port = _free_port()
    config = tmp_path / "haproxy.cfg"
    policy = "\n".join(f"    {line}" for line in (*_POLICY, rule.group(1)))
    servers = "\n".join(
        f"    server s{i} 127.0.0.1:{dropper.port}" for i, dropper in enumerate(droppers)
    )
    config.write_text(
        f"""global
    maxconn 100
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
frontend front
    bind 127.0.0.1:{port}
    default_backend api
backend api
    balance roundrobin
{policy}
{servers}
"""
    )
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    process = subprocess.Popen([haproxy, "-f", str(config)], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "haproxy did not listen"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", seen
    finally:
        process.terminate()
        process.wait(timeout=10)
        for dropper in droppers:
            dropper.close()


def _send(url: str, request_id: str, method: str, body: str | None, **headers: str) -> int:
    with httpx.Client(timeout=30) as client:
        answer = client.request(
            method,
            f"{url}/graphql",
            content=body,
            headers={"X-Request-Id": request_id, "Content-Type": "application/json", **headers},
        )
    return answer.status_code


MUTATION = '{"query": "mutation { recordEngagement(events: [{videoId: \\"a\\", likes: 1}]) }"}'
QUERY = '{"query": "{ video(id: \\"a\\") { id } }"}'


def test_only_requests_harmless_to_repeat_are_replayed(front: tuple[str, Counter[str]]) -> None:
    url, seen = front
    cases = {
        "get": ("GET", None, {}),
        "query": ("POST", QUERY, {}),
        "mutation": ("POST", MUTATION, {}),
        "marked-mutation": ("POST", MUTATION, {"Lineage-Replay-Safe": "1"}),
    }
    for name, (method, body, headers) in cases.items():
        # Every attempt ends without an answer: HAProxy gives up with a 502.
        assert _send(url, name, method, body, **headers) == 502, name
    deadline = time.monotonic() + 5
    while len(seen) < len(cases) and time.monotonic() < deadline:
        time.sleep(0.05)
    # 1 attempt + `retries 3` for what is replayed; one attempt for the rest.
    assert dict(seen) == {"get": 4, "query": 4, "mutation": 1, "marked-mutation": 4}
