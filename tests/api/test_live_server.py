"""Against a real uvicorn server on a loopback port, with a real GraphQL client (gql)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport

from api.core.config import ApiSettings
from api.main import create_app
from lineage.access.tokens import Role, token_store_for
from lineage.demo.tree import DEMO_ORIGINAL_ID, demo_records
from lineage.importing.records import SourcedRecord
from lineage.stores.sqlite import SQLiteStore
from tests.api.live import serve_in_thread

PAGE_QUERY = """query Page($after: String) {
      video(id: "grandma") {
        directRemixCount
        remixes(first: 100, after: $after) {
          totalCount
          pageInfo { hasNextPage endCursor }
          edges { cursor node { child { id } } }
        }
      }
    }"""


def page_request(after: str | None) -> GraphQLRequest:
    return GraphQLRequest(PAGE_QUERY, variable_values={"after": after})


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The demo served on a loopback port, and a writer token for it."""
    store = SQLiteStore(Path(tmp_path_factory.mktemp("live")) / "demo.db")
    report = store.import_videos(
        SourcedRecord(r, "demo", n) for n, r in enumerate(demo_records(), 1)
    )
    assert not report.rejected
    token = token_store_for(store).create("live-writer", Role.WRITER)
    # The writer below remixes as fast as it can: far beyond the default rate.
    settings = ApiSettings(write_rate="1000000/minute")
    with serve_in_thread(create_app(settings, store=store)) as url:
        yield url, token
    store.close()


@pytest.fixture(scope="module")
def server_url(live_server: tuple[str, str]) -> str:
    return live_server[0]


def test_probes(server_url: str) -> None:
    assert httpx.get(f"{server_url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{server_url}/readyz").status_code == 200


def test_paging_through_all_18000_remixes_while_others_remix(
    live_server: tuple[str, str],
) -> None:
    server_url, token = live_server
    stop = threading.Event()
    written: list[str] = []

    def remix_all_the_time() -> None:
        with httpx.Client(
            base_url=server_url, headers={"authorization": f"Bearer {token}"}
        ) as http:
            number = 0
            while not stop.is_set():
                video_id = f"live-{number:05d}"
                reply = http.post(
                    "/graphql",
                    json={
                        "query": "mutation($id: ID!, $p: String!) { remixVideo("
                        'parentId: "grandma", input: {id: $id, prompt: $p}) { child { id } } }',
                        "variables": {
                            "id": video_id,
                            "p": f"A grandmother chases the robot {number} out of her yard",
                        },
                    },
                )
                assert reply.json().get("errors") is None, reply.text
                written.append(video_id)
                number += 1

    writer = threading.Thread(target=remix_all_the_time, daemon=True)
    client = Client(transport=HTTPXTransport(url=f"{server_url}/graphql"))
    seen: list[str] = []
    with client as session:
        first = session.execute(page_request(None))
        start_count = first["video"]["directRemixCount"]
        assert start_count == 18_000
        writer.start()
        page = first["video"]["remixes"]
        while True:
            seen += [edge["node"]["child"]["id"] for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            reply = session.execute(page_request(page["pageInfo"]["endCursor"]))
            page = reply["video"]["remixes"]
        stop.set()
        writer.join(timeout=30)
        final = session.execute(page_request(None))["video"]
    originals = [video_id for video_id in seen if not video_id.startswith("live-")]
    assert len(seen) == len(set(seen)), "a cursor repeated a remix"
    assert len(originals) == 18_000, "a cursor skipped a remix"
    assert len(written) > 0, "no remix arrived during the walk"
    assert final["directRemixCount"] == 18_000 + len(written)
    assert final["remixes"]["totalCount"] == 18_000 + len(written)


def test_errors_reach_the_client_with_codes(server_url: str) -> None:
    client = Client(transport=HTTPXTransport(url=f"{server_url}/graphql"))
    with client as session:
        assert session.execute(gql('{ video(id: "nope") { id } }')) == {"video": None}
        with pytest.raises(TransportQueryError) as refused:
            session.execute(
                gql(
                    f'{{ video(id: "{DEMO_ORIGINAL_ID}") {{ topVariants(limit: 101) {{ child {{ id }} }} }} }}'
                )
            )
    assert refused.value.errors is not None
    assert refused.value.errors[0]["extensions"]["code"] == "LIMIT_EXCEEDED"
