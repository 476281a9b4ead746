"""The site's calendar: opening hours, the local day, and how long a badge may last."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from kiosk.config import WEEKDAYS, SiteConfig


class SiteCalendar:
    def __init__(self, site: SiteConfig) -> None:
        self.zone = site.zone
        self._ranges = site.opening_ranges()
        self._days = {WEEKDAYS.index(day) for day in site.open_days}
        self._end_of_day = site.end_of_day_time

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def is_open(self, moment: datetime) -> bool:
        local = self.local(moment)
        if local.weekday() not in self._days:
            return False
        clock = local.time()
        return any(start <= clock < end for start, end in self._ranges)

    def day_bounds(self, moment: datetime) -> tuple[datetime, datetime]:
        """The local calendar day containing `moment`, as UTC [start, end)."""
        local = self.local(moment)
        start = datetime.combine(local.date(), time.min, self.zone)
        end = datetime.combine(local.date() + timedelta(days=1), time.min, self.zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def badge_deadline(self, moment: datetime) -> datetime:
        """No badge outlives the local day it was issued on, so yesterday's badge can never
        pass as today's: the end-of-day time, or midnight for a visit that began after it."""
        local = self.local(moment)
        end_of_day = datetime.combine(local.date(), self._end_of_day, self.zone)
        if local < end_of_day:
            return end_of_day.astimezone(UTC)
        return self.day_bounds(moment)[1] - timedelta(seconds=1)
