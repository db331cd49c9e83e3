"""Group commit: concurrent single-video writes into one tree, written as one import.

Writers remixing into the same tree take turns on its lock, one transaction
each; under a viral tree that turn-taking is the limit. A
:class:`GroupCommitter` keeps one writer per tree: the records submitted for
a tree while its previous batch was being committed (a few milliseconds),
plus those arriving within ``window``, are planned and committed as one
(non-atomic) import, and each caller is answered with its own outcome only
after the commit. An idle tree's first record goes at once (``window`` 0):
batching costs a lone writer nothing. A refused record is refused alone: the
planner rejects records one by one, and the others still land.

Writes run in a worker thread (the store's calls block); the committer
itself lives on one asyncio event loop. :meth:`GroupCommitter.remix` also
reads the batch's videos back in that same thread call (one read per
batch instead of one per caller; on a store with ``import_and_read``, in the
import's own last statement), and remembers each video's
tree (a video's original never changes), so a remix of a video seen before
needs no read of its parent to find its tree.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lineage.importing.records import ImportReport, Rejection, SourcedRecord
from lineage.importing.validation import peek_ids
from lineage.models import VideoRecord
from lineage.store import LineageStore

__all__ = ["GroupCommitter"]


@dataclass
class _Pending:
    record: SourcedRecord
    done: asyncio.Future[tuple[ImportReport, VideoRecord | None, VideoRecord | None]]


@dataclass
class _Tree:
    pending: list[_Pending] = field(default_factory=list)
    writer: asyncio.Task[None] | None = None


# Video ids whose tree the committer remembers, at most (then it starts over).
TREES_REMEMBERED = 100_000


class GroupCommitter:
    """Batches single-record imports per tree into one transaction each.

    Parameters
    ----------
    store : LineageStore
    run_blocking : callable
        Runs a blocking call off the event loop and awaits it (e.g.
        ``starlette.concurrency.run_in_threadpool``).
    window : float
        Seconds a batch of a busy tree waits for more records (0: none; it
        still takes everything that arrived while the previous batch of its
        tree was being written). An idle tree's first batch goes at once.
    max_batch : int
        Records per transaction at most; more wait for the next one.
    """

    def __init__(
        self,
        store: LineageStore,
        run_blocking: Callable[..., Any],
        window: float = 0.0,
        max_batch: int = 1000,
    ) -> None:
        self.store = store
        self.run_blocking = run_blocking
        self.window = window
        self.max_batch = max_batch
        self._trees: dict[str, _Tree] = {}
        self._tree_of: dict[str, str] = {}
        self.batches = 0
        self.records = 0

    def tree_of(self, video_id: str) -> str | None:
        """The original id of a stored video seen before (None: not known here)."""
        return self._tree_of.get(video_id)

    def remember(self, video_id: str, original_id: str) -> None:
        """Note a stored video's tree (it never changes)."""
        if len(self._tree_of) >= TREES_REMEMBERED:
            self._tree_of.clear()
        self._tree_of[video_id] = original_id

    async def submit(self, tree: str, record: SourcedRecord) -> ImportReport:
        """Import one record with the others of its tree; its own report, after the commit.

        A rejection in the report carries the record's own source and line.
        """
        return (await self.remix(tree, record))[0]

    async def remix(
        self, tree: str, record: SourcedRecord
    ) -> tuple[ImportReport, VideoRecord | None, VideoRecord | None]:
        """Like :meth:`submit`, with the video and its parent as stored after the commit
        (None if refused; the parent None for an original)."""
        state = self._trees.setdefault(tree, _Tree())
        done: asyncio.Future[tuple[ImportReport, VideoRecord | None, VideoRecord | None]] = (
            asyncio.get_running_loop().create_future()
        )
        state.pending.append(_Pending(record, done))
        if state.writer is None:
            state.writer = asyncio.create_task(self._write(tree, state))
        return await done

    async def _write(self, tree: str, state: _Tree) -> None:
        try:
            wait = 0.0
            while state.pending:
                # Let requests already on the event loop join; only a tree that
                # was busy (records came in while its last batch was written)
                # waits the window for more, so a lone writer never waits.
                await asyncio.sleep(wait)
                wait = self.window
                batch = state.pending[: self.max_batch]
                del state.pending[: len(batch)]
                await self._commit(batch)
        finally:
            state.writer = None
            if not state.pending:
                self._trees.pop(tree, None)

    async def _commit(self, batch: list[_Pending]) -> None:
        # Each record travels under its position in the batch, so the
        # batch's rejections map back to their callers.
        records = [
            SourcedRecord(pending.record.data, "batch", position)
            for position, pending in enumerate(batch, 1)
        ]
        try:
            report, stored = await self.run_blocking(self._import_and_read, records)
        except BaseException as error:
            for pending in batch:
                if not pending.done.done():
                    pending.done.set_exception(error)
            if not isinstance(error, Exception):
                raise
            return
        self.batches += 1
        self.records += len(batch)
        refused = {rejection.line: rejection for rejection in report.rejected}
        for position, pending in enumerate(batch, 1):
            rejection = refused.get(position)
            own = ImportReport()
            if rejection is None:
                # Its own outcome: added, or stored already (updated, unchanged).
                outcome = report.outcome_of("batch", position)
                if outcome == "added":
                    own.added = 1
                else:
                    own.note_stored(pending.record.source, pending.record.line, outcome)
            else:
                own.rejected.append(
                    Rejection(
                        pending.record.source,
                        pending.record.line,
                        rejection.video_id,
                        rejection.code,
                        rejection.reason,
                    )
                )
                own.written = False
            video_id, parent_id = peek_ids(pending.record.data)
            record = stored.get(video_id) if rejection is None and video_id else None
            parent = stored.get(parent_id) if record is not None and parent_id else None
            if record is not None:
                self.remember(record.id, record.original_id)
            if not pending.done.done():
                pending.done.set_result((own, record, parent))

    def _import_and_read(
        self, records: list[SourcedRecord]
    ) -> tuple[ImportReport, dict[str, VideoRecord]]:
        # In the worker thread: the batch's import, then its videos and their
        # parents as stored, read once for every caller (in the import's own
        # transaction where the store can: see import_and_read).
        import_and_read = getattr(self.store, "import_and_read", None)
        if import_and_read is not None:
            answer: tuple[ImportReport, dict[str, VideoRecord]] = import_and_read(records)
            return answer
        report = self.store.import_videos(records)
        refused = {rejection.line for rejection in report.rejected}
        ids = [
            video_id
            for record in records
            if record.line not in refused
            for video_id in peek_ids(record.data)
            if video_id is not None
        ]
        return report, (self.store.get_videos(list(dict.fromkeys(ids))) if ids else {})
