"""What the screens need from the rest of the kiosk, as protocols.

The composition root (`kiosk.app`) builds the real objects from the configuration and the
engine; tests pass small fakes. Screens call these and nothing below them.
"""

from __future__ import annotations

from typing import Protocol

from kiosk.domain.values import TodaySummary


class WelcomeServices(Protocol):
    """The welcome screen's view of the site and of today's visits.

    `languages` are catalogue names (`zh_Hans`, `zh_Hant`, `en`), first one shown at
    start. `greeting` and `closed_message` return the building's own words in a language
    of `languages`. `today_summary` is called on the UI thread every few seconds, so it
    must return quickly (one small query); an exception is logged and the figures are
    shown as unavailable until the next call succeeds.
    """

    site_name: str
    languages: list[str]

    def greeting(self, language: str) -> str: ...

    def today_summary(self) -> TodaySummary: ...

    def closed_message(self, language: str) -> str: ...
