"""The SQLite store's search (:mod:`lineage.search`): a trigram index of each distinct text.

Tables (``schema/sqlite/schema.sql``):

* ``search_texts (id, text, uses)``: every distinct normalised field text
  (a prompt, a title or a creator, :func:`lineage.search.text.normalise`)
  once, with the number of video fields that hold it;
* ``search_index``: an FTS5 table with the ``trigram`` tokenizer over
  ``search_texts`` (external content), so a term of three characters or more
  finds the texts that hold it as a substring, in any script;
* ``videos.prompt_text``, ``title_text``, ``creator_text``: each video's
  three texts (ids into ``search_texts``), each indexed (the videos holding
  a text);
* the ranking by derivatives that a frequent term walks
  (``Strategy.RANKING``): ``videos_ranked_by_derivatives
  (derivative_count DESC, id)`` holds the videos with derivatives only, and
  those without (a forest's leaves, most of its videos) follow it in id
  order, read from the index of the ids that the ``UNIQUE`` constraint
  keeps anyway. A first load builds the smaller index in half the time
  (synthetic forest: 26% of the videos have derivatives).

A term never spans two fields (:mod:`lineage.search.text`), so a video holds
a term exactly when one of its three texts does. Remixes repeat their
parents' prompts and creators make many videos: indexing each distinct text
once makes the index a fraction of the size of one indexing every video,
and an import pays for the texts it brings that the store does not hold yet.

Every write path keeps them exact in its own transaction: an import's new
videos and changed titles and creators (:func:`write_search`, from
:mod:`~lineage.stores.sqlite.writes`); a text no field holds any more leaves
the index. A takedown changes nothing here: a removed video's text stays
indexed, and searches of callers who do not see it (below ``admin``) leave
removed videos out at query time, so one index answers every role exactly.
Files made before search get it filled once when they open (:func:`upgrade`).

Terms shorter than three characters have no trigram: their texts are found
by a scan of ``search_texts`` (distinct texts, not videos), or a walk down
the ranking tests them on each video, whichever the planner picks.
"""

from __future__ import annotations

import operator
import sqlite3
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from lineage.importing.plan import ImportPlan
from lineage.models import VideoRecord
from lineage.search.plan import Plan, SearchEstimates, SearchQuery, Strategy
from lineage.search.text import normalise
from lineage.store import VideoOrder
from lineage.stores.sqlite.reads import CHUNK, RECORD_COLUMNS, record
from lineage.tree.queries import NULL_TIME, measure_of

__all__ = [
    "RANKINGS",
    "TEXT_COLUMNS",
    "TextWriter",
    "estimates",
    "index_mismatches",
    "iter_search_texts",
    "search_count",
    "search_page",
    "upgrade",
    "with_text_ids",
    "write_search",
]

# The orders with a ranking of every video: derivatives, in two index ranges
# (the videos with derivatives by count, then the others by id).
RANKINGS = frozenset({VideoOrder.DERIVATIVES})
_RANKED_INDEX = "videos_ranked_by_derivatives"
_ID_INDEX = "sqlite_autoindex_videos_1"  # the index of the UNIQUE constraint on videos.id

