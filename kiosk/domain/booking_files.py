"""Reading the files visits are booked from: CSV rows and iCalendar events.

Shared by the kiosk's appointment import (kiosk.services.appointment_import) and the
office's (kiosk.office.bookings), so both read a file alike. Pure functions: bytes and
parsed calendar components in, values out.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from kiosk.domain.errors import InvalidInput


def read_csv(data: bytes) -> list[dict[str, str]]:
    """The rows of a UTF-8 CSV file (with or without a byte-order mark), keyed by the header's
    column names, which are stripped and lower-cased."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InvalidInput("file", f"is not UTF-8 (byte {err.start})") from err
    reader = csv.DictReader(io.StringIO(text))
    reader.fieldnames = [name.strip().lower() for name in reader.fieldnames or []]
    return [{key: value or "" for key, value in row.items() if key} for row in reader]


def calendar_address(value: Any) -> str:
    """The e-mail address of an iCalendar ORGANIZER or ATTENDEE, without `mailto:`."""
    text = str(value or "").strip()
    return text[7:] if text.lower().startswith("mailto:") else text


def event_times(event: Any, zone: Any) -> tuple[datetime, datetime | None]:
    """A VEVENT's start and end as aware datetimes; floating times are in the site's zone.
    An all-day event is refused: it has no time to be expected at."""
    start = event.decoded("DTSTART") if event.get("DTSTART") else None
    end = event.decoded("DTEND") if event.get("DTEND") else None
    if not isinstance(start, datetime):
        raise InvalidInput("DTSTART", "is missing, or an all-day event, which is not a visit")
    start = start if start.tzinfo else start.replace(tzinfo=zone)
    if isinstance(end, datetime) and end.tzinfo is None:
        end = end.replace(tzinfo=zone)
    return start, end if isinstance(end, datetime) else None
