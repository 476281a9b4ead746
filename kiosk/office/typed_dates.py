"""Dates and times as staff type them into the office's forms.

The pages ask for dates in plain text fields (YYYY-MM-DD, with the words around them in the
page's language) rather than the browser's date control, whose format follows the browser's
own language, not the page's: a Chinese page in an English browser would say "mm/dd/yyyy".
So what people type is read generously, in the forms a reader of the office's three
languages writes a date or a time:

    2026-12-07, 2026/12/7, 2026.12.07, 20261207, 2026年12月7日  -> 2026-12-07
    14:30, 14.30, 14：30, 1430, 9:05                          -> 14:30, 09:05

Both raise ValueError for anything else, as date.fromisoformat does.
"""

from __future__ import annotations

import re
from datetime import date, time

_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号號]?")
_TIME = re.compile(r"(\d{1,2})\s*[:.：时時h]\s*(\d{2})\s*分?")


def typed_date(text: str) -> date:
    """The day `text` names, year first (the only order the office's languages share)."""
    text = text.strip()
    found = _DATE.fullmatch(text)
    if found is None:
        if re.fullmatch(r"\d{8}", text):
            return date.fromisoformat(text)
        raise ValueError(f"not a date: {text!r}")
    year, month, day = (int(part) for part in found.groups())
    return date(year, month, day)


def typed_time(text: str) -> time:
    """The time of day `text` names, on the 24-hour clock."""
    text = text.strip()
    found = _TIME.fullmatch(text) or re.fullmatch(r"(\d{2})(\d{2})", text)
    if found is None:
        raise ValueError(f"not a time: {text!r}")
    return time(int(found.group(1)), int(found.group(2)))
