"""remix-lineage: the video/remix graph, prompt diffs and exact lineage aggregates.

This package is the domain layer; it never imports the web stack.
"""

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
    "diff_prompts",
]
