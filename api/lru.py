"""A least-recently-used map bounded by bytes as well as by entries.

Callers say how many bytes each value holds; the map drops the least
recently used values until both bounds hold, and refuses a value larger
than its per-entry share, so one huge answer never evicts everything else.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

__all__ = ["ByteBoundedLRU"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ByteBoundedLRU(Generic[K, V]):
    """Values by key, least recently used dropped first.

    Parameters
    ----------
    max_bytes : int
        The most bytes the values may hold in all (as their :meth:`put` sizes say).
    max_entries : int
        The most values kept.
    max_entry_bytes : int
        A value larger than this is not kept.
    """

    def __init__(self, max_bytes: int, max_entries: int, max_entry_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.max_entry_bytes = min(max_entry_bytes, max_bytes)
        self.bytes = 0
        self._items: OrderedDict[K, tuple[V, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def get(self, key: K) -> V | None:
        """The value under ``key`` (now the most recently used), or None."""
        item = self._items.get(key)
        if item is None:
            return None
        self._items.move_to_end(key)
        return item[0]

    def size_of(self, key: K) -> int:
        """The size ``key``'s value was put with (0 when absent)."""
        item = self._items.get(key)
        return 0 if item is None else item[1]

    def put(self, key: K, value: V, size: int) -> bool:
        """Keep ``value`` under ``key`` if ``size`` is within the per-entry share.

        Whatever ``key`` held before is dropped either way. Returns whether
        the value was kept.
        """
        self.pop(key)
        if size > self.max_entry_bytes or self.max_entries <= 0:
            return False
        self._items[key] = (value, size)
        self.bytes += size
        while self.bytes > self.max_bytes or len(self._items) > self.max_entries:
            _, (_, dropped) = self._items.popitem(last=False)
            self.bytes -= dropped
        return True

    def pop(self, key: K) -> V | None:
        """Drop ``key``'s value; it, or None when there was none."""
        item = self._items.pop(key, None)
        if item is None:
            return None
        self.bytes -= item[1]
        return item[0]
