"""Every visitor, guard and admin flow, driven by touches through the real screens.

One run of tests/ui/flows.py (a real engine on a temporary SQLite site, the fake camera
and printer) goes through: invitation, walk-in with approval (pinyin name, agreement
signed, photo, escort), absent host with a message, watchlist, printer failure, guard
(wrong PIN, roll call, forged and valid badges), admin, identity number (match and
no match), check-out by badge and by name with a rating, the idle timeout, the
high-contrast theme (switched on and off on the admin screen) and after hours. Each
screen is screenshotted in every language into test-artifacts/screenshots/flows/.

tests/ui/test_ui_sizes.py runs the flows that show the most screens again at each
touchscreen size, portrait included, and checks that no text is clipped or leaves the
window (screenshots in test-artifacts/screenshots/sizes/WxH/).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from glyphs import missing_characters
from PIL import Image
from window import SCREENSHOTS, run_flows

from kiosk.ui.i18n import ENDONYMS, catalogue_path

pytestmark = pytest.mark.ui

LANGUAGES = ["zh_Hans", "zh_Hant", "en"]
#: Labels that show data (names, typed text, keys, settings), not the UI's own words.
DATA_WIDGETS = {"Cell", "KField", "KeyButton", "CandidateButton", "HostResult", "Star", "PinKey"}
DATA_WORDS = (
    "Zhang Wei|Li Lei|Maria Schmidt|James O'Connor|李娜|刘洋|Anna Eriksson|anna eriksson|"
    "Riverside Tower|ABC|123|OK|●|←|↑|–|\\+|−|[0-9:]+|[a-z' ]+"
)


def templates(language: str) -> list[re.Pattern[str]]:
    with catalogue_path(language, ".po").open("rb") as file:
        messages = [m for m in read_po(file) if m.id]
    patterns = []
    for message in messages:
        text = message.string or (message.id if language == "en" else "")
        if isinstance(text, str) and text:
            pattern = re.escape(text)
            pattern = re.sub(r"\\\{[a-z]+\\\}", f"(?:{DATA_WORDS}|.+)", pattern)
            patterns.append(re.compile(pattern))
    return patterns


@pytest.fixture(scope="module")
def flows(xvfb_display: str, font_cache: Path) -> dict[str, Any]:
    # Every flow in one window: ~200 s on a loaded 2-core machine; the limit is a hang guard.
    return run_flows(
        xvfb_display, font_cache, SCREENSHOTS / "flows", "--details-keyboard", timeout=420
    )


def test_every_flow_ran_to_its_end(flows: dict[str, Any]) -> None:
    assert flows["flows_done"] == [
        "welcome", "invitation", "approval", "absent", "watchlist", "printer",
        "guard", "admin", "identity", "idcard", "checkout", "idle", "after_hours",
    ]  # fmt: skip


def test_an_id_card_laid_on_the_reader(flows: dict[str, Any]) -> None:
    """The simulated reader on its pty, the real driver, the real engine and screens: a
    card that moved is said on the welcome screen, a card laid finds its appointment and
    its badge is printed, and a card without one opens the walk-in form, name fixed."""
    assert flows["idcard_misread"] == [
        "welcome",
        "Please lay your ID card flat on the reader and do not move it",
    ]
    assert flows["idcard_match"] == "Welcome, Anna Eriksson | 李娜 expects you at 14:00."
    assert flows["idcard_polling_off"]  # not polled while the visit goes on
    assert flows["idcard_printed_jobs"] == 1 and "李娜" in flows["idcard_done"]
    assert flows["idcard_document"] == ["0017", True]  # last four and the keyed hash only
    assert flows["idcard_walk_in"] == ["刘洋", True]
    assert flows["idcard_from_scan"] == "陳家明"  # the document screen polls as well


def test_outcomes_on_screen_and_in_the_database(flows: dict[str, Any]) -> None:
    assert flows["invitation_welcome"] == "Welcome, Zhang Wei | Maria Schmidt expects you at 10:30."
    # "Told" only once the notifier has sent it (to the SMTP server on loopback).
    assert flows["invitation_first_said"] in (
        "Telling Maria Schmidt by e-mail…", "Maria Schmidt has been told by e-mail"
    )  # fmt: skip
    assert flows["invitation_done"] == (
        "Maria Schmidt has been told by e-mail | Please take your badge and take a seat."
    )
    assert "maria@example.com" in flows["mail_to"]
    assert flows["typed_name"] == "刘洋" and "刘" in flows["candidates_liu"][:5]
    assert flows["approval_done"].startswith("请稍坐等候")
    # The host's answers, polled by the screen: "on my way", then an approval (badge printed).
    assert flows["host_on_the_way"] == (
        "Maria Schmidt is on the way | Please take a seat. You will be met here."
    )
    assert flows["approval_approved"].startswith("Maria Schmidt已批准您的来访")
    assert flows["name_asked"] == ["Please type your name.", True, "", True]
    assert flows["absent_offer"] == "James O'Connor is not available right now"
    assert flows["watchlist_shown"] == "Please see reception | A member of staff will help you."
    assert "could not be printed" in flows["printer_failed"]
    assert flows["wrong_pin"] == "Wrong PIN. 4 tries left."
    # The guard's list as drawn, before any other touch: the rows and the count agree with
    # the engine's on_site (what `kiosk onsite` prints); a check-out shows by itself.
    assert flows["guard_untouched"] == ["On site now: 3", ["Li Lei", "Zhang Wei", "刘洋"]]
    assert flows["guard_after_checkout"] == ["On site now: 2", ["Li Lei", "Zhang Wei"]]
    # A kiosk without an office has nothing to sync: no row says "not synced".
    assert flows["guard_cells"] == ["10:00", "Li Lei", "Maria Schmidt", "Zhang Wei", "刘洋"]
    assert flows["guard_alerts"] == [["badge_not_printed", "Li Lei"], ["watchlist", "Mallory Bad"]]
    assert flows["guard_alert_lines"] == [
        "Badge not printed: Li Lei", "Watchlist match: Mallory Bad, sent to reception"
    ]  # fmt: skip
    assert flows["roll_call_status"] == "Roll call printed."
    assert flows["verdict_forged"] == [False, "Forged or altered badge"]
    assert flows["verdict_valid"][:2] == ["Li Lei", "Maria Schmidt"]
    assert flows["admin_status"] == "Test page printed."
    # A summary in words, never a secret nor a raw dump; a standalone kiosk says so once.
    settings = flows["admin_settings"]
    assert "Site: Riverside Tower" in settings and "Administrator PIN: set" in settings
    assert "Office: none (this kiosk works on its own)" in settings
    assert "Outside opening hours: invitations and appointments only" in settings
    assert not [line for line in settings if "argon2" in line or "_hash" in line or "=" in line]
    assert flows["admin_device"][0] == "Camera: working"
    assert not [line for line in flows["admin_device"] if "never" in line or "office" in line]
    assert flows["identity_match"].endswith("李娜 expects you at 14:00.")
    assert flows["identity_prefilled"] == "peter pan"
    assert flows["idle_wiped"]
    assert flows["checkout_again"] == "You checked out at 10:00"  # and the rating stays 4
    visits = flows["db"]["visits"]
    assert visits["Zhang Wei"] == {
        "state": "checked_out", "satisfaction": 4, "needs_approval": False, "escort": False
    }  # fmt: skip
    assert visits["Li Lei"]["state"] == "checked_out"  # printer failed: still recorded
    assert visits["刘洋"] == {  # checked out while the guard's list was shown
        "state": "checked_out", "satisfaction": None, "needs_approval": True, "escort": True
    }  # fmt: skip
    assert visits["Mallory Bad"]["state"] == "denied"
    assert flows["db"]["messages"] == 1


def test_the_visitor_is_not_offered_a_level(flows: dict[str, Any]) -> None:
    """The level comes from the appointment, the host or staff: the visitor's screens
    offer none (a walk-in is recorded as ordinary)."""
    levels = {"Visitor level", "VIP", "Senior", "访客级别", "特级", "高级", "訪客級別"}
    shown = {
        label["text"] for shot in flows["shots"] if shot["screen"] == "details"
        for label in shot["labels"]
    }  # fmt: skip
    assert shown and not shown & levels
    assert {"Visit a person", "More…"} <= shown


def test_every_screen_was_shot_in_every_language(flows: dict[str, Any]) -> None:
    shots: dict[str, set[str]] = {}
    for shot in flows["shots"]:
        shots.setdefault(shot["name"], set()).add(shot["language"])
        assert Path(shot["screenshot"]).is_file()
    assert all(languages == set(LANGUAGES) for languages in shots.values()), shots
    screens = {shot["screen"] for shot in flows["shots"]}
    assert screens >= {
        "welcome", "scan", "notice", "visitor", "host", "details", "agreement", "photo",
        "message", "rating", "checkout", "idnumber", "pin", "guard", "verdict",
        "admin",
    }  # fmt: skip


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_tofu_on_any_screen(flows: dict[str, Any], language: str) -> None:
    tofu = {
        (shot["name"], label["text"]): missing_characters(label["font_file"], label["text"])
        for shot in flows["shots"]
        if shot["language"] == language
        for label in shot["labels"]
        if missing_characters(label["font_file"], label["text"])
    }
    assert tofu == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_untranslated_string_on_any_screen(flows: dict[str, Any], language: str) -> None:
    patterns = templates(language)
    data = re.compile(f"(?:{DATA_WORDS})")
    site_words = set(flows["data_words"])
    names = "|".join(re.escape(w) for w in site_words if w)
    strays = set()
    for shot in flows["shots"]:
        if shot["language"] != language or shot["screen"] == "admin":
            continue  # the admin screen lists settings as they are written
        for label in shot["labels"]:
            text = label["text"].strip()
            if label["widget"] in DATA_WIDGETS or text in ENDONYMS.values() or text in site_words:
                continue
            if re.fullmatch(f"(?:{names})(?: · [0-9:]+)?", text) or re.fullmatch("[a-z']+", text):
                continue
            if data.fullmatch(text) and (language == "en" or not re.search("[A-Za-z]{3}", text)):
                continue
            if not any(p.fullmatch(text) for p in patterns):
                strays.add((shot["name"], text))
    assert sorted(strays) == []


def test_touch_targets_are_at_least_48dp(flows: dict[str, Any]) -> None:
    small = {
        (shot["name"], label["text"])
        for shot in flows["shots"]
        for label in shot["labels"]
        if label["widget"] in {"KButton", "Choice", "LanguageButton", "PinKey", "KeyButton"}
        and min(label["size"]) < 48
    }
    assert small == set()


def test_after_hours_shows_the_configured_message_and_path(flows: dict[str, Any]) -> None:
    # The site's own words on the welcome screen, from kiosk.toml's [site.closed_message].
    assert flows["after_hours_closed_message"].startswith("Reception is closed. Visitors with")
    welcome = next(
        s
        for s in flows["shots"]
        if s["name"] == "welcome-after-hours" and s["language"] == "zh_Hans"
    )
    shown = [label["text"] for label in welcome["labels"]]
    assert "前台现在不办公。有预约的访客请出示邀请码，其他访客请联系保安。" in shown
    assert "暂停接待" in shown  # "Closed now"
    # appointments_only: no walk-in, but the way in with an invitation is offered.
    title, body, primary = flows["after_hours_walk_in"]
    assert title == "Reception is closed" and "during opening hours" in body
    assert primary == "I have an invitation"
    assert flows["after_hours_invitation_mode"] == "invitation"
    # closed: only a polite pointer to security, and no way in.
    assert flows["after_hours_closed"] == [
        "Reception is closed", "Please see security at the entrance.", ""
    ]  # fmt: skip


def corner_colour(path: str) -> tuple[int, ...]:
    """The colour of the screen's background, just above its bottom-left corner."""
    with Image.open(path) as image:
        rgb = image.convert("RGB")
        return tuple(rgb.getpixel((4, rgb.height - 4)))


