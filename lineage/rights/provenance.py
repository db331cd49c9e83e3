"""``lineage provenance FILE [--check]``: the C2PA manifest store embedded in a file.

The manifest store is read with ``c2pa-python`` (the CAI's c2pa-rs library):
the active manifest's label, its claim generator, the store's validation
state (``Invalid``, ``Valid`` or ``Trusted``) and its ``parentOf``
ingredients, each with the label of its own active manifest.

With ``--check`` the stored video whose ``c2pa_manifest`` is the file's
active manifest is looked up, and the file's ``parentOf`` ingredient is
compared with the video's stored parent: consistent when the parent's
``c2pa_manifest`` is the ingredient's manifest (or, for an original, when
the file names no parent). Exit codes: 0 consistent, 1 not, 2 no manifest
in the file or no stored video with it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lineage.store import LineageStore

__all__ = [
    "EXIT_CONSISTENT",
    "EXIT_INCONSISTENT",
    "EXIT_UNKNOWN",
    "Ingredient",
    "Provenance",
    "ProvenanceError",
    "check_provenance",
    "provenance_command",
    "read_provenance",
]

EXIT_CONSISTENT, EXIT_INCONSISTENT, EXIT_UNKNOWN = 0, 1, 2


class ProvenanceError(Exception):
    """The file cannot be read as a media file with a manifest store."""


@dataclass(frozen=True, slots=True)
class Ingredient:
    """An ingredient of the active manifest."""

    title: str | None
    relationship: str
    manifest: str | None  # the label of the ingredient's own active manifest


@dataclass(frozen=True, slots=True)
class Provenance:
    """What a file's manifest store says about it."""

    active_manifest: str
    claim_generator: str
    validation_state: str | None
    ingredients: list[Ingredient] = field(default_factory=list)

    @property
    def parents(self) -> list[Ingredient]:
        """The ``parentOf`` ingredients (at most one in a valid manifest)."""
        return [
            ingredient for ingredient in self.ingredients if ingredient.relationship == "parentOf"
        ]


def _claim_generator(manifest: dict[str, Any]) -> str:
    generator = manifest.get("claim_generator")
    if isinstance(generator, str) and generator:
        return generator
    parts = []
    for info in manifest.get("claim_generator_info") or ():
        if isinstance(info, dict) and info.get("name"):
            version = info.get("version")
            parts.append(f"{info['name']}/{version}" if version else str(info["name"]))
    return " ".join(parts) or "unknown"


def read_provenance(path: str | Path) -> Provenance | None:
    """The provenance of an image or video file; None when it carries no manifest store.

    Raises
    ------
    ProvenanceError
        If the file is missing or not a media file the library reads.
    """
    import c2pa

    file = Path(path)
    if not file.is_file():
        raise ProvenanceError(f"no such file: {file}")
    try:
        with file.open("rb") as stream:
            reader = c2pa.Reader.try_create(stream)
            if reader is None:
                return None
            with reader:
                store = json.loads(reader.json())
                state = reader.get_validation_state()
    except c2pa.C2paError as error:
        raise ProvenanceError(f"cannot read the C2PA manifest store of {file}: {error}") from error
    label = store.get("active_manifest")
    manifests = store.get("manifests") or {}
    if not isinstance(label, str) or label not in manifests:
        return None
    manifest = manifests[label]
    ingredients = [
        Ingredient(
            title=ingredient.get("title"),
            relationship=str(ingredient.get("relationship") or "componentOf"),
            manifest=ingredient.get("active_manifest"),
        )
        for ingredient in manifest.get("ingredients") or ()
        if isinstance(ingredient, dict)
    ]
    return Provenance(label, _claim_generator(manifest), state, ingredients)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of ``--check``: an exit code and what to say."""

    exit_code: int
    message: str


def check_provenance(provenance: Provenance, store: LineageStore) -> CheckResult:
    """Compare the file's ``parentOf`` ingredient with the stored video's parent."""
    videos = store.find_by_manifest(provenance.active_manifest)
    if not videos:
        return CheckResult(
            EXIT_UNKNOWN, f"no stored video has c2pa_manifest {provenance.active_manifest!r}"
        )
    video = store.get_video(videos[0])
    assert video is not None
    named = [parent.manifest for parent in provenance.parents]
    if video.parent_id is None:
        if not named:
            return CheckResult(
                EXIT_CONSISTENT,
                f"consistent: {video.id} is an original and the file names no parent",
            )
        return CheckResult(
            EXIT_INCONSISTENT,
            f"inconsistent: {video.id} is stored as an original, but the file names a parent "
            f"with manifest {named[0]!r}",
        )
    parent_rights = store.video_rights([video.parent_id]).get(video.parent_id)
    parent_manifest = parent_rights.c2pa_manifest if parent_rights else None
    if parent_manifest is not None and parent_manifest in named:
        return CheckResult(
            EXIT_CONSISTENT,
            f"consistent: {video.id}'s stored parent {video.parent_id} has manifest "
            f"{parent_manifest!r}, the file's parentOf ingredient",
        )
    file_side = (
        f"the file's parentOf ingredient has manifest {named[0]!r}"
        if named
        else ("the file names no parentOf ingredient")
    )
    stored_side = (
        f"its stored parent {video.parent_id} has manifest {parent_manifest!r}"
        if parent_manifest
        else f"its stored parent {video.parent_id} has no c2pa_manifest"
    )
    return CheckResult(EXIT_INCONSISTENT, f"inconsistent: {video.id}: {stored_side}, {file_side}")


def _describe(provenance: Provenance) -> str:
    lines = [
        f"active manifest: {provenance.active_manifest}",
        f"claim generator: {provenance.claim_generator}",
        f"validation state: {provenance.validation_state or 'unknown'}",
    ]
    parents = provenance.parents
    if not parents:
        lines.append("parentOf: none")
    for parent in parents:
        lines.append(
            f"parentOf: {parent.title or '(untitled)'} manifest {parent.manifest or 'none'}"
        )
    return "\n".join(lines)


def provenance_command(file: str, *, check: bool, open_store: Callable[[], LineageStore]) -> int:
    """``lineage provenance FILE [--check]``; returns the exit code."""
    try:
        provenance = read_provenance(file)
    except ProvenanceError as error:
        print(f"lineage provenance: {error}", file=sys.stderr)
        return EXIT_UNKNOWN
    if provenance is None:
        print(f"lineage provenance: {file} carries no C2PA manifest", file=sys.stderr)
        return EXIT_UNKNOWN
    print(_describe(provenance))
    if not check:
        return EXIT_CONSISTENT
    store = open_store()
    try:
        result = check_provenance(provenance, store)
    finally:
        store.close()
    print(result.message, file=sys.stdout if result.exit_code != EXIT_UNKNOWN else sys.stderr)
    return result.exit_code
