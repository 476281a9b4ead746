"""The badge's fixed words and its date, in the visitor's language (en, zh_Hans, zh_Hant).

The badge is paper, not the touchscreen, so its few words live here rather than in the
UI's gettext catalogues; `badge_labels(language)` falls back to English for a language the
badge does not know. Dates: "Fri 14 Mar 2025" in English, "2025年3月14日 周五" in
Simplified and "2025年3月14日 週五" in Traditional Chinese (the weekday as a badge prints
it: short).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class BadgeLabels:
    """Fixed words on the badge and the roll call."""

    host: str = "Host"
    colon: str = ": "  # after "Host"; Chinese writes a full-width colon, no space
    valid_until: str = "VALID UNTIL"
    escort_required: str = "ESCORT REQUIRED"
    visitor: str = "VISITOR"
    roll_call: str = "EVACUATION ROLL CALL"
    on_site: str = "on site"
    arrived: str = "in"


BADGE_WORDS = {
    "en": BadgeLabels(),
    "zh_Hans": BadgeLabels(
        host="接待人",
        colon="：",
        valid_until="有效期至",
        escort_required="须有人陪同",
        visitor="访客",
        roll_call="紧急疏散点名",
        on_site="人在场",
        arrived="到达",
    ),
    "zh_Hant": BadgeLabels(
        host="接待人",
        colon="：",
        valid_until="有效期至",
        escort_required="須有人陪同",
        visitor="訪客",
        roll_call="緊急疏散點名",
        on_site="人在場",
        arrived="到達",
    ),
}
_WEEKDAYS = {
    "zh_Hans": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
    "zh_Hant": ("週一", "週二", "週三", "週四", "週五", "週六", "週日"),
}
_EN_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def badge_labels(language: str) -> BadgeLabels:
    return BADGE_WORDS.get(language, BADGE_WORDS["en"])


def badge_date(moment: datetime, language: str) -> str:
    """The day a badge is valid, as its language writes it (not the C locale's strftime:
    the kiosk's process locale is not the visitor's)."""
    if language in _WEEKDAYS:
        weekday = _WEEKDAYS[language][moment.weekday()]
        return f"{moment.year}年{moment.month}月{moment.day}日 {weekday}"
    month = _EN_MONTHS[moment.month - 1]
    return f"{_EN_WEEKDAYS[moment.weekday()]} {moment.day:02d} {month} {moment.year}"
