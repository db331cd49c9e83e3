"""Lineages as graphs: a networkx ``DiGraph``, and GraphML and GEXF files through it.

:func:`to_networkx` is the bridge for notebooks (also ``lineage.to_networkx``):
nodes are video ids with every export field as attributes
(:func:`~lineage.export.records.export_record`), and each edge goes from a
remix to its parent with its prompt diff. :func:`write_networkx` writes the
same graph as GraphML or GEXF, whose attributes take scalars only (the diff's
ops as a JSON string, missing values left out).
"""

from __future__ import annotations

import json
from typing import IO, Any, Literal

import networkx as nx

from lineage.access.tokens import Role
from lineage.export.records import export_record
from lineage.export.walk import iter_lineage, lineage_size, pages
from lineage.models import VideoRecord
from lineage.progress import progress_bar
from lineage.rights.policy import DEFAULT_RIGHTS, VideoRights
from lineage.rights.visibility import mask_rights, mask_video, visibility
from lineage.store import LineageStore

__all__ = ["to_networkx", "write_networkx"]


def _node_attributes(video: VideoRecord, rights: VideoRights, *, flat: bool) -> dict[str, Any]:
    attributes = export_record(video, rights)
    attributes.pop("id")
    diff = attributes.pop("prompt_diff", None)
    if flat:
        # GraphML and GEXF take scalars only, and no missing values.
        attributes = {key: value for key, value in attributes.items() if value is not None}
        if diff is not None:
            attributes["variant_key"] = diff["variant_key"]
    return attributes


def _edge_attributes(video: VideoRecord, *, flat: bool) -> dict[str, Any]:
    diff = video.prompt_diff
    assert diff is not None
    ops: Any = [{"op": op.op, "before": op.before, "after": op.after} for op in diff.ops]
    if flat:
        ops = json.dumps(ops, ensure_ascii=False)
    return {
        "summary": diff.summary,
        "variant_key": diff.variant_key,
        "similarity": diff.similarity,
        "ops": ops,
    }


def _graph(
    store: LineageStore,
    video_id: str | None,
    *,
    flat: bool,
    progress: bool,
    viewer: Role | None = Role.ADMIN,
) -> nx.DiGraph:
    graph = nx.DiGraph()
    with progress_bar(lineage_size(store, video_id), "reading", enabled=progress) as bar:
        for page in pages(iter_lineage(store, video_id)):
            stored_rights = store.video_rights([video.id for video in page])
            for stored in page:
                own = stored_rights.get(stored.id, DEFAULT_RIGHTS)
                seen = visibility(viewer, own)
                video = mask_video(stored, seen)
                graph.add_node(
                    video.id, **_node_attributes(video, mask_rights(own, seen), flat=flat)
                )
                # Parents come first, except above the subtree's top: no edge there.
                if video.parent_id is not None and video.parent_id in graph:
                    graph.add_edge(video.id, video.parent_id, **_edge_attributes(video, flat=flat))
            bar.update(len(page))
    return graph


def to_networkx(
    store: LineageStore, original_id: str | None = None, *, viewer: Role | None = Role.ADMIN
) -> nx.DiGraph:
    """The lineage as a networkx ``DiGraph``, every attribute included.

    Nodes are video ids with the export fields as attributes (``prompt``,
    ``generation``, ``derivative_count``, ...); each edge goes from a remix to
    its parent and carries the prompt diff (``summary``, ``variant_key``,
    ``similarity``, ``ops``).

    Parameters
    ----------
    store : LineageStore
    original_id : str, optional
        The top of the subtree (any video; usually an original). The whole
        store when None.
    viewer : Role, optional
        Whose view: below ``admin`` a removed video's words are blank
        (:mod:`lineage.rights.visibility`); the default is the operator's.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from lineage.importing.records import SourcedRecord
    >>> from lineage.stores.sqlite import SQLiteStore
    >>> store = SQLiteStore(pathlib.Path(tempfile.mkdtemp()) / "doc.db")
    >>> _ = store.import_videos([
    ...     SourcedRecord({"id": "a", "prompt": "a crocodile in the yard"}),
    ...     SourcedRecord({"id": "b", "prompt": "a hippo in the yard", "parent_id": "a"})])
    >>> graph = to_networkx(store, "a")
    >>> graph.nodes["a"]["derivative_count"], graph.edges["b", "a"]["variant_key"]
    (1, 'crocodile→hippo')

    Notes
    -----
    O(n) time and memory for a lineage of n videos.
    """
    return _graph(store, original_id, flat=False, progress=False, viewer=viewer)


def write_networkx(
    store: LineageStore,
    video_id: str | None,
    stream: IO[bytes],
    file_format: Literal["graphml", "gexf"],
    *,
    progress: bool = False,
    viewer: Role | None = Role.ADMIN,
) -> None:
    graph = _graph(store, video_id, flat=True, progress=progress, viewer=viewer)
    if file_format == "graphml":
        nx.write_graphml(graph, stream, encoding="utf-8")
    else:
        nx.write_gexf(graph, stream, encoding="utf-8")
