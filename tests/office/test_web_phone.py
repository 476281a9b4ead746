"""The demo office (`make office`) on a phone and on a desk, in a real Chromium (issue 22).

At 390x844 the header is one line with a Menu button, which opens without a script, and no
table is wider than the screen: tables become cards. At 1280x800 the menu is on the one line.
Date and time fields are text fields in the page's language, not the browser's date control
(which speaks the browser's language). The demo's visitors have real-looking names.

Screenshots of every page, at both widths and in Chinese and English, are kept in
test-artifacts/screenshots/office-i22/.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from local_servers import chromium_browser, free_port, served

from kiosk.domain.clock import SystemClock
from kiosk.office.api import create_app
from kiosk.office.demo import ON_SITE_NOW, seed_office_demo
from kiosk.office.models import OfficeAppointment
from kiosk.office.settings import OfficeSettings
from kiosk.office.staff import Role, StaffDirectory
from kiosk.office.store import OfficeStore, open_office_database

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots" / "office-i22"
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 800}
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the demo site's zone
PAGES = (
    "/onsite", "/onsite/rollcall", "/appointments", "/appointments/new", "/hosts", "/visits",
    "/watchlist", "/reports", "/users", "/settings",
)  # fmt: skip
#: Who reads which language: the demo's admin reads Simplified Chinese.
READERS = {"zh_Hans": "admin", "en": "desk.en"}
PASSWORD = "phone at the front desk"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Chromium comes with `make test` (apt: chromium)"
)

# What a page measures of itself: the header's height, how far the page and the widest
# table reach past the screen, and whether the menu's links show.
MEASURE = """() => ({
  header: document.querySelector("header").getBoundingClientRect().height,
  overflow: document.documentElement.scrollWidth - window.innerWidth,
  clipped: Math.max(0, ...[...document.querySelectorAll("table")].map(
    t => t.getBoundingClientRect().right - document.documentElement.clientWidth)),
  nav: !!document.querySelector("header nav a").offsetParent,
})"""


@dataclass
class DemoOffice:
    url: str
    store: OfficeStore
    passwords: dict[str, str]


@pytest.fixture(scope="module")
def demo_office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoOffice]:
    """`make office` as it seeds and serves, on SQLite, with a second admin reading English."""
    path = tmp_path_factory.mktemp("demo-office") / "office.sqlite3"
    store = OfficeStore(open_office_database(str(path)), clock=SystemClock())
    demo = seed_office_demo(store, "International Tower")
    assert demo.password
    with store.db.connection_context():
        StaffDirectory(store.db, store.clock).add_user(
            store.site(demo.site), READERS["en"], PASSWORD, Role.ADMIN,
            display_name="Front desk", language="en",
        )  # fmt: skip
    with served(create_app(store, OfficeSettings(cookie_secure=False)), free_port()) as url:
        yield DemoOffice(
            url, store, {READERS["zh_Hans"]: demo.password, READERS["en"]: PASSWORD}
        )
    store.db.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium_browser() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def sessions(browser: Any, demo_office: DemoOffice) -> dict[str, Any]:
    """Each reader signed in once (a sign-in hashes a password: a second each), as the
    cookies a new browser context starts with."""
    states = {}
    for language, username in READERS.items():
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{demo_office.url}/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", demo_office.passwords[username])
        page.click("main button[type=submit]")
        page.wait_for_url(f"{demo_office.url}/")
        states[language] = context.storage_state()
        context.close()
    return states


def signed_in(
    browser: Any, sessions: dict[str, Any], language: str, viewport: dict[str, int], **options: Any
) -> Any:
    """A page of a new context signed in as the reader of `language`, in an English browser
    whatever the account reads: the page's language must win."""
    context = browser.new_context(
        viewport=viewport, locale="en-US", storage_state=sessions[language], **options
    )
    return context.new_page()


