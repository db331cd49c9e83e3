"""The package installs whole: a wheel built from the checkout, in a new virtual environment.

As a new user would: ``python -m build --wheel``, a fresh virtual environment
with nothing but that wheel (and its dependencies, from pip's cache), then
``lineage --version``, ``lineage demo`` and ``lineage serve`` run from a
folder outside the checkout, on SQLite and on Neo4j. The served ``/`` is the
explorer with every script and stylesheet it names, ``/graphql`` is GraphiQL
with its own, and the answers come from the installed package, never from
the checkout. A store whose schema files are missing refuses to start.

The wheel build reuses the web pages ``scripts/bootstrap`` built (the build
runs ``scripts/build-web``, which only checks when they are up to date).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import wipe_neo4j
from tests.neo4j_server import Neo4jServer

ROOT = Path(__file__).resolve().parents[1]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
# grandma's derivatives in the demo tree (README, lineage demo).
DEMO_DERIVATIVES = 41_640


@dataclass(frozen=True)
class Installed:
    """A virtual environment holding the wheel, and a folder outside the checkout to run in."""

    venv: Path
    workdir: Path

    @property
    def lineage(self) -> str:
        return str(self.venv / "bin" / "lineage")

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")

    def site_packages(self) -> Path:
        out = subprocess.run(
            [self.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        )
        return Path(out.stdout.strip())

    def run(self, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.lineage, *args],
            cwd=self.workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )


def _clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without anything that points Python or the store elsewhere."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "LINEAGE_", "NEO4J_", "VIRTUAL_ENV"))
    }
    env.update(extra)
    return env


def _neo4j_env(server: Neo4jServer) -> dict[str, str]:
    return _clean_env(
        LINEAGE_STORE="neo4j",
        NEO4J_URI=server.uri,
        NEO4J_USER=server.user,
        NEO4J_PASSWORD=server.password,
        NEO4J_DATABASE=server.database,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("package")
    dist = base / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=900,
    )
    (wheel,) = dist.glob("remix_lineage-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
        timeout=900,
    )
    workdir = base / "work"
    workdir.mkdir()
    return Installed(venv, workdir)


def test_the_wheel_carries_what_the_program_reads(installed: Installed) -> None:
    site = installed.site_packages()
    assert (site / "lineage" / "_schema" / "sqlite" / "schema.sql").is_file()
    migrations = sorted(p.name for p in (site / "lineage" / "_schema" / "neo4j").glob("*.cypher"))
    assert migrations, "no Neo4j migration in the wheel"
    numbers = [name[:3] for name in migrations]
    assert len(numbers) == len(set(numbers)), migrations
    assert (site / "api" / "static" / "index.html").is_file()
    assert (site / "api" / "static" / "graphiql.html").is_file()
    # Imported from the environment, not from the checkout.
    out = subprocess.run(
        [installed.python, "-c", "import lineage, api; print(lineage.__file__, api.__file__)"],
        cwd=installed.workdir,
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(ROOT) not in out.stdout
    assert all(path.startswith(str(site)) for path in out.stdout.split())


def test_version(installed: Installed) -> None:
    result = installed.run("--version", env=_clean_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"lineage {VERSION}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def serve(installed: Installed) -> Iterator[object]:
    """Start ``lineage serve`` from the installed package; yield a function that does it."""
    started: list[subprocess.Popen[str]] = []

    def start(env: dict[str, str]) -> str:
        port = _free_port()
        process = subprocess.Popen(
            [installed.lineage, "serve", "--port", str(port), "--workers", "1"],
            cwd=installed.workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"lineage serve exited: {process.stdout.read()}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    return url
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError("lineage serve did not become ready in 60 s")

    yield start
    for process in started:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _check_served(url: str) -> None:
    """The explorer at /, its assets, GraphiQL at /graphql and an answer from the store."""
    page = httpx.get(f"{url}/")
    assert page.status_code == 200, page.text
    assert "text/html" in page.headers["content-type"]
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+\.(?:js|css))"', page.text)
    assert any(asset.endswith(".js") for asset in assets), page.text
    ide = httpx.get(f"{url}/graphql", headers={"accept": "text/html"})
    assert ide.status_code == 200
    assert "graphiql" in ide.text.lower()
    ide_assets = re.findall(r'(?:src|href)="(/assets/[^"]+\.(?:js|css))"', ide.text)
    assert any(asset.endswith(".js") for asset in ide_assets), ide.text
    for asset in {*assets, *ide_assets}:
        response = httpx.get(f"{url}{asset}")
        assert response.status_code == 200, asset
        assert response.content, asset
    answer = httpx.post(
        f"{url}/graphql",
        json={"query": '{ video(id: "grandma") { derivativeCount treeDepth } }'},
    ).json()
    assert answer == {"data": {"video": {"derivativeCount": DEMO_DERIVATIVES, "treeDepth": 5}}}


def test_demo_and_serve_on_sqlite(installed: Installed, serve: object) -> None:
    env = _clean_env(LINEAGE_DB=str(installed.workdir / "demo.db"))
    result = installed.run("demo", env=env)
    assert result.returncode == 0, result.stderr
    assert "grandma" in result.stdout
    assert f"{DEMO_DERIVATIVES:,}" in result.stdout
    _check_served(serve(env))  # type: ignore[operator]


@pytest.mark.neo4j
def test_demo_and_serve_on_neo4j(installed: Installed, serve: object, neo4j: Neo4jServer) -> None:
    import neo4j as driver_module

    wipe_neo4j(neo4j)
    env = _neo4j_env(neo4j)
    result = installed.run("demo", env=env)
    assert result.returncode == 0, result.stderr
    assert f"{DEMO_DERIVATIVES:,}" in result.stdout
    with driver_module.GraphDatabase.driver(neo4j.uri, auth=(neo4j.user, neo4j.password)) as driver:
        records, _, _ = driver.execute_query(
            "SHOW CONSTRAINTS YIELD name", database_=neo4j.database
        )
    assert "video_id" in {record["name"] for record in records}
    _check_served(serve(env))  # type: ignore[operator]
    wipe_neo4j(neo4j)


@pytest.mark.neo4j
def test_a_store_without_its_schema_refuses_to_start(
    installed: Installed, tmp_path: Path, neo4j: Neo4jServer
) -> None:
    # A copy of the environment whose package lost its schema files.
    broken = Installed(tmp_path / "venv", installed.workdir)
    shutil.copytree(installed.venv, broken.venv, symlinks=True)
    for script in (broken.venv / "bin").iterdir():  # console scripts name their interpreter
        if script.is_file() and not script.is_symlink():
            text = script.read_bytes()
            script.write_bytes(
                text.replace(str(installed.venv).encode(), str(broken.venv).encode())
            )
    schema = broken.site_packages() / "lineage" / "_schema"
    assert str(broken.venv) in str(schema)
    (schema / "sqlite" / "schema.sql").unlink()
    result = broken.run("stats", "grandma", env=_clean_env(LINEAGE_DB=str(tmp_path / "x.db")))
    assert result.returncode == 2
    assert "SQLite schema (schema/sqlite/schema.sql) is missing" in result.stderr
    assert not (tmp_path / "x.db").exists()

    shutil.rmtree(schema / "neo4j")
    result = broken.run(
        "stats",
        "grandma",
        env=_neo4j_env(neo4j),
    )
    assert result.returncode == 2
    assert "Neo4j schema migrations (schema/neo4j/*.cypher) are missing" in result.stderr
