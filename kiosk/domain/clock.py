"""Time as a dependency, so that expiry, opening hours and escalation can be tested."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to; for tests and benchmarks."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(UTC)


def local_time(moment: object, zone: tzinfo | None, pattern: str) -> str | None:
    """`moment` in `zone` as `pattern`, for a list or the roll call; None if it is not a
    time that can be shown. A naive time is taken as UTC, the zone the kiosk stores."""
    if not isinstance(moment, datetime):
        return None
    try:
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        return aware.astimezone(zone).strftime(pattern)
    except (OverflowError, ValueError, OSError):
        return None
