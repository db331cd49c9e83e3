"""The clock that windows without an explicit ``asOf`` end at.

One function every reader of "now" calls through the module
(``clock.now()``), so tests can move time with ``monkeypatch`` instead of
sleeping, and so the response cache and the resolvers agree on the hour.
"""

from __future__ import annotations

from datetime import UTC, datetime

from lineage.models import hour_of

__all__ = ["current_hour", "now", "seconds_left_in_hour"]


def now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)


def current_hour() -> int:
    """The UTC hour that holds :func:`now`, as hours since the Unix epoch."""
    return hour_of(now())


def seconds_left_in_hour(moment: datetime) -> int:
    """Whole seconds from ``moment`` to the start of the next UTC hour (at least 0)."""
    next_hour = (hour_of(moment) + 1) * 3600
    return max(0, int(next_hour - moment.timestamp()))
