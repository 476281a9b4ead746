"""The touchscreen's look chosen by staff, kept in the kiosk's own database.

The admin screen switches between the standard colours and high contrast; the choice is
a row of `KioskState` (key `ui_theme`), so it is the kiosk's setting, kept across
restarts and updates, not the session's. An unknown stored value (a palette removed
since) reads as the standard colours.
"""

from __future__ import annotations

import logging

from kiosk.domain.errors import InvalidInput
from kiosk.storage.models import KioskState

log = logging.getLogger(__name__)

#: The palettes of kiosk.ui.theme, by name (the touchscreen's module is not imported here).
THEMES = ("standard", "high_contrast")
DEFAULT_THEME = "standard"
_KEY = "ui_theme"


def saved_theme() -> str:
    row = KioskState.get_or_none(KioskState.key == _KEY)
    if row is None:
        return DEFAULT_THEME
    if row.value not in THEMES:
        log.warning("stored theme %r is unknown: the standard colours", row.value)
        return DEFAULT_THEME
    return str(row.value)


def save_theme(theme: str) -> None:
    if theme not in THEMES:
        raise InvalidInput("theme", f"unknown theme {theme!r}")
    KioskState.insert(key=_KEY, value=theme).on_conflict_replace().execute()
