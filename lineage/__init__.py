"""remix-lineage: the video/remix graph, prompt diffs and exact lineage aggregates.

This package is the domain layer; it never imports the web stack.
"""

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from lineage.diff import diff_prompts
from lineage.errors import (
    ConflictError,
    CycleError,
    InvalidInput,
    LimitExceeded,
    LineageError,
    VideoNotFound,
)
from lineage.models import DiffOp, GenerationCount, PromptDiff, VideoInput, VideoRecord
from lineage.store import LineageStore, VideoOrder

try:
    __version__ = version("remix-lineage")
except PackageNotFoundError:  # imported from a checkout that was never installed
    __version__ = "0+unknown"

if TYPE_CHECKING:
    from lineage.export.graph import to_networkx

__all__ = [
    "ConflictError",
    "CycleError",
    "DiffOp",
    "GenerationCount",
    "InvalidInput",
    "LimitExceeded",
    "LineageError",
    "LineageStore",
    "PromptDiff",
    "VideoInput",
    "VideoNotFound",
    "VideoOrder",
    "VideoRecord",
    "__version__",
    "diff_prompts",
    "to_networkx",
]


def __getattr__(name: str) -> object:
    # networkx loads only when a notebook asks for the bridge.
    if name == "to_networkx":
        from lineage.export.graph import to_networkx

        return to_networkx
    raise AttributeError(f"module 'lineage' has no attribute {name!r}")
