"""A WelcomeServices fake: fixed words per language, figures chosen by the test.

`fail_summary` makes today_summary raise, as a broken database would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kiosk.domain.values import TodaySummary

GREETINGS = {
    "zh_Hans": "欢迎光临滨江大厦",
    "zh_Hant": "歡迎光臨濱江大廈",
    "en": "Welcome to Riverside Tower",
}
CLOSED_MESSAGES = {
    "zh_Hans": "前台已下班，请按门铃联系值班保安",
    "zh_Hant": "前台已下班，請按門鈴聯絡值班保安",
    "en": "Reception is closed. Please ring the bell for the guard on duty.",
}
SITE_NAME = "滨江大厦 · Riverside Tower"


@dataclass
class FakeWelcomeServices:
    site_name: str = SITE_NAME
    languages: list[str] = field(default_factory=lambda: ["zh_Hans", "zh_Hant", "en"])
    summary: TodaySummary = field(
        default_factory=lambda: TodaySummary(
            expected=12, on_site=5, checked_out=3, awaiting_host=2, is_open=True
        )
    )
    fail_summary: bool = False
    summary_calls: int = 0
    after_hours: str = "appointments_only"
    idle_timeout_s: float = 60.0
    #: What host_response answers (None: nobody has answered yet); host_response_calls counts.
    response: Any = None
    host_response_calls: int = 0

    #: The welcome screen's card reader callback while it polls (None when stopped).
    on_card: Any = None

    #: The palette staff chose, as the kiosk's database would keep it.
    theme: str = "standard"

    def saved_theme(self) -> str:
        return self.theme

    def save_theme(self, theme: str) -> None:
        self.theme = theme

    def stop_camera(self) -> None:
        pass

    def start_card_reader(self, on_card: Any) -> None:
        self.on_card = on_card

    def stop_card_reader(self) -> None:
        self.on_card = None

    def release_memory(self) -> None:
        pass

    def host_response(self, visit_ref: str) -> Any:
        self.host_response_calls += 1
        return self.response

    def greeting(self, language: str) -> str:
        return GREETINGS[language]

    def closed_message(self, language: str) -> str:
        return CLOSED_MESSAGES[language]

    def today_summary(self) -> TodaySummary:
        self.summary_calls += 1
        if self.fail_summary:
            raise RuntimeError("database is locked")
        return self.summary

    def own_words(self, language: str) -> set[str]:
        """Every string this fake may make the screen show in `language`."""
        return {self.site_name, GREETINGS[language], CLOSED_MESSAGES[language]}


@dataclass
class FakeFormServices(FakeWelcomeServices):
    """What the form screens ask of the services while nothing is typed into them: the
    site's common purposes; searches find nobody; pinyin spells nothing."""

    common_purposes: list[str] = field(
        default_factory=lambda: ["visit_person", "interview", "tour"]
    )

    def search_hosts(self, query: str) -> list[Any]:
        return []

    def find_on_site(self, name: str) -> list[Any]:
        return []

    #: (typed, names) of each pinyin_candidates call: whether the field asked for names.
    pinyin_asked: list[tuple[str, bool]] = field(default_factory=list)

    def pinyin_candidates(
        self, typed: str, script: str, limit: int, names: bool = False
    ) -> list[tuple[str, int]]:
        self.pinyin_asked.append((typed, names))
        return []
