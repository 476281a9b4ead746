"""The ID card reader on the touchscreen: which screens poll it, and what a card does.

The welcome screen and the document screen (`ScanScreen` in mode "id") poll the reader
while they are shown, and only then (`start_polling` on entering, the services'
`stop_card_reader` on leaving). A card laid there starts a check-in with the card's
name, as a scanned licence does: today's appointment for that name, or the walk-in form
with the name filled in and not editable. A card that cannot be read says why, in the
visitor's language, and the reader stays ready for the next try.
"""

from __future__ import annotations

from typing import Any

from kiosk.ui.flow import N_
from kiosk.ui.services import CardRead
from kiosk.ui.widgets import later

#: (title, body) for each CardRead.problem.
CARD_PROBLEMS = {
    "misread": (
        N_("Please lay your ID card flat on the reader and do not move it"),
        N_("Then wait a moment: the kiosk reads it in about a second."),
    ),
    "invalid": (
        N_("This card could not be verified"),
        N_("Please type your ID number instead, or see reception."),
    ),
    "unsupported": (
        N_("This kind of card cannot be read here"),
        N_("Please type your ID number instead, or see reception."),
    ),
    "reader": (
        N_("The card reader is not working"),
        N_("Please type your ID number instead, or see reception."),
    ),
}


def start_polling(screen: Any) -> None:
    """Poll the reader while `screen` is shown; its cards come to `card_laid` on the UI
    thread."""
    screen.services.start_card_reader(lambda read: later(lambda: card_laid(screen, read)))


def card_laid(screen: Any, read: CardRead) -> None:
    manager = screen.manager
    if manager is None or manager.current != screen.name or getattr(screen, "busy", False):
        return  # the screen was left meanwhile
    if screen.name == "scan" and screen.mode != "id":
        return
    app = screen.app
    app.touched()
    if read.document is None:
        screen.show_card_problem(*CARD_PROBLEMS[read.problem or "misread"])
        return
    if screen.name == "welcome":
        app.begin()
    form = app.journey.form
    document = read.document
    form.name = document.name
    form.document_hash = document.document_hash
    form.document_last4 = document.document_last4
    form.document_expired = document.expired
    form.name_from_card = True
    app.find_appointment()
