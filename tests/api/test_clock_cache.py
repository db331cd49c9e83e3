"""Answers that read the clock are cached for their hour only, on both stores.

``remixesIn``, ``trendingVariants`` and ``trendingOriginals`` without
``asOf`` end their window now: such an answer changes when the hour does,
with no write. The clock is moved through :mod:`lineage.over_time.clock`.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.core.config import ApiSettings
from lineage.over_time import clock
from lineage.store import LineageStore
from tests.api.conftest import PROMPT, load

pytestmark = pytest.mark.anyio

# sun <- sun-1 <- sun-1-1, both remixes made in the 08:00 hour.
TIMED_TREE = [
    {"id": "sun", "prompt": PROMPT, "created_at": "2025-10-02T08:00:00Z"},
    {
        "id": "sun-1",
        "parent_id": "sun",
        "prompt": PROMPT.replace("crocodile", "hippo"),
        "created_at": "2025-10-02T08:30:00Z",
    },
    {
        "id": "sun-1-1",
        "parent_id": "sun-1",
        "prompt": PROMPT.replace("crocodile", "baby hippo"),
        "created_at": "2025-10-02T08:40:00Z",
    },
]
IN_THE_HOUR = datetime(2025, 10, 2, 8, 45, tzinfo=UTC)

# Each field that defaults asOf to now, with its answer in the 08:00 hour and later.
FIELDS = {
    "remixesIn": (
        '{ video(id: "sun") { remixesIn(window: HOUR) } }',
        {"video": {"remixesIn": 2}},
        {"video": {"remixesIn": 0}},
    ),
    "trendingVariants": (
        '{ video(id: "sun") { trendingVariants(window: HOUR) { remixesIn remix { child { id } } } } }',
        {"video": {"trendingVariants": [{"remixesIn": 1, "remix": {"child": {"id": "sun-1"}}}]}},
        {"video": {"trendingVariants": []}},
    ),
    "trendingOriginals": (
        "{ trendingOriginals(window: HOUR) { remixesIn video { id } } }",
        {"trendingOriginals": [{"remixesIn": 2, "video": {"id": "sun"}}]},
        {"trendingOriginals": []},
    ),
}


@pytest.fixture
def timed_tree(store: LineageStore) -> LineageStore:
    load(store, TIMED_TREE)
    return store


@pytest.fixture
def move_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Set the service's clock to a moment (it starts at 08:45 UTC)."""
    moment = [IN_THE_HOUR]
    monkeypatch.setattr(clock, "now", lambda: moment[0])

    def move(to: datetime) -> None:
        moment[0] = to

    return move


async def ask(http: httpx.AsyncClient, query: str, **headers: str) -> httpx.Response:
    return await http.post("/graphql", json={"query": query}, headers=headers)


async def warm(http: httpx.AsyncClient, query: str) -> httpx.Response:
    """Ask until the answer is cached (a remote store learns a query's trees first)."""
    for _ in range(3):
        reply = await ask(http, query)
        if reply.headers["x-lineage-cache"] == "hit":
            return reply
    raise AssertionError("never cached")


def data(reply: httpx.Response) -> Any:
    body = reply.json()
    assert "errors" not in body, body
    return body["data"]


@pytest.mark.usefixtures("timed_tree")
@pytest.mark.parametrize("field", list(FIELDS))
async def test_an_answer_that_read_now_is_cached_for_its_hour_only(
    http: httpx.AsyncClient, move_clock: Callable[[datetime], None], field: str
) -> None:
    query, in_the_hour, later = FIELDS[field]
    assert data(await warm(http, query)) == in_the_hour
    move_clock(IN_THE_HOUR + timedelta(minutes=14))  # 08:59: the same hour, still exact
    same_hour = await ask(http, query)
    assert (same_hour.headers["x-lineage-cache"], data(same_hour)) == ("hit", in_the_hour)

    move_clock(IN_THE_HOUR + timedelta(hours=3))  # no write, but the window moved
    uncached = data(await ask(http, query, **{"cache-control": "no-cache"}))
    assert uncached == later
    cached = await ask(http, query)
    assert data(cached) == uncached, f"{field}: the cache answered the 08:00 hour at 11:45"
    assert cached.headers["x-lineage-cache"] == "miss"


@pytest.mark.usefixtures("timed_tree")
async def test_an_explicit_as_of_stays_cached_across_hours(
    http: httpx.AsyncClient, move_clock: Callable[[datetime], None]
) -> None:
    query = '{ video(id: "sun") { remixesIn(window: HOUR, asOf: "2025-10-02T08:45:00Z") } }'
    assert data(await warm(http, query)) == {"video": {"remixesIn": 2}}
    move_clock(IN_THE_HOUR + timedelta(days=1))
    kept = await ask(http, query)
    assert (kept.headers["x-lineage-cache"], data(kept)) == ("hit", {"video": {"remixesIn": 2}})


async def get_tagged(http: httpx.AsyncClient, url: str) -> httpx.Response:
    """GET until the answer carries an ETag (a remote store learns a query's trees first)."""
    for _ in range(3):
        reply = await http.get(url)
        if "etag" in reply.headers:
            return reply
    raise AssertionError("never tagged")


@pytest.mark.usefixtures("timed_tree")
async def test_etags_of_answers_that_read_now_change_with_the_hour(
    http: httpx.AsyncClient, move_clock: Callable[[datetime], None]
) -> None:
    url = "/graphql?" + urllib.parse.urlencode({"query": FIELDS["remixesIn"][0]})
    tagged = await get_tagged(http, url)
    etag = tagged.headers["etag"]
    move_clock(IN_THE_HOUR + timedelta(minutes=10))
    assert (await http.get(url, headers={"if-none-match": etag})).status_code == 304

    move_clock(IN_THE_HOUR + timedelta(hours=3))
    later = await http.get(url, headers={"if-none-match": etag})
    assert later.status_code == 200, "a tag of the 08:00 hour revalidated at 11:45"
    assert data(later) == {"video": {"remixesIn": 0}}
    assert later.headers["etag"] != etag


class TestMaxAge:
    @pytest.fixture
    def api_settings(self) -> ApiSettings:
        return ApiSettings(http_max_age=3600)

    @pytest.mark.usefixtures("timed_tree")
    async def test_max_age_of_an_answer_that_read_now_ends_with_its_hour(
        self, http: httpx.AsyncClient, move_clock: Callable[[datetime], None]
    ) -> None:
        url = "/graphql?" + urllib.parse.urlencode({"query": FIELDS["trendingOriginals"][0]})
        tagged = await get_tagged(http, url)
        # 08:45: a shared cache may keep it 15 minutes, not the configured hour.
        assert "max-age=900," in tagged.headers["cache-control"]
        untimed = "/graphql?" + urllib.parse.urlencode({"query": '{ video(id: "sun") { id } }'})
        assert "max-age=3600," in (await get_tagged(http, untimed)).headers["cache-control"]
