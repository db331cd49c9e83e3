"""Where the Neo4j tests find a server, in this order.

1. ``NEO4J_URI`` (with ``NEO4J_USER``, ``NEO4J_PASSWORD``, ``NEO4J_DATABASE``)
   if set: a server someone else runs.
2. testcontainers' Neo4j module, if a Docker engine answers.
3. ``scripts/neo4j-local start``: Neo4j Community fetched from Maven Central
   and run on the local JDK; stopped at the end if the tests started it.

Nothing here skips: when no server can be had, the Neo4j tests fail and say why.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NEO4J_IMAGE = "neo4j:5.26-community"


@dataclass(frozen=True)
class Neo4jServer:
    uri: str
    user: str
    password: str
    database: str
    how: str


def _from_environment() -> Neo4jServer | None:
    uri = os.environ.get("NEO4J_URI")
    if not uri:
        return None
    return Neo4jServer(
        uri,
        os.environ.get("NEO4J_USER", "neo4j"),
        os.environ.get("NEO4J_PASSWORD", ""),
        os.environ.get("NEO4J_DATABASE", "neo4j"),
        "NEO4J_URI",
    )


def _docker_answers() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


@contextlib.contextmanager
def _testcontainer() -> Iterator[Neo4jServer]:
    from testcontainers.neo4j import Neo4jContainer  # type: ignore[import-untyped]

    with Neo4jContainer(NEO4J_IMAGE) as container:
        yield Neo4jServer(
            container.get_connection_url(),
            "neo4j",
            container.password,
            "neo4j",
            "testcontainers",
        )


def _script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "scripts" / "neo4j-local"), *args], capture_output=True, text=True, check=False
    )


@contextlib.contextmanager
def _local_server() -> Iterator[Neo4jServer]:
    was_running = _script("status").returncode == 0
    started = _script("start")
    if started.returncode != 0:
        raise RuntimeError(
            "no Neo4j for the tests: NEO4J_URI is not set, no Docker engine answers, and "
            f"scripts/neo4j-local start failed:\n{started.stderr}"
        )
    values: dict[str, str] = {}
    for line in started.stdout.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, _, value = words[1].partition("=")
            values[name] = value
    try:
        yield Neo4jServer(
            values["NEO4J_URI"],
            values.get("NEO4J_USER", "neo4j"),
            values["NEO4J_PASSWORD"],
            values.get("NEO4J_DATABASE", "neo4j"),
            "scripts/neo4j-local",
        )
    finally:
        if not was_running:
            _script("stop")


@contextlib.contextmanager
def neo4j_server() -> Iterator[Neo4jServer]:
    """A reachable Neo4j server for the session, by the first way that works."""
    configured = _from_environment()
    if configured is not None:
        yield configured
    elif _docker_answers():
        with _testcontainer() as server:
            yield server
    else:
        with _local_server() as server:
            yield server
