"""Rights over GraphQL: takedown and restore, hidden prompts, attribution, downstream views."""

from __future__ import annotations

import json

import httpx
import pytest

from lineage.store import LineageStore
from lineage.tree.check import check_store
from tests.api.conftest import PROMPT, GraphQLClient, load

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("small_tree")]

RIGHTS = "status removedReason removedAt removedDerivativeCount derivedFromRemoved c2paManifest"


async def _takedown(client: GraphQLClient, video_id: str, reason: str = "DMCA 7") -> dict:  # type: ignore[type-arg]
    data = await client.data(
        "mutation($id: ID!, $reason: String!) { takedown(id: $id, reason: $reason) { id %s } }"
        % RIGHTS,
        {"id": video_id, "reason": reason},
    )
    return dict(data["takedown"])


async def test_takedown_keeps_the_tree_and_hides_the_prompt(
    admin: GraphQLClient, client: GraphQLClient, store: LineageStore
) -> None:
    removed = await _takedown(admin, "hippo")
    assert removed["status"] == "REMOVED"
    assert removed["removedReason"] == "DMCA 7"
    assert removed["removedAt"] is not None
    data = await client.data(
        """{ video(id: "grandma") { derivativeCount removedDerivativeCount derivedFromRemoved
               remixes { edges { node { child { id prompt title status derivedFromRemoved } } } } }
             baby: video(id: "baby-hippo") { prompt derivedFromRemoved status
               parent { id prompt title creator status derivativeCount } } }"""
    )
    grandma = data["video"]
    assert grandma["derivativeCount"] == 4  # unchanged: a tombstone, not a hole
    assert grandma["removedDerivativeCount"] == 1
    assert grandma["derivedFromRemoved"] is False
    children = {e["node"]["child"]["id"]: e["node"]["child"] for e in grandma["remixes"]["edges"]}
    assert children["hippo"]["prompt"] == ""
    assert children["hippo"]["status"] == "REMOVED"
    assert children["giraffe"]["prompt"] == PROMPT.replace("crocodile", "giraffe")
    baby = data["baby"]
    assert baby["derivedFromRemoved"] is True
    assert baby["status"] == "ACTIVE"
    assert baby["prompt"] == PROMPT.replace("crocodile", "baby hippo")
    assert baby["parent"] == {
        "id": "hippo",
        "prompt": "",
        "title": None,
        "creator": None,
        "status": "REMOVED",
        "derivativeCount": 1,
    }
    assert check_store(store) == []


async def test_only_an_admin_sees_a_removed_prompt_even_through_the_cache(
    admin: GraphQLClient, client: GraphQLClient, anonymous: GraphQLClient
) -> None:
    await _takedown(admin, "hippo")
    query = '{ video(id: "hippo") { prompt status } }'
    for _ in range(3):  # later answers may come from the response cache
        data = await admin.data(query)
        assert data["video"] == {
            "prompt": PROMPT.replace("crocodile", "hippo"),
            "status": "REMOVED",
        }
        assert (await client.data(query))["video"] == {"prompt": "", "status": "REMOVED"}
        assert (await anonymous.data(query))["video"] == {"prompt": "", "status": "REMOVED"}


async def test_takedown_and_restore_need_an_admin(
    client: GraphQLClient, anonymous: GraphQLClient
) -> None:
    for mutation in ('takedown(id: "hippo", reason: "x")', 'restore(id: "hippo")'):
        assert (await client.post("mutation { %s { id } }" % mutation)).codes == ["FORBIDDEN"]
        reply = await anonymous.post("mutation { %s { id } }" % mutation)
        assert reply.codes == ["UNAUTHENTICATED"]
    data = await client.data('{ video(id: "hippo") { status } }')
    assert data["video"] == {"status": "ACTIVE"}


async def test_removed_video_cannot_be_remixed(admin: GraphQLClient, client: GraphQLClient) -> None:
    await _takedown(admin, "hippo")
    reply = await client.post(
        'mutation { remixVideo(parentId: "hippo", input: {id: "h2", prompt: "more hippo"}) '
        "{ child { id } } }"
    )
    assert reply.codes == ["FORBIDDEN"]
    message = reply.errors[0]["message"]
    assert "'hippo'" in message
    assert "REMOVED" in message
    assert (await client.data('{ video(id: "h2") { id } }'))["video"] is None


async def test_takedown_is_idempotent_and_restore_undoes_it(
    admin: GraphQLClient, client: GraphQLClient, store: LineageStore
) -> None:
    await _takedown(admin, "hippo", "first")
    again = await _takedown(admin, "hippo", "second")
    assert again["removedReason"] == "first"
    data = await admin.data('mutation { restore(id: "hippo") { id %s } }' % RIGHTS)
    assert data["restore"]["status"] == "ACTIVE"
    assert data["restore"]["removedReason"] is None
    data = await client.data(
        '{ video(id: "grandma") { removedDerivativeCount } '
        'baby: video(id: "baby-hippo") { derivedFromRemoved } }'
    )
    assert data == {"video": {"removedDerivativeCount": 0}, "baby": {"derivedFromRemoved": False}}
    assert [entry[1] for entry in store.rights_log("hippo")] == ["takedown", "restore"]
    reply = await admin.post('mutation { takedown(id: "nope", reason: "x") { id } }')
    assert reply.codes == ["NOT_FOUND"]