def test_high_contrast_theme_switches_on_and_off(flows: dict[str, Any]) -> None:
    assert flows["theme_switched"] == "high_contrast"
    assert flows["theme_restored"] == "standard"
    shots = {(s["name"], s["language"]): s["screenshot"] for s in flows["shots"]}
    for language in LANGUAGES:
        assert corner_colour(shots["welcome-high-contrast", language]) == (0, 0, 0)
        assert corner_colour(shots["admin-high-contrast", language]) == (0, 0, 0)
        assert min(corner_colour(shots["welcome", language])) > 230  # the calm light one
    # The standard palette is back on screens shown after the switch.
    assert min(corner_colour(shots["scan-id", "en"])) > 230


def outside_or_clipped(shot: dict[str, Any], width: int, height: int) -> list[str]:
    """Labels whose text does not fit their box, or whose box leaves the window."""
    problems = []
    for label in shot["labels"]:
        (text_w, text_h), (box_w, box_h), (x, y) = (
            label["texture_size"], label["size"], label["pos"]
        )  # fmt: skip
        if text_w > box_w + 2 or text_h > box_h + 2:
            problems.append(
                f"{shot['name']}: {label['text']!r} clipped ({text_w}x{text_h} in {box_w:.0f}x{box_h:.0f})"
            )
        outside = x < -1 or y < -1 or x + box_w > width + 1 or y + box_h > height + 1
        if outside and not label["scrolled"]:
            problems.append(f"{shot['name']}: {label['text']!r} outside the window at {x},{y}")
    return problems


