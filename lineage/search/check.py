"""``lineage check`` for search: the index holds exactly the stored text.

Every stored video's searchable text is recomputed from its prompt, title
and creator (:func:`lineage.search.text.searchable_text`) and compared with
what the store's index holds for it (:meth:`~lineage.store.LineageStore.iter_search_texts`);
the store then checks its index's own bookkeeping
(:meth:`~lineage.store.LineageStore.search_index_mismatches`: SQLite's
full-text index against its table of texts and their use counts, Neo4j's
text index against the property it indexes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lineage.search.text import searchable_text
from lineage.store import LineageStore

if TYPE_CHECKING:
    from lineage.tree.check import Mismatch

__all__ = ["check_search"]


def check_search(store: LineageStore) -> list[Mismatch]:
    """Mismatches between the stored text and the search index.

    Notes
    -----
    Two scans of the store; O(n) memory for n videos (their expected texts).
    """
    from lineage.tree.check import Mismatch

    expected = {row[0]: searchable_text(row[2], row[3], row[4]) for row in store.iter_video_rows()}
    mismatches: list[Mismatch] = []
    for video_id, indexed in store.iter_search_texts():
        wanted = expected.pop(video_id, None)
        if indexed != wanted:
            mismatches.append(Mismatch(video_id, "search text", indexed, wanted))
    mismatches.extend(
        Mismatch(video_id, "search text", None, wanted) for video_id, wanted in expected.items()
    )
    mismatches.extend(
        Mismatch(key, name, stored, wanted)
        for key, name, stored, wanted in store.search_index_mismatches()
    )
    return mismatches
