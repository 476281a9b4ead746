"""The response time a kiosk promises for a case: the site's deadlines, counted from now,
or from reception's next opening when it is closed.

The site's admin sets the deadlines at the office (kiosk.office.cases.site_settings); they
come in the change feed as the entity `case_settings` (ref `deadlines`), are checked here
(`check_deadlines_change`) and kept in the kiosk's KioskState row `case_deadlines`, so an
offline kiosk promises what it last heard. A kiosk that never heard any uses its
`[cases]` configuration, whose defaults are the office's.

After hours (the site's `opening_hours` and `open_days`) a case can still be recorded, but
nobody at the desk will look at it before the desk opens: promising "within 2 hours" at
20:00 would be untrue. So the clock starts at the next opening: a complaint at 20:00 on a
Monday, with 120 minutes, is due at 11:00 on Tuesday. A site with no opening in the next
two weeks (none configured) counts from now."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from kiosk.config import WEEKDAYS, KioskConfig, SiteConfig
from kiosk.config.cases import CASE_KINDS
from kiosk.domain.errors import InvalidInput
from kiosk.domain.records import parse_time
from kiosk.storage.models import KioskState

STATE_KEY = "case_deadlines"
FEED_ENTITY = "case_settings"
TABLES = {"response_minutes": 30 * 24 * 60, "urgent_response_minutes": 30 * 24 * 60,
          "followup_hours": 30 * 24}  # fmt: skip
LOOK_AHEAD_DAYS = 14


def check_deadlines_change(ref: str, data: dict[str, Any]) -> None:
    """InvalidInput naming the field when the office's `case_settings` change is not a
    table of whole numbers for every kind, within bounds."""
    for name, upper in TABLES.items():
        table = data.get(name)
        if not isinstance(table, dict) or set(table) != set(CASE_KINDS):
            raise InvalidInput(f"data.{name}", f"must give each kind ({', '.join(CASE_KINDS)})")
        for kind, value in table.items():
            if type(value) is not int or not 1 <= value <= upper:
                raise InvalidInput(f"data.{name}.{kind}", f"is not a whole number 1..{upper}")
    if parse_time(data.get("updated_at"), "data.updated_at") is None:
        raise InvalidInput("data.updated_at", "is required")


def apply_case_deadlines(items: dict[str, dict[str, Any]]) -> None:
    """Keep the newest checked deadlines (by `updated_at`); call inside the batch's
    transaction."""
    for data in items.values():
        held = stored_deadlines()
        newer = parse_time(data["updated_at"], "updated_at")
        older = parse_time(held.get("updated_at"), "updated_at") if held else None
        if newer is not None and older is not None and newer < older:
            continue
        KioskState.insert(key=STATE_KEY, value=json.dumps(data)).on_conflict_replace().execute()


def stored_deadlines() -> dict[str, Any] | None:
    row = KioskState.get_or_none(KioskState.key == STATE_KEY)
    return json.loads(row.value) if row else None


def response_minutes(config: KioskConfig, kind: str, urgency: str) -> int:
    """The site's minutes to the first response: the office's last word, else `[cases]`."""
    held = stored_deadlines() or {}
    name = "urgent_response_minutes" if urgency == "urgent" else "response_minutes"
    table = held.get(name) or getattr(config.cases, name)
    minutes = table.get(kind) or config.cases.response_minutes.get(kind, 1440)
    return int(minutes)


def next_opening(site: SiteConfig, moment: datetime) -> datetime | None:
    """`moment` itself when reception is open then, else the start of its next opening
    (UTC), or None when there is none in the next two weeks."""
    zone = site.zone
    local = moment.astimezone(zone)
    days = {WEEKDAYS.index(day) for day in site.open_days}
    ranges = sorted(site.opening_ranges())
    for offset in range(LOOK_AHEAD_DAYS + 1):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in days:
            continue
        for start, end in ranges:
            opens = datetime.combine(day, start, zone)
            closes = datetime.combine(day, end, zone)
            if offset == 0 and opens <= local < closes:
                return moment
            if opens > local:
                return opens.astimezone(UTC)
    return None


def promised_response(
    config: KioskConfig, kind: str, urgency: str, opened_at: datetime
) -> tuple[datetime, datetime]:
    """(due, counted from): the site's minutes from now, or from the next opening when
    reception is closed."""
    start = next_opening(config.site, opened_at) or opened_at
    return start + timedelta(minutes=response_minutes(config, kind, urgency)), start