def test_the_main_run_fits_its_window(flows: dict[str, Any]) -> None:
    """Every screen of every flow, in every language, at 1280x800: nothing clipped, and
    nothing outside the window (the details form shot with its keyboard open too)."""
    width, height = flows["window_size"]
    assert (width, height) == (1280, 800)
    assert "details-keyboard" in {shot["name"] for shot in flows["shots"]}
    problems = [p for shot in flows["shots"] for p in outside_or_clipped(shot, width, height)]
    assert problems == []


def test_the_touchscreen_process_holds_no_engine_libraries(flows: dict[str, Any]) -> None:
    """The engine runs in a process of its own (kiosk.engine_link): the storage, the
    devices' libraries and the dictionaries stay there, and the engine has no Kivy."""
    engine_only = {
        "peewee", "sqlite3", "cv2", "numpy", "zxingcpp", "pyzbar", "cryptography", "nacl",
        "argon2", "pydantic", "pypinyin", "rapidfuzz", "escpos", "segno", "apprise", "httpx",
        "psycopg",
    }  # fmt: skip
    touchscreen = set(flows["packages"])
    assert touchscreen & engine_only == set()
    assert not {name for name in touchscreen if name.startswith("kiosk.")} - {
        "kiosk.domain", "kiosk.domain.errors", "kiosk.domain.values", "kiosk.engine_link",
        "kiosk.heap", "kiosk.watchdog",
    } - {name for name in touchscreen if name.startswith("kiosk.ui")}  # fmt: skip
    engine = set(flows["engine_packages"])
    assert {"peewee", "cv2", "cryptography"} <= engine
    assert "kivy" not in engine
    assert flows["engine_exit_code"] == 0


def test_at_rest_the_kiosk_keeps_only_the_screens_built_ahead(flows: dict[str, Any]) -> None:
    """The visit's, the staff's and the rarer screens are let go (and collected) at the
    welcome screen, and no picture of what a visitor typed stays in Kivy's caches."""
    from kiosk.ui.screens import KEPT_SCREENS, SCREENS

    assert set(flows["screens_at_rest"]) == KEPT_SCREENS
    # Collected, not only taken off the manager. (A screen let go may still be reachable
    # a while from this harness's own references: the staff's are checked, as they are
    # the heaviest and were last shown long before.)
    staff = {SCREENS[name].__name__ for name in ("pin", "guard", "verdict", "admin")}
    assert staff & set(flows["screens_alive_at_rest"]) == set()
    assert {SCREENS[name].__name__ for name in KEPT_SCREENS} <= set(flows["screens_alive_at_rest"])
    assert flows["typed_text_cached_at_rest"] == 0
    # The guard and the admin screens were built when first shown (their touches timed).
    assert len(flows["touch_built_ms"]) >= 2
