"""The explorer's routes: the page at /, its assets, and GraphiQL without a CDN."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.core.config import ApiSettings
from api.main import create_app
from api.routes.explorer import NOT_BUILT
from lineage.stores.sqlite import SQLiteStore
from tests.api.live import serve_in_thread

PAGE = "<!doctype html><title>explorer</title><script src='/assets/explorer-1.js'></script>"
GRAPHIQL = "<!doctype html><title>our graphiql</title><script src='/assets/graphiql-1.js'></script>"


def client_for(tmp_path: Path, dist: Path) -> Iterator[httpx.Client]:
    store = SQLiteStore(tmp_path / "lineage.db")
    app = create_app(ApiSettings(web_dist=dist), store=store)
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as client:
        yield client
    store.close()


@pytest.fixture
def built(tmp_path: Path) -> Iterator[httpx.Client]:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(PAGE)
    (dist / "graphiql.html").write_text(GRAPHIQL)
    (dist / "assets" / "explorer-1.js").write_text("console.log('explorer')")
    yield from client_for(tmp_path, dist)


@pytest.fixture
def unbuilt(tmp_path: Path) -> Iterator[httpx.Client]:
    yield from client_for(tmp_path, tmp_path / "missing")


def test_the_page_is_served_at_the_root_with_a_video_and_with_a_search(
    built: httpx.Client,
) -> None:
    for path in (
        "/",
        "/?video=grandma",
        "/?q=%E6%88%91%E5%A5%B6%E5%A5%B6",
        "/?q=hippo&within=grandma",
    ):
        reply = built.get(path)
        assert reply.status_code == 200
        assert reply.text == PAGE
        assert reply.headers["content-type"].startswith("text/html")
        assert reply.headers["cache-control"] == "no-cache"


def test_assets_are_served_and_unknown_ones_are_404(built: httpx.Client) -> None:
    reply = built.get("/assets/explorer-1.js")
    assert reply.status_code == 200
    assert "explorer" in reply.text
    assert reply.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert built.get("/assets/nothing.js").status_code == 404


def test_browsers_get_our_graphiql_not_the_cdn_page(built: httpx.Client) -> None:
    reply = built.get("/graphql", headers={"accept": "text/html"})
    assert reply.status_code == 200
    assert reply.text == GRAPHIQL
    assert "unpkg" not in reply.text


def test_graphql_still_answers_queries(built: httpx.Client) -> None:
    reply = built.post("/graphql", json={"query": "{ originals { totalCount } }"})
    assert reply.json() == {"data": {"originals": {"totalCount": 0}}}


def test_an_unbuilt_page_says_how_to_build_it(unbuilt: httpx.Client) -> None:
    reply = unbuilt.get("/")
    assert reply.status_code == 503
    assert reply.text == NOT_BUILT
    assert unbuilt.get("/assets/explorer-1.js").status_code == 404
    # GraphiQL falls back to Strawberry's page until the build exists.
    assert "graphiql" in unbuilt.get("/graphql", headers={"accept": "text/html"}).text.lower()
