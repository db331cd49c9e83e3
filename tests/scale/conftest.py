"""The scale-out topology for tests: one cluster (scripts/cluster-local) per
session, shared by every test that needs it, and private redis-servers that
a test may stop and start (outages).

Everything on loopback, on ports of its own (LINEAGE_SCALE_*_PORT to move
them), with a Neo4j instance of its own: the developer's is never touched.
These tests never skip: CI has redis-server and haproxy (scripts/test
installs them) and Neo4j (scripts/neo4j-local).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "remix-lineage"


def _port(name: str, default: int) -> int:
    return int(os.environ.get(f"LINEAGE_SCALE_{name}_PORT", default))


@dataclass
class Cluster:
    """A running scripts/cluster-local: its export lines and its state directory."""

    env: dict[str, str]
    state: Path

    @property
    def front(self) -> str:
        return self.env["LINEAGE_URL"]

    @property
    def apis(self) -> list[str]:
        return self.env["LINEAGE_API_URLS"].split(",")

    def process_env(self) -> dict[str, str]:
        """The environment of a `lineage` command on this cluster's store."""
        return {**os.environ, **self.env, "LINEAGE_STORE": "neo4j"}

    def script(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(ROOT / "scripts" / "cluster-local"), *args],
            env=self.script_env,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )

    script_env: dict[str, str]

    def pid(self, index: int) -> int:
        return int((self.state / f"api-{index}.pid").read_text())

    def haproxy(self, command: str, timeout: float = 2) -> str:
        """What HAProxy's stats socket answers to one command."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(self.state / "haproxy.sock"))
            sock.sendall(command.encode() + b"\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        return data.decode(errors="replace")

    def haproxy_states(self) -> dict[str, str]:
        """HAProxy's view of each server: name -> UP / DOWN / ... (its stats socket)."""
        states = {}
        for line in self.haproxy("show stat").splitlines():
            fields = line.split(",")
            if len(fields) > 17 and fields[0] == "api" and fields[1].startswith("api"):
                states[fields[1]] = fields[17]
        return states


def parse_exports(text: str) -> dict[str, str]:
    env = {}
    for line in text.splitlines():
        assert line.startswith("export "), f"not an export line on stdout: {line!r}"
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = value
    return env


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """scripts/cluster-local start --api 3, once per session; stopped at its end."""
    state = tmp_path_factory.mktemp("cluster")
    script_env = {
        **os.environ,
        "LINEAGE_CLUSTER_DIR": str(state),
        "LINEAGE_CLUSTER_FRONT_PORT": str(_port("FRONT", 18480)),
        "LINEAGE_CLUSTER_API_PORT": str(_port("API", 18481)),
        "LINEAGE_CLUSTER_REDIS_PORT": str(_port("REDIS", 16479)),
        "LINEAGE_NEO4J_INSTANCE": os.environ.get(
            "LINEAGE_SCALE_NEO4J_INSTANCE", str(CACHE / "inst-scale-tests")
        ),
        "LINEAGE_NEO4J_BOLT_PORT": str(_port("BOLT", 17787)),
        "LINEAGE_NEO4J_HTTP_PORT": str(_port("HTTP", 17574)),
        "LINEAGE_NEO4J_HEAP_INITIAL": os.environ.get("LINEAGE_SCALE_NEO4J_HEAP", "512m"),
        "LINEAGE_NEO4J_HEAP_MAX": os.environ.get("LINEAGE_SCALE_NEO4J_HEAP", "1g"),
        # The processes' own knobs: the failover load must not be rate limited.
        "LINEAGE_API_WRITE_RATE": "100000/minute",
        "LINEAGE_ACCESS_LOG": "false",
    }
    for name in ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "LINEAGE_REDIS_URL"):
        script_env.pop(name, None)
    started = subprocess.run(
        [str(ROOT / "scripts" / "cluster-local"), "start", "--api", "3"],
        env=script_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    cluster = Cluster(parse_exports(started.stdout), state, script_env)
    try:
        assert started.returncode == 0, started.stderr
        yield cluster
    finally:
        subprocess.run(
            [str(ROOT / "scripts" / "cluster-local"), "stop"],
            env=script_env,
            capture_output=True,
            timeout=300,
            check=False,
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A private redis-server on loopback that a test can stop and start again."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def writer_token(cluster: Cluster) -> str:
    """A writer token on the cluster's store (`lineage token create`)."""
    lineage = ROOT / ".venv" / "bin" / "lineage"
    made = subprocess.run(
        [
            str(lineage if lineage.exists() else "lineage"),
            "token",
            "create",
            f"scale-{os.getpid()}-{time.time_ns()}",
            "--role",
            "writer",
        ],
        env=cluster.process_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return made.stdout.strip().splitlines()[-1]
