"""The in-process write-rate window (api/local_window.py): exact moving window, no threads."""

from __future__ import annotations

import threading

from api.local_window import LocalMovingWindow
from api.ratelimit import WriteRateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_at_most_limit_hits_in_any_window() -> None:
    clock = Clock()
    window = LocalMovingWindow(3, 60, clock)
    assert [window.hit("a") for _ in range(3)] == [None, None, None]
    assert window.hit("a") == 60  # the oldest hit leaves the window in 60 s
    assert window.hit("b") is None  # another token counts apart
    clock.now += 30
    assert window.hit("a") == 30
    clock.now += 30  # the first three hits are now exactly one window old
    assert window.hit("a") is None
    assert window.hit("a") is None
    assert window.hit("a") is None
    assert window.hit("a") == 60


def test_memory_storage_uses_it_and_starts_no_thread_per_write() -> None:
    limiter = WriteRateLimiter("1000/minute")
    assert limiter.local is not None
    before = threading.active_count()
    for _ in range(200):
        assert limiter._hit("token") is None
    assert threading.active_count() <= before
    refused = [limiter._hit("token") for _ in range(801)]
    assert refused[:800] == [None] * 800
    assert refused[800] is not None
