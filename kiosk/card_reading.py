"""The ID card reader as the touchscreen sees it: cards in, `ui.CardRead` values out.

Built by the composition root (`kiosk.app.KioskServices`) over a `CardReaderLoop`. A card
becomes a `ui.Document` as every other document does: the name, the keyed hash of the
number and its last four characters, and whether it has expired; the rest of the card
(the address was never decoded, the photo never read) goes no further than this module's
local variables. A reader problem is recorded once per episode as a device problem (the
guards' alerts, the office), never with the card's contents.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from kiosk.devices.errors import ReaderProblem
from kiosk.devices.id_reader import CardOutcome, CardReaderLoop
from kiosk.devices.protocols import DeviceEvent, DeviceEventKind
from kiosk.domain.identity import hash_document_number
from kiosk.domain.resident_card import CardProblem, ResidentCard
from kiosk.ui import services as ui

log = logging.getLogger(__name__)

#: A card's problem as the screen words it.
_CARD_PROBLEMS: dict[CardProblem, ui.CardProblemKind] = {
    CardProblem.NOT_TEXT: "misread",
    CardProblem.CONTROL_CHARACTERS: "invalid",
    CardProblem.IMPOSSIBLE_DATE: "invalid",
    CardProblem.CHECK_CHARACTER: "invalid",
    CardProblem.BIRTH_DATE_MISMATCH: "invalid",
    CardProblem.MISSING_FIELD: "invalid",
    CardProblem.UNKNOWN_KIND: "unsupported",
}
_READER_PROBLEMS: dict[ReaderProblem, ui.CardProblemKind] = {
    ReaderProblem.NOT_CONNECTED: "reader",
    ReaderProblem.SAM_FAULT: "reader",
}


def card_document(card: ResidentCard, salt: bytes, today: date) -> ui.Document:
    """What the kiosk keeps of a card, as for any document."""
    return ui.Document(
        name=card.display_name,
        document_hash=hash_document_number(card.number, salt),
        document_last4=card.last_four,
        expired=card.expired(today),
    )


def screen_value(outcome: CardOutcome, salt: bytes, today: date) -> ui.CardRead:
    if outcome.card is not None:
        return ui.CardRead(card_document(outcome.card, salt, today))
    if outcome.rejected is not None:
        return ui.CardRead(None, _CARD_PROBLEMS[outcome.rejected.problem])
    problem = outcome.reader_problem or ReaderProblem.BAD_FRAME
    return ui.CardRead(None, _READER_PROBLEMS.get(problem, "misread"))


class CardReading:
    """Starts and stops the loop for the screens and translates what it reports."""

    def __init__(
        self,
        loop: CardReaderLoop | None,
        *,
        salt: Callable[[], bytes],
        today: Callable[[], date],
        record_problem: Callable[[str], None],
    ) -> None:
        self.loop = loop
        self._salt = salt
        self._today = today
        self._record_problem = record_problem

    @property
    def state(self) -> str:
        """ "off" (none configured), "ok" or "lost"."""
        if self.loop is None:
            return "off"
        return "ok" if self.loop.state.connected else "lost"

    def start(self, on_card: Callable[[ui.CardRead], None]) -> None:
        if self.loop is None:
            return

        def card_laid(outcome: CardOutcome) -> None:
            on_card(screen_value(outcome, self._salt(), self._today()))

        self.loop.start(card_laid, self._on_event)

    def stop(self) -> None:
        if self.loop is not None:
            self.loop.stop()

    def close(self) -> None:
        if self.loop is not None:
            self.loop.close()

    def _on_event(self, event: DeviceEvent) -> None:
        if event.kind is DeviceEventKind.ID_READER_LOST:
            self._record_problem(event.message)
