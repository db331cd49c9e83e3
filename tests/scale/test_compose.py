"""docker-compose.yml describes the topology of scripts/cluster-local (Docker
cannot run here: the file is checked as YAML, its front config by haproxy -c)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from tests.scale.conftest import ROOT

pytestmark = pytest.mark.scale


def _default_server(text: str) -> str:
    found = re.search(
        r"default-server (inter \S+ fastinter \S+ downinter \S+ fall \d+ rise \d+)", text
    )
    assert found, "no default-server line"
    return found.group(1)


def test_compose_has_the_cluster_local_topology() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"neo4j", "redis", "api", "front"}
    api = services["api"]
    assert api["deploy"]["replicas"] >= 2
    assert api["command"][-2:] == ["--workers", "1"]
    assert api["environment"]["LINEAGE_REDIS_URL"].startswith("redis://redis:")
    assert "neo4j://" in api["environment"]["NEO4J_URI"]
    assert {"neo4j", "redis"} <= set(api["depends_on"])
    for name in ("neo4j", "redis", "api"):
        assert "healthcheck" in services[name], name
    assert "neo4j-data:/data" in services["neo4j"]["volumes"]
    front = (ROOT / "deploy" / "haproxy.cfg").read_text()
    script = (ROOT / "scripts" / "cluster-local").read_text()
    assert "option httpchk GET /readyz" in front
    assert "option httpchk GET /readyz" in script
    assert _default_server(front) == _default_server(script)
    # The same failover policy in front of both: what is retried, and where.
    for line in (
        "http-reuse never",
        "option http-buffer-request",
        "retries 3",
        "option redispatch 1",
        "retry-on conn-failure empty-response",
    ):
        assert re.search(rf"^\s+{re.escape(line)}$", front, re.M), line
        assert re.search(rf"^\s+{re.escape(line)}$", script, re.M), line
    assert _replay_rule(front) == _replay_rule(script)


def _replay_rule(text: str) -> str:
    """The rule saying which requests HAProxy may replay on another process."""
    found = re.findall(r"^\s+(http-request disable-l7-retry .*)$", text, re.M)
    assert len(found) == 1, found
    return found[0]


def test_the_front_config_is_valid() -> None:
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    checked = subprocess.run(
        [haproxy, "-c", "-f", str(ROOT / "deploy" / "haproxy.cfg")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
