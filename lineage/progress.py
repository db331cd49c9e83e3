"""Progress bars for long jobs, shown only on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

__all__ = ["Progress", "progress_bar", "wants_progress"]


class Progress(Protocol):
    def update(self, n: int = 1) -> object: ...


class _Silent:
    def update(self, n: int = 1) -> None:
        return None


def wants_progress() -> bool:
    """Whether standard error is a terminal a person watches."""
    return sys.stderr.isatty()


@contextmanager
def progress_bar(
    total: int | None,
    description: str,
    *,
    enabled: bool,
    unit: str = " videos",
    scaled: bool = True,
) -> Iterator[Progress]:
    """A tqdm bar on standard error when ``enabled``, otherwise a silent stand-in.

    ``scaled`` counts show as ``100k``; small counts read better without it.
    """
    if not enabled:
        yield _Silent()
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=description, unit=unit, unit_scale=scaled, file=sys.stderr) as bar:
        yield bar
