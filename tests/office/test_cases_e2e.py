"""Cases end to end in a real Chromium (Playwright, Debian's /usr/bin/chromium), on the
office as served on loopback (SQLite and PostgreSQL): a kiosk's case arrives by the
signed push; reception assigns it on a desktop; the engineer resolves it on a phone in
Chinese; reception logs a call that becomes a repair in one step; the reports page shows
the month. Screenshots: test-artifacts/office/cases-*.png."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cases_support import opened, opened_payload, push
from conftest import SITE, KioskFactory, Office
from local_servers import chromium_browser

from kiosk.office.api import build_office
from kiosk.office.cases.models import Case, Department
from kiosk.office.settings import SiteSettings, save_site_settings
from kiosk.office.staff import StaffDirectory

pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "office"
PASSWORD = "reception desk 2026"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Chromium comes with `make test` (apt: chromium)"
)


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium_browser() as chromium:
        yield chromium


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"cases-{name}.png"), full_page=True)


def sign_in(page: Any, office: Office, username: str) -> None:
    page.goto(f"{office.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{office.url}/")


def test_a_kiosk_case_assigned_resolved_a_call_made_a_case_and_the_report(
    office: Office, kiosks: KioskFactory, browser: Any
) -> None:
    store = office.store
    site = store.site(SITE)
    parts = build_office(store).cases
    with store.db.connection_context():
        save_site_settings(site, SiteSettings(timezone="Asia/Shanghai"), store.clock.now())
        staff = StaffDirectory(store.db, store.clock)
        staff.add_user(site, "wang.fang", PASSWORD, "reception", display_name="Wang Fang")
        engineer_host = store.add_host(SITE, "刘工", department="工程部")
        engineer = staff.add_user(site, "liu.gong", PASSWORD, "host", host_ref=engineer_host.ref,
                                  display_name="刘工", language="zh_Hans")  # fmt: skip
        parts.desk.join_department(parts.desk.add_department(site, "工程部"), engineer)
        parts.desk.add_department(site, "客服部")
    kiosk, _ = kiosks.new()
    payload = opened_payload(number="R-20261123-K0042")
    assert push(office, kiosk, [opened(payload)])[0]["status"] == "stored"

    # Reception, on a desktop: the list, the case, assign it to 工程部.
    desk = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
    sign_in(desk, office, "wang.fang")
    desk.click("nav >> text=Cases")
    desk.wait_for_url(f"{office.url}/cases")
    assert "R-20261123-K0042" in desk.inner_text("main")
    shot(desk, "1-list")
    desk.click("text=R-20261123-K0042")
    assert "The tap in the kitchen leaks." in desk.inner_text("main")
    desk.select_option("form:has(input[value=assign]) select[name=department]", label="工程部")
    desk.click("form:has(input[value=assign]) button")
    desk.wait_for_load_state()
    assert "Saved." in desk.inner_text("main")
    shot(desk, "2-assigned")

    # The engineer, on a phone in Chinese: start, then resolve with what was done.
    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    sign_in(phone, office, "liu.gong")
    phone.goto(f"{office.url}/cases")
    phone.click("text=R-20261123-K0042")
    assert "指派" not in phone.inner_text("form >> nth=-1")  # only start and resolve for them
    phone.click("form:has(input[value=start]) button")
    phone.wait_for_load_state()
    phone.fill("form:has(input[value=resolve]) input[name=note]", "更换了水龙头阀芯")
    shot(phone, "3-phone-resolve")
    phone.click("form:has(input[value=resolve]) button")
    phone.wait_for_load_state()
    assert "已解决" in phone.inner_text("main")
    shot(phone, "4-phone-resolved")
    with store.db.connection_context():
        case = Case.get(Case.number == "R-20261123-K0042")
        assert (case.state, case.resolution) == ("resolved", "更换了水龙头阀芯")
        assert case.department_id == Department.get(Department.name == "工程部").id

    # Reception logs a call that is a repair: one form, one tap, a case.
    desk.goto(f"{office.url}/calls")
    desk.fill("input[name=caller]", "Mr Chen")
    desk.fill("input[name=unit]", "A-1503")
    desk.fill("textarea[name=subject]", "No hot water since this morning")
    desk.check("input[name=becomes][value=repair]")
    desk.select_option("select[name=category]", "water")
    shot(desk, "5-call")
    desk.click("main form button[type=submit]")
    desk.wait_for_load_state()
    assert "No hot water since this morning" in desk.inner_text("main")
    assert "Mr Chen" in desk.inner_text("main")
    shot(desk, "6-call-case")

    # November's report: the kiosk's case counted, and the follow-up chart.
    desk.goto(f"{office.url}/cases/report?month=2026-11")
    main = desk.inner_text("main")
    assert "Case reports" in main and "R-20261123-K0042" not in main  # resolved: not open
    assert desk.locator("svg.chart").count() == 1
    shot(desk, "7-report")
