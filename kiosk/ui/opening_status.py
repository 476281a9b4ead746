"""What the welcome screen's status line says a visitor can do now.

Inside opening hours the kiosk is open to everyone. Outside them, the site's `after_hours`
decides: "open" still admits everyone, walk-ins included, so the line says so and never
says closed; "appointments_only" and "closed" say closed, with the site's own words
(`site.closed_message`) on who may still check in.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.ui.flow import N_


@dataclass(frozen=True)
class OpeningStatus:
    #: Every visitor may check in now (the status is drawn in the "open" colour).
    admits_everyone: bool
    #: The status itself, an English source string.
    label_id: str
    #: The line under it: an English source string, SITE_WORDS, or "" for none.
    note_id: str


#: The note that is the site's own words, its `site.closed_message` (in each language).
SITE_WORDS = "site.closed_message"

OPEN = OpeningStatus(True, N_("Open now"), "")
SELF_SERVICE = OpeningStatus(
    True,
    N_("Check-in open"),
    N_("Reception is not staffed now. Everyone can check in here, with or without an invitation."),
)
CLOSED = OpeningStatus(False, N_("Closed now"), SITE_WORDS)


def opening_status(is_open: bool, after_hours: str) -> OpeningStatus:
    """The status for a site open or not now (its opening hours), by its `after_hours`."""
    if is_open:
        return OPEN
    if after_hours == "open":
        return SELF_SERVICE
    return CLOSED
