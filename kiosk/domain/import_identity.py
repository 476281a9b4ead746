"""Who a booking in an imported file is, from one import of the file to the next.

An appointments file (CSV or iCalendar) is often exported again and imported again, at the
kiosk and at the office. Each booking in it gets a key that stays the same across imports,
so that the second import of the same file books nothing twice, and a digest of what the
file says about it, so that an import can tell "unchanged" from "changed":

- an iCalendar event is known by its UID, plus RECURRENCE-ID for one changed occurrence of a
  repeating event (RFC 5545 3.8.4.4), as the same instant however the file writes it;
- a CSV row by the key the file carries (a `key` or `uid` column) when it has one, and else
  by a stable hash of what the row books (who, whom, when): such a row can be recognised
  again, but not followed when it changes, since a changed row is another booking.

The keys are hashes, so the columns that hold them stay short whatever the files' ids look
like, and a key from one kind of source never equals one from another.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any

#: The CSV columns that carry a row's own key, in the order they are looked for.
CSV_KEY_COLUMNS = ("key", "uid")


def _hashed(*parts: object) -> str:
    text = json.dumps([str(part) for part in parts], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def calendar_event_key(uid: str, occurrence: datetime | date | None = None) -> str:
    """The key of a VEVENT: its UID and, for one occurrence of a series, its RECURRENCE-ID
    (an aware time in UTC, so `10:00+08:00` and `02:00Z` are one occurrence). "" without a UID:
    such an event cannot be recognised again."""
    uid = uid.strip()
    if not uid:
        return ""
    moment = ""
    if isinstance(occurrence, datetime) and occurrence.tzinfo is not None:
        moment = occurrence.astimezone(UTC).isoformat()
    elif occurrence is not None:
        moment = occurrence.isoformat()
    # The same text as the office's keys of earlier releases: they stay valid.
    return hashlib.sha256(f"{uid}\n{moment}".encode()).hexdigest()


def event_key(event: Any) -> str:
    """calendar_event_key of an icalendar VEVENT (duck-typed: `.get` and `.decoded`)."""
    occurrence = event.decoded("RECURRENCE-ID") if event.get("RECURRENCE-ID") else None
    return calendar_event_key(str(event.get("UID") or ""), occurrence)


def carried_csv_key(row: dict[str, str]) -> str:
    """The key a CSV row carries itself (see CSV_KEY_COLUMNS), or ""."""
    for column in CSV_KEY_COLUMNS:
        value = (row.get(column) or "").strip()
        if value:
            return _hashed("csv-key", value)
    return ""


def csv_row_key(visitor_name: str, host: str, starts_at: datetime, visitor_email: str = "") -> str:
    """The key of a CSV row without a key of its own: who visits whom, and when. The host is
    named as the file names them (an e-mail address, a name or a ref), case aside."""
    return _hashed(
        "csv-row",
        " ".join(visitor_name.split()).casefold(),
        host.strip().casefold(),
        starts_at.astimezone(UTC).isoformat(),
        visitor_email.strip().casefold(),
    )


def content_digest(*said: object) -> str:
    """A digest of what a file says about one booking: equal while nothing it says changed.
    Times are compared as instants. (The text hashed is the office's of earlier releases, so
    the digests it stored stay comparable.)"""
    plain = [value.timestamp() if isinstance(value, datetime) else value for value in said]
    return hashlib.sha256(json.dumps(plain, ensure_ascii=False).encode()).hexdigest()