_MEASURE = {
    VideoOrder.DERIVATIVES: "v.derivative_count",
    VideoOrder.DIRECT_REMIXES: "v.direct_remix_count",
    VideoOrder.LIKES: "v.likes",
    VideoOrder.VIEWS: "v.views",
    VideoOrder.SUBTREE_LIKES: "v.subtree_likes",
    VideoOrder.SUBTREE_VIEWS: "v.subtree_views",
    VideoOrder.NEWEST: f"coalesce(v.created_us, {NULL_TIME})",
}
_COLUMNS = ", ".join(f"v.{name.strip()}" for name in RECORD_COLUMNS.split(","))
# A video's searchable text, from its three texts (as lineage.search.text joins them).
_JOINED_TEXT = (
    "(SELECT p.text FROM search_texts AS p WHERE p.id = v.prompt_text) || char(10) || "
    "coalesce((SELECT ti.text FROM search_texts AS ti WHERE ti.id = v.title_text), '') "
    "|| char(10) || "
    "coalesce((SELECT cr.text FROM search_texts AS cr WHERE cr.id = v.creator_text), '')"
)
_NOT_REMOVED = (
    "NOT EXISTS (SELECT 1 FROM video_rights AS r WHERE r.video_id = v.id AND r.status = 'REMOVED')"
)
# The videos holding one of the texts of the CTE ``hits`` (one index range per field).
_HOLDERS = (
    "SELECT seq FROM videos WHERE prompt_text IN hits "
    "UNION SELECT seq FROM videos WHERE title_text IS NOT NULL AND title_text IN hits "
    "UNION SELECT seq FROM videos WHERE creator_text IS NOT NULL AND creator_text IN hits"
)
# The videos' columns holding the ids of their prompt, title and creator texts.
TEXT_COLUMNS = ("prompt_text", "title_text", "creator_text")
# The prompt, title and creator of a new video's row (NEW_VIDEO_COLUMNS).
_PROMPT, _TITLE, _CREATOR = operator.itemgetter(2), operator.itemgetter(3), operator.itemgetter(4)
_MARK = "search_version"
_VERSION = 2  # see upgrade
_WALK_FIRST_CHUNK = 256
_WALK_MAX_CHUNK = 8192


def _fts_phrase(term: str) -> str:
    """A term as an FTS5 phrase: its trigrams in a row, i.e. the term as a substring."""
    return '"' + term.replace('"', '""') + '"'


def _hits(term: str) -> tuple[str, list[Any]]:
    """A CTE ``hits(id)``: the ids of the texts that hold ``term``."""
    if len(term) >= 3:
        return (
            "hits(id) AS (SELECT rowid FROM search_index WHERE search_index MATCH ?)",
            [_fts_phrase(term)],
        )
    # No trigram in the term: a scan of the distinct texts.
    return "hits(id) AS (SELECT id FROM search_texts WHERE instr(text, ?) > 0)", [term]


