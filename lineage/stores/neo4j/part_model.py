"""What the parts of a large lineage have written, in memory: the planner's reads without
the store.

A lineage too large for one transaction is planned whole by a dry run, then
written in parents-first parts (:mod:`lineage.stores.neo4j.part_pipeline`).
Each part is an ordinary import onto what the parts before it stored; rather
than reading that back from the server (which is busy writing the part
before), :class:`WrittenParts` answers the planner's reads from the dry run:

- stored videos the dry run read (:class:`RecordingView` kept them): their
  records, lineage paths and rights, as the dry run saw them;
- videos of earlier parts: their prompt, parent, generation and original
  come from the dry run's plan, their variant keys from the rows the parts
  sent (or the same diff computed again).

Everything a part plans from these reads is a fact that no other writer can
change once it is stored (an id's prompt, parent, generation, original and
the variant key of its edge), and everything it writes into videos stored
before it (counts, depth, per-generation counts, groups, hour buckets,
views) is an increment, so another writer in the tree between two parts
leaves every aggregate exact. Stored videos named by the input itself (an
update of their title or counters, a status to compare) are the exception:
parts holding them are planned against the store in their own transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from lineage.diff import diff_fields
from lineage.importing.plan import ImportPlan
from lineage.models import VideoRecord
from lineage.rights.policy import VideoRights
from lineage.store import PathNode, ReadView

__all__ = ["ModelMiss", "RecordingView", "WrittenParts"]


class ModelMiss(LookupError):
    """A read the dry run did not make: the part is planned against the store instead."""


class RecordingView:
    """A :class:`~lineage.store.ReadView` that keeps what it read (the dry run's)."""

    def __init__(self, view: ReadView) -> None:
        self.view = view
        self.videos: dict[str, VideoRecord] = {}
        self.paths: dict[str, list[PathNode]] = {}
        self.rights: dict[str, VideoRights] = {}
        # Ids whose rights were asked (those without an entry are active).
        self.rights_asked: set[str] = set()

    @property
    def remixes_vetted(self) -> bool:
        return bool(getattr(self.view, "remixes_vetted", False))

    def get_videos(self, video_ids: Sequence[str]) -> dict[str, VideoRecord]:
        found = self.view.get_videos(video_ids)
        self.videos.update(found)
        return found

    def lineage_path(self, video_id: str) -> list[PathNode]:
        return self.lineage_paths([video_id]).get(video_id, [])

    def lineage_paths(self, video_ids: Sequence[str]) -> dict[str, list[PathNode]]:
        found = self.view.lineage_paths(video_ids)
        self.paths.update(found)
        return found

    def video_rights(self, video_ids: Sequence[str]) -> dict[str, VideoRights]:
        found = self.view.video_rights(video_ids)
        self.rights_asked.update(video_ids)
        self.rights.update(found)
        return found


class WrittenParts:
    """The planner's :class:`~lineage.store.ReadView` of the store as the parts planned
    so far leave it (see the module).

    Parameters
    ----------
    plan : ImportPlan
        The dry run's plan of the whole input; only its new videos' fields,
        parents, generations and originals are kept.
    recorded : RecordingView
        The dry run's reads of the store.
    """

    # Parts are of records a dry run over the whole input accepted.
    remixes_vetted = True

    def __init__(self, plan: ImportPlan, recorded: RecordingView) -> None:
        self._fields = plan.fields
        self._parent_index = plan.parent_index
        self._generation = plan.generation
        self._original_id = plan.original_id
        self._position = {plan.fields[position][0]: position for position in plan.order}
        self._written = bytearray(len(plan.fields))
        self._keys: dict[str, str] = {}
        self._recorded = recorded
        # Planners that lock trees record them here; parts lock theirs in their statement.
        self.locked: set[str] = set()

    @property
    def stored_ids(self) -> set[str]:
        """The ids the dry run found stored."""
        return set(self._recorded.videos)

    def mark_written(self, video_ids: Sequence[str], keys: dict[str, str]) -> None:
        """Count videos as stored (a part planned to write them) with their edges' keys."""
        position = self._position
        for video_id in video_ids:
            at = position.get(video_id)  # stored ids have none
            if at is not None:
                self._written[at] = 1
        self._keys.update(keys)

    def _written_position(self, video_id: str) -> int | None:
        position = self._position.get(video_id)
        if position is None or not self._written[position]:
            return None
        return position

    def _prompt(self, video_id: str) -> str:
        position = self._written_position(video_id)
        if position is not None:
            return self._fields[position][2]
        stored = self._recorded.videos.get(video_id)
        if stored is None:
            raise ModelMiss(video_id)
        return stored.prompt

    def get_videos(self, video_ids: Sequence[str]) -> dict[str, VideoRecord]:
        found: dict[str, VideoRecord] = {}
        stored = self._recorded.videos
        for video_id in video_ids:
            record = stored.get(video_id)
            if record is not None:
                found[video_id] = record
                continue
            position = self._written_position(video_id)
            if position is None:
                continue  # new in this part (or unknown, as the dry run found it)
            # The planner reads a stored parent's prompt and lineage only.
            fields = self._fields[position]
            found[video_id] = VideoRecord.model_construct(
                id=video_id,
                prompt=fields[2],
                parent_id=fields[1],
                generation=self._generation[position],
                original_id=self._original_id[position],
            )
        return found

    def _variant_key(self, position: int) -> str | None:
        video_id, parent_id = self._fields[position][0], self._fields[position][1]
        if parent_id is None:
            return None
        key = self._keys.get(video_id)
        if key is None:
            prompt = self._fields[position][2]
            key = self._keys[video_id] = diff_fields(self._prompt(parent_id), prompt)[1]
        return key

    def lineage_path(self, video_id: str) -> list[PathNode]:
        return self.lineage_paths([video_id]).get(video_id, [])

    def lineage_paths(self, video_ids: Sequence[str]) -> dict[str, list[PathNode]]:
        paths: dict[str, list[PathNode]] = {}
        stored = self._recorded.paths
        for video_id in video_ids:
            path: list[PathNode] = []
            current: str | None = video_id
            while current is not None:
                above = stored.get(current)
                if above is not None:
                    path.extend(above)
                    break
                position = self._written_position(current)
                if position is None:
                    if current == video_id and current not in self._recorded.videos:
                        break  # not stored: no path, as the store would answer
                    raise ModelMiss(current)
                path.append(
                    PathNode(
                        current,
                        self._generation[position],
                        self._original_id[position],
                        self._variant_key(position),
                    )
                )
                current = self._fields[position][1]
            if path:
                paths[video_id] = path
        return paths

    def video_rights(self, video_ids: Sequence[str]) -> dict[str, VideoRights]:
        asked, rights = self._recorded.rights_asked, self._recorded.rights
        found: dict[str, VideoRights] = {}
        for video_id in video_ids:
            if video_id in asked:
                if video_id in rights:
                    found[video_id] = rights[video_id]
            elif self._written_position(video_id) is None:
                raise ModelMiss(video_id)
            # Videos of earlier parts: their states went in with them; the
            # planner asks only about stored lines, which parts here do not hold.
        return found
