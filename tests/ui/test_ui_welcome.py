"""The welcome screen in a real Kivy window on Xvfb, driven by touches.

One driver run per scenario (a process start is ~1.5 s), its report checked here.
Screenshots of each language are kept in test-artifacts/screenshots/.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from fake_services import CLOSED_MESSAGES, GREETINGS, SITE_NAME, FakeWelcomeServices
from glyphs import missing_characters
from window import SCREENSHOTS, run_driver

from kiosk.ui.i18n import ENDONYMS, catalogue, catalogue_path
from kiosk.ui.opening_status import CLOSED, OPEN, SELF_SERVICE, OpeningStatus, opening_status

pytestmark = pytest.mark.ui

LANGUAGES = ["zh_Hans", "zh_Hant", "en"]
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def catalogue_strings(language: str) -> set[str]:
    """The strings of `language`'s catalogue; English may show its source strings as is."""
    with catalogue_path(language, ".po").open("rb") as file:
        messages = [m for m in read_po(file) if m.id]
    strings = {m.string or (m.id if language == "en" else "") for m in messages}
    return {s for s in strings if isinstance(s, str) and s}


def allowed_strings(language: str) -> set[str]:
    return (
        catalogue_strings(language)
        | FakeWelcomeServices().own_words(language)
        | set(ENDONYMS.values())
    )


def png_size(path: str) -> tuple[int, int]:
    with open(path, "rb") as file:
        header = file.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


@pytest.fixture(scope="module")
def open_site(xvfb_display: str, font_cache: Path) -> dict[str, Any]:
    return run_driver(xvfb_display, font_cache, SCREENSHOTS / "open")


def texts(report: dict[str, Any], language: str) -> list[str]:
    return [label["text"] for label in report["languages"][language]["labels"]]


def test_window_opens_and_every_language_is_screenshotted(open_site: dict[str, Any]) -> None:
    assert open_site["ok"], open_site.get("error")
    assert open_site["window_size"] == [1280, 800]
    assert set(open_site["languages"]) == set(LANGUAGES)
    for language, shown in open_site["languages"].items():
        assert shown["app_language"] == language
        assert png_size(shown["screenshot"]) == (1280, 800)
    assert open_site["first_frame_s"] < 10


@pytest.mark.parametrize("language", LANGUAGES)
def test_greeting_and_choices_are_shown(open_site: dict[str, Any], language: str) -> None:
    shown = texts(open_site, language)
    assert GREETINGS[language] in shown
    assert SITE_NAME in shown
    choices = ["I have an invitation", "Scan my ID", "I don't have an appointment", "Check out"]
    assert {catalogue(language).gettext(c) for c in choices} <= set(shown)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_untranslated_string(open_site: dict[str, Any], language: str) -> None:
    allowed = allowed_strings(language)
    strays = [t for t in texts(open_site, language) if t not in allowed and not t.isdigit()]
    assert strays == [], f"not from the {language} catalogue or the services: {strays}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_tofu(open_site: dict[str, Any], language: str) -> None:
    labels = open_site["languages"][language]["labels"]
    assert labels
    tofu = {
        label["text"]: missing_characters(label["font_file"], label["text"])
        for label in labels
        if missing_characters(label["font_file"], label["text"])
    }
    assert tofu == {}


def test_language_buttons_are_large_enough_to_touch(open_site: dict[str, Any]) -> None:
    buttons = [
        label
        for label in open_site["languages"]["en"]["labels"]
        if label["widget"] == "LanguageButton"
    ]
    assert [b["text"] for b in buttons] == ["简体", "繁體", "English"]
    assert all(min(b["size"]) >= 48 for b in buttons)


