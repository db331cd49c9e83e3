"""Search on every store, against a brute-force reference over all stored videos.

The reference (:func:`reference`) reads every video and applies the
contract's words directly: NFKC then case folding of both sides, terms split
on whitespace, every term a substring of "prompt, title, creator joined by
line breaks", a removed video's text blank below ``admin`` (the one masking
rule, :func:`lineage.rights.visibility.visibility`), ``within`` as the video
and its derivatives, ranked by the order's measure with ties by id. Random
forests mix Latin, CJK, full-width forms, accents (precomposed and not),
``ß`` and one-character words; every plan a store has is run on its own
(ranking walk, text index, scope) as well as through :func:`search`, every
order, in keyset pages, with the exact total.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lineage.access.tokens import Role
from lineage.errors import InvalidInput, LimitExceeded, VideoNotFound
from lineage.importing.records import SourcedRecord
from lineage.rights.policy import DEFAULT_RIGHTS, restore, takedown
from lineage.rights.visibility import visibility
from lineage.search import search
from lineage.search.check import check_search
from lineage.search.plan import Plan, Scope, SearchQuery, Strategy
from lineage.search.text import split_terms
from lineage.store import LineageStore, VideoOrder
from lineage.tree.check import check_store
from lineage.tree.queries import measure_of

from ..conftest import FULL_RUN, StoreFactory

SQLITE = pytest.mark.parametrize("backend", ["sqlite"])
NEO4J = pytest.mark.parametrize("backend", [pytest.param("neo4j", marks=pytest.mark.neo4j)])
_QUIET = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]

# Words whose normal forms meet: case, width, composition, ligatures, ß, CJK.
WORDS = [
    "hippo", "HIPPO", "Hippo", "ｈｉｐｐｏ", "河马", "河", "鳄鱼", "奶奶", "院子",
    "café", "CAFÉ", "cafe\u0301", "Straße", "STRASSE", "ﬁsh", "FISH", "ǅemal",
    "a", "b", "ab", "ba", "x", "yard", "kitchen", "ｆｕｌｌ", "FULL",
    '"quoted"', "NEAR", "OR", "*", "a-b", "ΐ", "ι",
]  # fmt: skip
SPACES = [" ", "  ", "\u3000", "\t"]
T0 = datetime(2025, 10, 1, tzinfo=UTC)


def _nfkc_fold(text: str) -> str:
    # Written out here, not imported: the reference states the contract by itself.
    return unicodedata.normalize("NFKC", text).casefold()


def reference(
    store: LineageStore,
    text: str,
    *,
    within: str | None = None,
    order: VideoOrder = VideoOrder.DERIVATIVES,
    role: Role | None = None,
) -> list[str]:
    """Every match, ranked: the contract applied to every stored video, one by one."""
    terms = _nfkc_fold(text).split()
    videos = list(store.iter_videos())
    rights = store.video_rights([video.id for video in videos])
    parent = {video.id: video.parent_id for video in videos}

    def in_scope(video_id: str) -> bool:
        current: str | None = video_id
        while current is not None:
            if current == within:
                return True
            current = parent[current]
        return False

    found = []
    for video in videos:
        seen = visibility(role, rights.get(video.id, DEFAULT_RIGHTS)).text
        searchable = (
            _nfkc_fold("\n".join([video.prompt, video.title or "", video.creator or ""]))
            if seen
            else ""
        )
        if all(term in searchable for term in terms) and (within is None or in_scope(video.id)):
            found.append(video)
    found.sort(key=lambda video: (-measure_of(video, order), video.id))
    return [video.id for video in found]


def load(store: LineageStore, records: Sequence[dict[str, Any]]) -> None:
    report = store.import_videos(SourcedRecord(r, "test", n) for n, r in enumerate(records, 1))
    assert not report.rejected, report.rejected


def all_pages(
    store: LineageStore, text: str, page: int, **arguments: Any
) -> tuple[list[str], list[int]]:
    """Every page of a search in turn: the ids and each page's total."""
    ids: list[str] = []
    totals: list[int] = []
    after = None
    order = arguments.get("order", VideoOrder.DERIVATIVES)
    while True:
        result = search(store, text, first=page, after=after, **arguments)
        ids += [video.id for video in result.videos]
        totals.append(result.total())
        if not result.has_next:
            return ids, totals
        last = result.videos[-1]
        after = (measure_of(last, order), last.id)
        assert len(totals) < 500