# -- writes ----------------------------------------------------------------------------------
class TextWriter:
    """The texts of the videos an import writes: ids for new texts, use counts.

    :meth:`ids` gives videos' (prompt, title, creator) text ids, reading the
    store for texts not met yet in this write and numbering new ones (their
    uses are counted in ``uses``, which a metadata update also changes);
    :meth:`flush` writes the new
    texts (table and full-text index), the changed use counts, and drops the
    texts no field holds any more. One writer per transaction.
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.by_text: dict[str, int] = {}  # normalised text -> id (stored or new)
        self.by_raw: dict[str, int] = {}  # field value as given -> id
        self.new: dict[int, str] = {}
        self.uses: Counter[int] = Counter()
        (last,) = connection.execute("SELECT coalesce(max(id), 0) FROM search_texts").fetchone()
        self.next_id = int(last) + 1
        # A store without texts (a first load) has none to look up.
        self.stored = self.next_id > 1

    def resolve(self, values: set[str]) -> None:
        """Know the ids of these raw field values (one read per chunk of unknown texts)."""
        by_raw, by_text = self.by_raw, self.by_text
        unknown = {value: normalise(value) for value in values.difference(by_raw)}
        if self.stored:
            texts = list(set(unknown.values()).difference(by_text))
            for start in range(0, len(texts), CHUNK):
                chunk = texts[start : start + CHUNK]
                rows = self.connection.execute(
                    "SELECT text, id FROM search_texts "
                    f"WHERE text IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
                by_text.update(rows)
        for value, text in unknown.items():
            text_id = by_text.get(text)
            if text_id is None:
                text_id = by_text[text] = self.next_id
                self.new[text_id] = text
                self.next_id += 1
            by_raw[value] = text_id

    def ids(
        self, prompts: Sequence[str], titles: Sequence[str | None], creators: Sequence[str | None]
    ) -> tuple[list[int], list[int | None], list[int | None]]:
        """The text ids of videos' fields, counted as used (absent fields: None)."""
        values: set[str | None] = set(prompts)
        values.update(titles)
        values.update(creators)
        values.discard(None)
        self.resolve(values)  # type: ignore[arg-type]  # None is gone
        by_raw = self.by_raw
        prompt_ids = list(map(by_raw.__getitem__, prompts))
        title_ids = list(map(by_raw.get, titles))  # type: ignore[arg-type]
        creator_ids = list(map(by_raw.get, creators))  # type: ignore[arg-type]
        self.uses.update(prompt_ids)
        self.uses.update(filter(None, title_ids))
        self.uses.update(filter(None, creator_ids))
        return prompt_ids, title_ids, creator_ids

    def flush(self) -> None:
        connection = self.connection
        new = [(text_id, text, self.uses.pop(text_id)) for text_id, text in self.new.items()]
        connection.executemany("INSERT INTO search_texts (id, text, uses) VALUES (?, ?, ?)", new)
        connection.executemany(
            "INSERT INTO search_index (rowid, text) VALUES (?, ?)",
            ((text_id, text) for text_id, text, _ in new),
        )
        changed = [(delta, text_id) for text_id, delta in self.uses.items() if delta]
        connection.executemany("UPDATE search_texts SET uses = uses + ? WHERE id = ?", changed)
        gone = [
            (text_id, text)
            for _, text_id in changed
            for (text,) in connection.execute(
                "SELECT text FROM search_texts WHERE id = ? AND uses = 0", (text_id,)
            )
        ]
        connection.executemany(
            "INSERT INTO search_index (search_index, rowid, text) VALUES ('delete', ?, ?)", gone
        )
        connection.executemany("DELETE FROM search_texts WHERE id = ?", [(i,) for i, _ in gone])
        self.new.clear()
        self.uses.clear()