def test_closed_site_shows_the_closed_message_and_survives_a_broken_summary(
    xvfb_display: str, font_cache: Path
) -> None:
    report = run_driver(
        xvfb_display, font_cache, SCREENSHOTS / "closed-small", "--closed", "--size", "800x480"
    )
    for language in LANGUAGES:
        shown = texts(report, language)
        assert CLOSED_MESSAGES[language] in shown
        assert catalogue(language).gettext("Open now") not in shown
        stray = [t for t in shown if t not in allowed_strings(language) and not t.isdigit()]
        assert stray == []

    broken = run_driver(
        xvfb_display,
        font_cache,
        SCREENSHOTS / "summary-failing",
        "--fail-summary",
        "--languages",
        "en",
    )
    shown = texts(broken, "en")
    assert "Today's figures are unavailable right now." in shown
    assert "Open now" not in shown  # unknown, so not claimed
    assert "today's summary could not be read" in broken["log"]


@pytest.mark.skipif(not DEJAVU.exists(), reason="needs fonts-dejavu-core")
def test_tofu_check_fails_with_a_font_lacking_chinese(xvfb_display: str, font_cache: Path) -> None:
    """The check above must really fail: draw the screen with DejaVu Sans, which has no CJK."""
    report = run_driver(
        xvfb_display,
        font_cache,
        SCREENSHOTS / "tofu-dejavu",
        "--font",
        str(DEJAVU),
        "--languages",
        "zh_Hans,en",
    )
    labels = report["languages"]["zh_Hans"]["labels"]
    assert {label["font_file"] for label in labels} == {str(DEJAVU)}
    missing = {c for label in labels for c in missing_characters(str(DEJAVU), label["text"])}
    assert set("欢迎光临滨江大厦我有邀请码简体") <= missing
    assert missing_characters(str(DEJAVU), "Welcome to Riverside Tower 12") == []


def test_outside_hours_a_site_admitting_everyone_never_says_closed(
    xvfb_display: str, font_cache: Path
) -> None:
    """after_hours = "open": the welcome screen says what a visitor can do now (check in,
    walk-ins too), in every language, and not that reception is closed."""
    report = run_driver(
        xvfb_display,
        font_cache,
        SCREENSHOTS / "closed-but-open",
        "--closed",
        "--after-hours",
        "open",
        "--size",
        "800x480",
    )
    for language in LANGUAGES:
        shown = texts(report, language)
        words = catalogue(language)
        assert words.gettext(SELF_SERVICE.label_id) in shown
        assert words.gettext(SELF_SERVICE.note_id) in shown
        assert words.gettext("Register as a visitor") in shown  # the walk-in's way
        closed_words = {words.gettext("Closed now"), CLOSED_MESSAGES[language]}
        assert closed_words & set(shown) == set()
        assert not any("closed" in text.lower() or "不办公" in text for text in shown)
        stray = [t for t in shown if t not in allowed_strings(language) and not t.isdigit()]
        assert stray == []


@pytest.mark.parametrize(
    ("is_open", "after_hours", "expected"),
    [
        (True, "closed", OPEN),
        (True, "open", OPEN),
        (False, "open", SELF_SERVICE),
        (False, "appointments_only", CLOSED),
        (False, "closed", CLOSED),
    ],
)
def test_the_status_follows_the_hours_and_after_hours(
    is_open: bool, after_hours: str, expected: OpeningStatus
) -> None:
    assert opening_status(is_open, after_hours) == expected


def test_the_kiosk_opens_in_the_palette_staff_chose_last(
    xvfb_display: str, font_cache: Path
) -> None:
    """The services keep the choice (tests/services/test_display_settings.py); the window
    opens in it, and the welcome screen is drawn in its colours (black background)."""
    from PIL import Image

    report = run_driver(
        xvfb_display,
        font_cache,
        SCREENSHOTS / "saved-high-contrast",
        "--saved-theme",
        "high_contrast",
        "--languages",
        "en",
    )
    assert report["theme"] == "high_contrast"
    shot = Image.open(report["languages"]["en"]["screenshot"]).convert("RGB")
    assert shot.getpixel((5, shot.height // 2)) == (0, 0, 0)