async def test_attribution_and_downstream_views(client: GraphQLClient, store: LineageStore) -> None:
    load(
        store,
        [
            {
                "id": "hippo",
                "parent_id": "grandma",
                "prompt": PROMPT.replace("crocodile", "hippo"),
                "views": 100,
            },
            {
                "id": "baby-hippo",
                "parent_id": "hippo",
                "prompt": PROMPT.replace("crocodile", "baby hippo"),
                "views": 1000,
            },
        ],
    )
    data = await client.data(
        """{ video(id: "baby-hippo") {
               relative: attribution { video { id } share }
               half: attribution(policy: RELATIVE, rate: 0.5) { video { id } share }
               absolute: attribution(policy: ABSOLUTE, rate: 0.5) { share } }
             grandma: video(id: "grandma") {
               rel: downstreamViews
               abs: downstreamViews(policy: ABSOLUTE, rate: 0.2) } }"""
    )
    video = data["video"]
    assert video["relative"] == [
        {"video": {"id": "hippo"}, "share": pytest.approx(0.1)},
        {"video": {"id": "grandma"}, "share": pytest.approx(0.01)},
    ]
    assert [a["share"] for a in video["half"]] == [0.5, 0.25]
    assert [a["share"] for a in video["absolute"]] == [0.5, 0.5]
    assert data["grandma"]["rel"] == pytest.approx(100 * 0.1 + 1000 * 0.01)
    assert data["grandma"]["abs"] == pytest.approx(0.2 * 1100)
    reply = await client.post(
        '{ video(id: "baby-hippo") { attribution(policy: ABSOLUTE, rate: 0.6) { share } } }'
    )
    assert reply.codes == ["INVALID_INPUT"]


async def test_cached_answers_see_a_takedown(admin: GraphQLClient, client: GraphQLClient) -> None:
    query = '{ video(id: "baby-hippo") { status derivedFromRemoved parent { prompt status } } }'
    for _ in range(2):  # the second answer may come from the response cache
        data = await client.data(query)
        assert data["video"]["parent"]["status"] == "ACTIVE"
    await _takedown(admin, "hippo")
    data = await client.data(query)
    assert data["video"] == {
        "status": "ACTIVE",
        "derivedFromRemoved": True,
        "parent": {"prompt": "", "status": "REMOVED"},
    }
    await admin.data('mutation { restore(id: "hippo") { id } }')
    data = await client.data(query)
    assert data["video"]["derivedFromRemoved"] is False


async def test_export_blanks_removed_text_below_admin(
    admin: GraphQLClient, http: httpx.AsyncClient
) -> None:
    await _takedown(admin, "hippo")

    def by_id(text: str) -> dict[str, dict]:  # type: ignore[type-arg]
        return {r["id"]: r for r in map(json.loads, text.splitlines())}

    seen_by_writer = by_id((await http.get("/export")).text)
    seen_by_admin = by_id((await admin.http.get("/export")).text)
    hippo = seen_by_writer["hippo"]
    assert hippo["status"] == "REMOVED"
    assert (hippo["prompt"], hippo["title"], hippo["creator"]) == ("", None, None)
    assert (hippo["prompt_diff"]["ops"], hippo["prompt_diff"]["summary"]) == ([], "")
    assert hippo["derivative_count"] == seen_by_admin["hippo"]["derivative_count"] == 1
    assert seen_by_admin["hippo"]["prompt"] == PROMPT.replace("crocodile", "hippo")
    assert seen_by_admin["hippo"]["prompt_diff"]["ops"] != []
    assert seen_by_writer["giraffe"] == seen_by_admin["giraffe"]  # only removed videos change
    csv_rows = (await http.get("/export/hippo", params={"format": "csv"})).text
    assert "hippo" not in csv_rows.splitlines()[1].split(",")[1]  # the prompt column
    remixes = (await http.get("/export", params={"format": "csv", "part": "remixes"})).text
    admin_remixes = (
        await admin.http.get("/export", params={"format": "csv", "part": "remixes"})
    ).text
    assert len(remixes.splitlines()) == len(admin_remixes.splitlines())
    assert remixes != admin_remixes


async def test_a_removed_remix_diff_words_follow_the_one_masking_rule(
    admin: GraphQLClient, client: GraphQLClient, store: LineageStore
) -> None:
    """GraphQL blanks a removed remix's diff words below admin exactly as the exports do
    (lineage.rights.visibility): summary and ops empty, variant key and similarity kept."""
    from lineage.access.tokens import Role
    from lineage.export.jsonl import iter_jsonl_lines

    await _takedown(admin, "hippo")
    query = """{ video(id: "grandma") { topVariants(limit: 10) {
                   child { id } promptDiff { summary variantKey similarity ops { op before after } } } } }"""
    seen = {
        remix["child"]["id"]: remix["promptDiff"]
        for remix in (await client.data(query))["video"]["topVariants"]
    }
    exported = {
        line["id"]: line["prompt_diff"]
        for line in map(json.loads, iter_jsonl_lines(store, "grandma", viewer=Role.READER))
        if line["parent_id"] is not None
    }
    assert seen["hippo"]["summary"] == exported["hippo"]["summary"] == ""
    assert seen["hippo"]["ops"] == exported["hippo"]["ops"] == []
    assert seen["hippo"]["variantKey"] == exported["hippo"]["variant_key"] == "crocodile→hippo"
    assert seen["giraffe"]["summary"] == exported["giraffe"]["summary"] != ""
    as_admin = {
        remix["child"]["id"]: remix["promptDiff"]
        for remix in (await admin.data(query))["video"]["topVariants"]
    }
    assert as_admin["hippo"]["summary"] == "crocodile → hippo"
    assert as_admin["hippo"]["ops"] == [{"op": "replace", "before": "crocodile", "after": "hippo"}]