# -- random forests with words in many forms ------------------------------------------
@st.composite
def worded_forests(draw: st.DrawFn) -> list[dict[str, Any]]:
    size = draw(st.integers(1, 24))
    phrase = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4)
    records: list[dict[str, Any]] = []
    for index in range(size):
        parent = None
        if index and draw(st.booleans()):
            parent = records[draw(st.integers(0, index - 1))]["id"]
        words = draw(phrase)
        separator = draw(st.sampled_from(SPACES))
        record: dict[str, Any] = {
            "id": f"v{index}",
            "parent_id": parent,
            "prompt": separator.join(words),
            "likes": draw(st.integers(0, 3)),
            "views": draw(st.integers(0, 3)),
        }
        if draw(st.booleans()):
            record["created_at"] = (T0 + timedelta(hours=draw(st.integers(0, 5)))).isoformat()
        if draw(st.booleans()):
            record["title"] = " ".join(draw(phrase))
        if draw(st.booleans()):
            record["creator"] = draw(st.sampled_from(WORDS))
        records.append(record)
    return records


def _query_text(draw: st.DrawFn, records: list[dict[str, Any]]) -> str:
    terms = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            terms.append(draw(st.sampled_from(WORDS)))
        else:  # a piece of a stored text, in another case or width sometimes
            source = draw(st.sampled_from(records))
            field = next(
                value
                for value in (source.get("title"), source.get("creator"), source["prompt"])
                if (value and draw(st.booleans())) or value is source["prompt"]
            )
            field = "".join(field.split())
            start = draw(st.integers(0, len(field) - 1))
            piece = field[start : start + draw(st.integers(1, 4))]
            terms.append(draw(st.sampled_from([piece, piece.upper(), piece.lower()])))
    return draw(st.sampled_from(SPACES)).join(terms)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    records = draw(worded_forests())
    ids = [record["id"] for record in records]
    removed = draw(st.lists(st.sampled_from(ids), unique=True, max_size=max(1, len(ids) // 3)))
    queries = [_query_text(draw, records) for _ in range(4)]
    return {
        "records": records,
        "removed": removed,
        "queries": queries,
        "within": draw(st.sampled_from([None, *ids])),
        "order": draw(st.sampled_from(list(VideoOrder))),
        "page": draw(st.integers(1, 4)),
        "seed": draw(st.integers(0, 2**16)),
    }


def _every_plan(store: LineageStore, query: SearchQuery) -> list[Plan]:
    plans = [Plan(Strategy.TEXT, driver=term) for term in query.terms]
    if query.scope is not None:
        plans.append(Plan(Strategy.SCOPE))
    if query.order in store.search_rankings:
        plans.append(Plan(Strategy.RANKING, budget=10**9))
    return plans


def _scope(store: LineageStore, within: str | None) -> Scope | None:
    if within is None:
        return None
    video = store.get_video(within)
    assert video is not None
    return Scope(video.id, video.parent_id is None, video.original_id, video.derivative_count + 1)


def check_scenario(store: LineageStore, scenario: dict[str, Any]) -> None:
    load(store, scenario["records"])
    for video_id in scenario["removed"]:
        takedown(store, video_id, "test", "ops")
    order, within, page = scenario["order"], scenario["within"], scenario["page"]
    for text in scenario["queries"]:
        terms = split_terms(text)
        for role in (None, Role.READER, Role.ADMIN):
            expected = reference(store, text, within=within, order=order, role=role)
            ids, totals = all_pages(store, text, page, within=within, order=order, role=role)
            assert ids == expected, (text, role)
            assert set(totals) == {len(expected)}, (text, role)
        for include_removed in (False, True):
            role = Role.ADMIN if include_removed else None
            expected = reference(store, text, within=within, order=order, role=role)
            query = SearchQuery(terms, order, 10**6, None, _scope(store, within), include_removed)
            for plan in _every_plan(store, query):
                page_ids = [video.id for video in store.search_page(query, plan) or []]
                assert page_ids == expected, (text, plan)
                if plan.strategy is not Strategy.RANKING:
                    assert store.search_count(query, plan) == len(expected), (text, plan)
    assert check_search(store) == []


@SQLITE
@settings(max_examples=60, deadline=None, suppress_health_check=_QUIET)
@given(scenario=scenarios())
def test_search_matches_the_reference_sqlite(
    make_store: StoreFactory, scenario: dict[str, Any]
) -> None:
    check_scenario(make_store(), scenario)


@NEO4J
@settings(max_examples=8 if FULL_RUN else 4, deadline=None, suppress_health_check=_QUIET)
@given(scenario=scenarios())
def test_search_matches_the_reference_neo4j(
    make_store: StoreFactory, scenario: dict[str, Any]
) -> None:
    check_scenario(make_store(), scenario)


# -- the contract's examples -------------------------------------------------------------
EXAMPLES = [
    {"id": "hippo", "prompt": "A grandmother chases a hippo out of the yard", "likes": 3},
    {"id": "full", "parent_id": "hippo", "prompt": "FULL moon over the yard", "creator": "Li"},
    {"id": "cafe", "prompt": "Le CAFÉ du coin", "title": "Straße", "likes": 7},
    {"id": "river", "parent_id": "cafe", "prompt": "奶奶拿着扫帚把河马赶出院子"},
    {"id": "nfd", "prompt": "un cafe\u0301 noir"},
]


@pytest.fixture
def examples(store: LineageStore) -> LineageStore:
    load(store, EXAMPLES)
    return store


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HIPPO", ["hippo"]),
        ("ｆｕｌｌ", ["full"]),
        ("café", ["cafe", "nfd"]),
        ("CAFE\u0301", ["cafe", "nfd"]),
        ("河", ["river"]),
        ("河马 院子", ["river"]),
        ("strasse", ["cafe"]),
        ("li", ["full"]),  # the creator
        ("yard  moon", ["full"]),
        ("Y", ["hippo", "full"]),  # one character
        ("zebra", []),
        ("yard zebra", []),
    ],
)
def test_the_contracts_examples(examples: LineageStore, text: str, expected: list[str]) -> None:
    result = search(examples, text)
    assert [video.id for video in result.videos] == sorted(
        expected,
        key=lambda i: (-examples.get_video(i).derivative_count, i),  # type: ignore[union-attr]
    )
    assert result.total() == len(expected)
    assert result.videos == [examples.get_video(i) for i in [v.id for v in result.videos]]


def test_within_keeps_a_video_and_its_derivatives(examples: LineageStore) -> None:
    assert [v.id for v in search(examples, "yard", within="hippo").videos] == ["hippo", "full"]
    assert [v.id for v in search(examples, "yard", within="full").videos] == ["full"]
    assert search(examples, "yard", within="cafe").videos == []
    assert [v.id for v in search(examples, "河马", within="cafe").videos] == ["river"]


def test_refusals(examples: LineageStore) -> None:
    for text in ("", "   ", "\u3000\t"):
        with pytest.raises(InvalidInput):
            search(examples, text)
    with pytest.raises(VideoNotFound):
        search(examples, "yard", within="nobody")
    with pytest.raises(LimitExceeded):
        search(examples, "yard", first=101)
    with pytest.raises(InvalidInput):
        search(examples, "yard", first=-1)


def test_keyset_pages_by_every_order(examples: LineageStore) -> None:
    for order in VideoOrder:
        expected = reference(examples, "a", order=order)
        assert len(expected) >= 4
        ids, totals = all_pages(examples, "a", 1, order=order)
        assert ids == expected
        assert set(totals) == {len(expected)}


# -- every write path keeps the index exact ----------------------------------------------
def test_a_removed_video_is_blank_below_admin_until_restored(examples: LineageStore) -> None:
    takedown(examples, "hippo", "DMCA", "ops")
    for role in (None, Role.READER, Role.WRITER):
        assert [v.id for v in search(examples, "yard", role=role).videos] == ["full"]
        assert search(examples, "grandmother", role=role).total() == 0
    assert [v.id for v in search(examples, "grandmother", role=Role.ADMIN).videos] == ["hippo"]
    assert search(examples, "yard", role=Role.ADMIN).total() == 2
    restore(examples, "hippo", "ops")
    assert search(examples, "grandmother").total() == 1
    assert check_search(examples) == []


def test_changed_titles_and_creators_are_found_and_old_ones_are_not(
    examples: LineageStore,
) -> None:
    load(
        examples,
        [
            {**EXAMPLES[1], "creator": "Wang", "title": "Ｎｅｗ Moon"},
            {**EXAMPLES[2], "title": None},
        ],
    )
    assert search(examples, "li").total() == 0
    assert [v.id for v in search(examples, "wang").videos] == ["full"]
    assert [v.id for v in search(examples, "new moon").videos] == ["full"]
    assert search(examples, "strasse").total() == 0
    assert check_search(examples) == []
    assert check_store(examples) == []


def test_remixes_and_imports_in_many_transactions_stay_exact(make_store: StoreFactory) -> None:
    store = make_store()
    rng = random.Random(4)
    records = [{"id": "root", "prompt": "the root 河马"}]
    for number in range(1, 120):
        parent = rng.choice(records)
        records.append(
            {
                "id": f"r{number}",
                "parent_id": parent["id"],
                "prompt": f"{parent['prompt']} {rng.choice(WORDS)}"[-200:],
                "creator": rng.choice([None, "Li", "ｌｉ", "王"]),
            }
        )
    for start in range(0, len(records), 17):
        load(store, records[start : start + 17])
    assert check_search(store) == []
    for text in ("河马", "li", "hippo 河", "ab", "王 root"):
        assert all_pages(store, text, 100)[0] == reference(store, text)


def test_a_walk_that_runs_out_of_budget_gives_way(make_store: StoreFactory) -> None:
    store = make_store()
    load(store, [{"id": f"v{n:03d}", "prompt": "common words"} for n in range(300)])
    load(store, [{"id": "zz-rare", "prompt": "common words and a rare one"}])
    query = SearchQuery(("common", "rare"), VideoOrder.DERIVATIVES, 21)
    if VideoOrder.DERIVATIVES in store.search_rankings:
        assert store.search_page(query, Plan(Strategy.RANKING, budget=100)) is None
    result = search(store, "common rare")
    assert [v.id for v in result.videos] == ["zz-rare"]
    assert result.total() == 1


def test_the_ranking_walk_pages_from_remixed_videos_into_the_leaves(
    make_store: StoreFactory,
) -> None:
    # Ties at every derivative count, and pages that end on either side of the
    # last remixed video: the walk's keyset continues where the last page ended.
    store = make_store()
    rng = random.Random(9)
    records = [{"id": f"o{n}", "prompt": f"a garden {n}"} for n in range(6)]
    for number in range(90):
        parent = rng.choice(records[: 6 + number // 3])
        records.append({"id": f"r{number:02d}", "parent_id": parent["id"], "prompt": "garden"})
    load(store, records)
    expected = reference(store, "garden")
    assert len(expected) == 96
    for page in (1, 5, 7, 20):
        ids: list[str] = []
        after: tuple[int, str] | None = None
        while True:
            query = SearchQuery(("garden",), VideoOrder.DERIVATIVES, page, after)
            found = store.search_page(query, Plan(Strategy.RANKING, budget=10**9))
            assert found is not None
            ids += [video.id for video in found]
            if len(found) < page:
                break
            after = (found[-1].derivative_count, found[-1].id)
        assert ids == expected, page