def with_text_ids(writer: TextWriter, rows: Sequence[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """New video rows (``NEW_VIDEO_COLUMNS`` order) with the ids of their prompt, title
    and creator texts appended (as the videos' last three columns), made one at a time
    as the insert reads them.

    A list of them would hold a chunk of new tuples at once: the collector's
    young generation then keeps promoting them, and each full collection walks
    every object of the import's plan (at 1,000,000 videos about 6 s of CPU,
    more than a third of what search added to the import). Made lazily, each
    tuple is freed as soon as SQLite has bound it.
    """
    prompt_ids, title_ids, creator_ids = writer.ids(
        list(map(_PROMPT, rows)), list(map(_TITLE, rows)), list(map(_CREATOR, rows))
    )
    return map(operator.add, rows, zip(prompt_ids, title_ids, creator_ids, strict=True))


def write_search(writer: TextWriter, plan: ImportPlan) -> None:
    """The changed titles and creators of stored videos, then every text's uses
    (after the new videos' rows went in with their ids, :func:`with_text_ids`)."""
    connection = writer.connection
    updates = list(plan.metadata_updates.values())
    for start in range(0, len(updates), CHUNK):
        chunk = updates[start : start + CHUNK]
        held = {
            video_id: (seq, title_id, creator_id)
            for video_id, seq, title_id, creator_id in connection.execute(
                "SELECT id, seq, title_text, creator_text FROM videos "
                f"WHERE id IN ({','.join('?' * len(chunk))})",
                [fields[0] for fields in chunk],
            )
        }
        writer.resolve({value for fields in chunk for value in (fields[3], fields[4]) if value})
        rows = []
        for video_id, _, _, title, creator, *_ in chunk:
            seq, old_title, old_creator = held[video_id]
            title_id = writer.by_raw[title] if title else None
            creator_id = writer.by_raw[creator] if creator else None
            if (title_id, creator_id) == (old_title, old_creator):
                continue
            for old, new in ((old_title, title_id), (old_creator, creator_id)):
                if old is not None:
                    writer.uses[old] -= 1
                if new is not None:
                    writer.uses[new] += 1
            rows.append((title_id, creator_id, seq))
        connection.executemany(
            "UPDATE videos SET title_text = ?, creator_text = ? WHERE seq = ?", rows
        )
    writer.flush()


def upgrade(connection: sqlite3.Connection) -> None:
    """Bring a store file's search up to this version, once, in one transaction.

    Each version's step runs on a file at the version before it:

    1. index every video of a file made before search;
    2. drop the ranking of every video by derivatives (``videos_by_derivatives``),
       which the partial ``videos_ranked_by_derivatives`` of the schema replaces.
    """
    held = f"SELECT CAST(value AS INTEGER) FROM store_meta WHERE key = '{_MARK}'"
    found = connection.execute(held).fetchone()
    if found is not None and found[0] >= _VERSION:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        found = connection.execute(held).fetchone()
        version = 0 if found is None else int(found[0])
        if version < 1:
            _index_every_video(connection)
        if version < 2:
            connection.execute("DROP INDEX IF EXISTS videos_by_derivatives")
        if version < _VERSION:
            connection.execute(
                "INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)",
                (_MARK, str(_VERSION)),
            )
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _index_every_video(connection: sqlite3.Connection) -> None:
    writer = TextWriter(connection)
    after = 0
    while True:
        rows = connection.execute(
            "SELECT seq, prompt, title, creator FROM videos "
            "WHERE seq > ? AND prompt_text IS NULL ORDER BY seq LIMIT 5000",
            (after,),
        ).fetchall()
        if not rows:
            break
        prompt_ids, title_ids, creator_ids = writer.ids(
            [row[1] for row in rows], [row[2] for row in rows], [row[3] for row in rows]
        )
        connection.executemany(
            "UPDATE videos SET prompt_text = ?, title_text = ?, creator_text = ? WHERE seq = ?",
            zip(prompt_ids, title_ids, creator_ids, [row[0] for row in rows], strict=True),
        )
        after = rows[-1][0]
    writer.flush()


# -- reads -------------------------------------------------------------------------------------
def estimates(connection: sqlite3.Connection, terms: Sequence[str], cap: int) -> SearchEstimates:
    """See :meth:`~lineage.store.LineageStore.search_estimates`: the uses of the texts
    that hold each term, summed until they pass ``cap``."""
    (size,) = connection.execute("SELECT coalesce(max(seq), 0) FROM videos").fetchone()
    found: dict[str, int] = {}
    for term in terms:
        if len(term) >= 3:
            rows = connection.execute(
                "SELECT t.uses FROM search_index AS i JOIN search_texts AS t ON t.id = i.rowid "
                "WHERE search_index MATCH ?",
                (_fts_phrase(term),),
            )
        else:
            rows = connection.execute(
                "SELECT uses FROM search_texts WHERE instr(text, ?) > 0", (term,)
            )
        total = 0
        for (uses,) in rows:
            total += uses
            if total > cap:
                break
        found[term] = total
    return SearchEstimates(store_size=int(size), terms=found)


def _conditions(query: SearchQuery, terms: Sequence[str]) -> tuple[list[str], list[Any]]:
    """The SQL conditions on the video ``v`` (terms, removed, scope) and their parameters."""
    conditions: list[str] = []
    parameters: list[Any] = []
    if terms:
        tests = " AND ".join("instr(t, ?) > 0" for _ in terms)
        conditions.append(f"(SELECT {tests} FROM (SELECT {_JOINED_TEXT} AS t))")
        parameters += terms
    if not query.include_removed:
        conditions.append(_NOT_REMOVED)
    scope = query.scope
    if scope is not None:
        if scope.original:
            conditions.append("v.original_id = ?")
            parameters.append(scope.video_id)
        else:
            conditions.append(
                "(v.id = ? OR EXISTS (SELECT 1 FROM descendant_closure AS d "
                "WHERE d.ancestor_id = ? AND d.generation = v.generation "
                "AND d.descendant_id = v.id))"
            )
            parameters += [scope.video_id, scope.video_id]
    return conditions, parameters


def _after(query: SearchQuery) -> tuple[list[str], list[Any]]:
    if query.after is None:
        return [], []
    measure = _MEASURE[query.order]
    value, video_id = query.after
    return [f"({measure} < ? OR ({measure} = ? AND v.id > ?))"], [value, value, video_id]


def _source(query: SearchQuery, plan: Plan) -> tuple[str, str, list[Any], list[str]]:
    """(WITH clause, FROM clause, their parameters, the terms left to test)."""
    if plan.strategy is Strategy.TEXT:
        assert plan.driver is not None
        cte, parameters = _hits(plan.driver)
        rest = [term for term in query.terms if term != plan.driver]
        return f"WITH {cte} ", f"videos AS v WHERE v.seq IN ({_HOLDERS})", parameters, rest
    scope = query.scope
    assert plan.strategy is Strategy.SCOPE
    assert scope is not None
    if scope.original:
        return "", "videos AS v WHERE v.original_id = ?", [scope.video_id], list(query.terms)
    members = (
        "SELECT seq FROM videos WHERE id = ? UNION ALL SELECT m.seq FROM descendant_closure AS d "
        "JOIN videos AS m ON m.id = d.descendant_id WHERE d.ancestor_id = ?"
    )
    return (
        "",
        f"videos AS v WHERE v.seq IN ({members})",
        [scope.video_id, scope.video_id],
        list(query.terms),
    )


def search_page(
    connection: sqlite3.Connection, query: SearchQuery, plan: Plan
) -> list[VideoRecord] | None:
    """See :meth:`~lineage.store.LineageStore.search_page`."""
    if plan.strategy is Strategy.RANKING:
        return _walk(connection, query, plan.budget)
    with_clause, source, parameters, rest = _source(query, plan)
    conditions, more = _conditions(query, rest)
    keyset, after = _after(query)
    measure = _MEASURE[query.order]
    where = "".join(f" AND {condition}" for condition in conditions + keyset)
    rows = connection.execute(
        f"{with_clause}SELECT {_COLUMNS} FROM {source}{where} "
        f"ORDER BY {measure} DESC, v.id LIMIT ?",
        [*parameters, *more, *after, query.limit],
    )
    return [record(row) for row in rows]


def search_count(connection: sqlite3.Connection, query: SearchQuery, plan: Plan) -> int:
    """See :meth:`~lineage.store.LineageStore.search_count`."""
    with_clause, source, parameters, rest = _source(query, plan)
    conditions, more = _conditions(query, rest)
    where = "".join(f" AND {condition}" for condition in conditions)
    (count,) = connection.execute(
        f"{with_clause}SELECT count(*) FROM {source}{where}", [*parameters, *more]
    ).fetchone()
    return int(count)


def _ranking_after(key: tuple[int, str] | None) -> list[tuple[str, list[Any]]]:
    """The parts of the ranking by derivatives after ``key`` (all of it for None), in
    order: each a FROM clause with its conditions and ORDER BY, and their parameters."""
    ranked = f"videos AS v INDEXED BY {_RANKED_INDEX} WHERE v.derivative_count > 0"
    by_count = " ORDER BY v.derivative_count DESC, v.id"
    # The partial index holds no video without derivatives: those come next, by id.
    leaves = f"videos AS v INDEXED BY {_ID_INDEX} WHERE v.derivative_count = 0"
    if key is None:
        return [(ranked + by_count, []), (leaves + " ORDER BY v.id", [])]
    count, video_id = key
    if count == 0:
        return [(leaves + " AND v.id > ? ORDER BY v.id", [video_id])]
    return [
        (ranked + " AND v.derivative_count = ? AND v.id > ? ORDER BY v.id", [count, video_id]),
        (ranked + " AND v.derivative_count < ?" + by_count, [count]),
        (leaves + " ORDER BY v.id", []),
    ]


def _walk(
    connection: sqlite3.Connection, query: SearchQuery, budget: int
) -> list[VideoRecord] | None:
    """Walk the order's ranking from ``query.after`` and test each video, in chunks,
    until ``query.limit`` match (or the ranking ends); None past ``budget`` rows."""
    assert query.order in RANKINGS
    conditions, parameters = _conditions(query, query.terms)
    test = " AND ".join(conditions) if conditions else "1"
    select = f"SELECT v.seq, v.derivative_count, v.id, {test} FROM "
    hits: list[int] = []
    walked = 0
    chunk = _WALK_FIRST_CHUNK
    key = query.after
    while True:
        rows: list[tuple[int, int, str, int]] = []
        for source, more in _ranking_after(key):
            rows += connection.execute(
                f"{select}{source} LIMIT ?", [*parameters, *more, chunk - len(rows)]
            ).fetchall()
            if len(rows) == chunk:
                break
        walked += len(rows)
        hits.extend(seq for seq, _, _, hit in rows if hit)
        if len(hits) >= query.limit or len(rows) < chunk:
            break
        if walked >= budget:
            return None
        key = (rows[-1][1], rows[-1][2])
        chunk = min(chunk * 4, _WALK_MAX_CHUNK, max(budget - walked, 1))
    found = _records_by_seq(connection, hits[: query.limit])
    found.sort(key=lambda video: (-measure_of(video, query.order), video.id))
    return found


def _records_by_seq(connection: sqlite3.Connection, seqs: Sequence[int]) -> list[VideoRecord]:
    found: list[VideoRecord] = []
    for start in range(0, len(seqs), CHUNK):
        chunk = list(seqs[start : start + CHUNK])
        rows = connection.execute(
            f"SELECT {RECORD_COLUMNS} FROM videos WHERE seq IN ({','.join('?' * len(chunk))})",
            chunk,
        )
        found.extend(record(row) for row in rows)
    return found


# -- check -------------------------------------------------------------------------------------
def iter_search_texts(connection: sqlite3.Connection) -> Iterator[tuple[str, str]]:
    """(video id, its indexed searchable text) of every video (None: not indexed)."""
    yield from connection.execute(
        "SELECT v.id, p.text || char(10) || coalesce(ti.text, '') || char(10) || "
        "coalesce(cr.text, '') FROM videos AS v "
        "LEFT JOIN search_texts AS p ON p.id = v.prompt_text "
        "LEFT JOIN search_texts AS ti ON ti.id = v.title_text "
        "LEFT JOIN search_texts AS cr ON cr.id = v.creator_text"
    )


def index_mismatches(connection: sqlite3.Connection) -> Iterator[tuple[str, str, object, object]]:
    """Use counts that differ from the fields that hold each text, and a full-text
    index that differs from its texts."""
    counted = connection.execute(
        "WITH used(id) AS (SELECT prompt_text FROM videos WHERE prompt_text IS NOT NULL "
        "UNION ALL SELECT title_text FROM videos WHERE title_text IS NOT NULL "
        "UNION ALL SELECT creator_text FROM videos WHERE creator_text IS NOT NULL), "
        "counts(id, n) AS (SELECT id, count(*) FROM used GROUP BY id) "
        "SELECT t.id, t.uses, coalesce(c.n, 0) FROM search_texts AS t "
        "LEFT JOIN counts AS c ON c.id = t.id "
        "UNION ALL SELECT c.id, NULL, c.n FROM counts AS c "
        "WHERE NOT EXISTS (SELECT 1 FROM search_texts AS t WHERE t.id = c.id)"
    )
    for text_id, uses, count in counted:
        if uses != count:
            yield f"search text {text_id}", "uses", uses, count
    try:
        connection.execute(
            "INSERT INTO search_index (search_index, rank) VALUES ('integrity-check', 1)"
        )
    except sqlite3.DatabaseError as error:
        yield "search_index", "full-text index", f"differs from search_texts ({error})", "the same"