def shot(page: Any, name: str, *, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def shot_name(width: int, language: str, path: str) -> str:
    return f"{width}-{language}-{path.strip('/').replace('/', '-')}"


@pytest.mark.parametrize("language", list(READERS))
def test_on_a_phone_the_header_is_one_line_and_every_table_fits(
    browser: Any, demo_office: DemoOffice, sessions: dict[str, Any], language: str
) -> None:
    page = signed_in(browser, sessions, language, PHONE)
    for path in PAGES:
        page.goto(f"{demo_office.url}{path}")
        measured = page.evaluate(MEASURE)
        shot(page, shot_name(PHONE["width"], language, path), full_page=language != "en")
        assert measured["header"] < 80, (path, measured)
        assert measured["overflow"] <= 0 and measured["clipped"] <= 0, (path, measured)
        assert not measured["nav"], (path, "the menu is folded")
        if path in ("/onsite", "/visits"):  # the demo's visitors, by their names
            text = page.inner_text("main")
            assert "Visitor 1" not in text and "Example Ltd" not in text and "Host 0" not in text
            assert path != "/onsite" or all(one.visitor in text for one in ON_SITE_NOW)
    # The Menu button opens the links (a checkbox's label: no script), and they work.
    page.click("label.menu-button")
    assert page.evaluate(MEASURE)["nav"]
    shot(page, shot_name(PHONE["width"], language, "menu-open"))
    page.click("header nav a[href='/hosts']")
    page.wait_for_url(f"{demo_office.url}/hosts")
    page.context.close()


def test_on_a_phone_the_menu_opens_without_a_script(
    browser: Any, demo_office: DemoOffice, sessions: dict[str, Any]
) -> None:
    page = signed_in(browser, sessions, "en", PHONE, java_script_enabled=False)
    page.goto(f"{demo_office.url}/hosts")
    assert not page.is_visible("header nav")
    page.focus("#menu-toggle")
    page.keyboard.press("Space")  # the keyboard opens it too
    assert page.is_visible("header nav a[href='/visits']")
    page.context.close()


def test_on_a_desk_the_menu_is_on_the_one_line(
    browser: Any, demo_office: DemoOffice, sessions: dict[str, Any]
) -> None:
    page = signed_in(browser, sessions, "zh_Hans", DESK)
    for path in PAGES:
        page.goto(f"{demo_office.url}{path}")
        measured = page.evaluate(MEASURE)
        shot(page, shot_name(DESK["width"], "zh_Hans", path), full_page=False)
        assert measured["header"] < 80 and measured["nav"], (path, measured)
        assert measured["overflow"] <= 0 and measured["clipped"] <= 0, (path, measured)
        assert not page.is_visible("label.menu-button")
    page.context.close()


@pytest.mark.parametrize(
    ("language", "lang", "day_hint", "time_hint", "typed_day"),
    [
        ("zh_Hans", "zh-Hans", "年-月-日", "时:分", "{y}年{m}月{d}日"),
        ("en", "en", "YYYY-MM-DD", "HH:MM", "{y}/{m}/{d}"),
    ],
)
def test_date_fields_speak_the_pages_language(
    browser: Any, demo_office: DemoOffice, sessions: dict[str, Any], language: str, lang: str,
    day_hint: str, time_hint: str, typed_day: str,
) -> None:  # fmt: skip
    page = signed_in(browser, sessions, language, PHONE)
    page.goto(f"{demo_office.url}/appointments/new")
    assert page.get_attribute("html", "lang") == lang
    day, start = page.locator("input[name=day]"), page.locator("input[name=start]")
    for field, hint in (
        (day, day_hint),
        (start, time_hint),
        (page.locator("[name=until]"), day_hint),
    ):
        assert field.get_attribute("type") == "text"  # not the browser's "mm/dd/yyyy" control
        assert field.get_attribute("lang") == lang
        assert field.get_attribute("placeholder") == hint
    shot(page, shot_name(PHONE["width"], language, "appointment-form-dates"))
    # What people write is understood: the day as Chinese or English readers write it.
    booked = (datetime.now(SHANGHAI) + timedelta(days=2)).date()
    page.fill("input[name=visitor_name]", f"Date Check {language}")
    page.select_option("select[name=host_ref]", index=1)
    page.fill("input[name=day]", typed_day.format(y=booked.year, m=booked.month, d=booked.day))
    page.fill("input[name=start]", "1430")
    page.click("main form.booking button[type=submit]")
    page.wait_for_url(lambda url: "/appointments?" in url)
    with demo_office.store.db.connection_context():
        made = OfficeAppointment.get(OfficeAppointment.visitor_name == f"Date Check {language}")
    local = made.starts_at.astimezone(SHANGHAI)
    assert (local.date(), local.hour, local.minute) == (booked, 14, 30)
    for path in ("/visits", "/reports", "/appointments"):
        page.goto(f"{demo_office.url}{path}")
        assert page.locator("input[type=date], input[type=time]").count() == 0, path
    page.context.close()
