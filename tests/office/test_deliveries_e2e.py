"""The deliveries pages end to end in a real Chromium (Playwright drives Debian's
/usr/bin/chromium) against the office served by uvicorn, on PostgreSQL when `make test`
gives one: reception signs in, filters the waiting parcels, opens one and marks it
returned to sender; the change feed then carries its new state and its pickup token's
revocation; a host on a phone, in Chinese, sees only their own parcel.

Screenshots of every step are kept in test-artifacts/office/deliveries-*.png.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import SITE, Office
from deliveries_support import ParcelKiosk, parcel_kiosk
from local_servers import chromium_browser, free_port, served

from kiosk.domain.clock import SystemClock
from kiosk.office.api import create_app
from kiosk.office.deliveries.models import Parcel
from kiosk.office.models import OFFICE_MODELS, ChangeLog
from kiosk.office.settings import OfficeSettings, SiteSettings, save_site_settings
from kiosk.office.staff import StaffDirectory
from kiosk.office.store import OfficeStore, open_office_database

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "office"
PASSWORD = "reception desk 2026"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Chromium comes with `make test` (apt: chromium)"
)


@pytest.fixture
def live_office(tmp_path: Path) -> Iterator[tuple[Office, ParcelKiosk, str]]:
    url = os.environ.get("KIOSK_TEST_POSTGRES_URL") or str(tmp_path / "office.sqlite3")
    store = OfficeStore(open_office_database(url), clock=SystemClock())
    if url.startswith("postgres"):
        with store.db.connection_context():
            tables = ", ".join(f'"{model._meta.table_name}"' for model in OFFICE_MODELS)
            store.db.execute_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    port = free_port()
    settings = OfficeSettings(public_url=f"http://127.0.0.1:{port}", cookie_secure=False)
    with served(create_app(store, settings), port):
        site = store.site(SITE)
        host = store.add_host(SITE, "李娜", email="li.na@example.com", department="行政部")
        with store.db.connection_context():
            save_site_settings(site, SiteSettings(timezone="Asia/Shanghai"), store.clock.now())
            staff = StaffDirectory(store.db, store.clock)
            staff.add_user(site, "wang.fang", PASSWORD, "reception", display_name="Wang Fang")
            staff.add_user(site, "li.na", PASSWORD, "host", host_ref=host.ref,
                           display_name="李娜", language="zh_Hans")  # fmt: skip
        yield Office(store, settings.public_url), parcel_kiosk(store, SITE), host.ref


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium_browser() as chromium:
        yield chromium


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"deliveries-{name}.png"), full_page=True)


def sign_in(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def test_reception_filters_opens_and_returns_a_parcel(live_office: Any, browser: Any) -> None:
    office, kiosk, host_ref = live_office
    now = office.store.clock.now()
    mine, _ = kiosk.log(host_ref=host_ref, carrier="sf", shelf="A-3", at=now - timedelta(days=2),
                        waybill="SF1402345678901")  # fmt: skip
    food, _ = kiosk.log(company="Initech 软件", kind="food", carrier="meituan", items=2,
                        at=now - timedelta(minutes=20))  # fmt: skip
    done, _ = kiosk.log(company="Acme Trading", carrier="jd", at=now - timedelta(hours=5))
    kiosk.collect(done, at=now - timedelta(hours=1), collected_by="Zhang Wei")

    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
    sign_in(page, office.url, "wang.fang")
    page.click("nav a[href='/deliveries']")
    page.wait_for_url(f"{office.url}/deliveries")
    assert page.locator("table.deliveries tbody tr").count() == 3
    shot(page, "list-desktop")

    page.select_option("select[name=carrier]", "meituan")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("table.deliveries tbody tr").count() == 1
    assert "Initech 软件" in page.inner_text("table.deliveries")
    page.click("nav.tabs a:has-text('Collected')")
    page.wait_for_load_state()
    assert page.locator("table.deliveries tbody tr").count() == 0  # the carrier filter stays
    page.goto(f"{office.url}/deliveries?state=waiting")
    assert page.locator("table.deliveries tbody tr").count() == 2
    shot(page, "waiting")

    page.click(f"a[href='/deliveries/{mine}']")
    page.wait_for_url(f"{office.url}/deliveries/{mine}")
    assert "SF1402345678901" in page.inner_text("dl.facts")
    shot(page, "parcel")
    page.click("button:has-text('Mark returned to sender')")
    page.wait_for_url(f"{office.url}/deliveries/{mine}?done=returned")
    assert "Marked returned to sender" in page.inner_text("p.notice")
    assert page.locator("button:has-text('Mark returned to sender')").count() == 0
    shot(page, "returned")

    with office.store.db.connection_context():
        assert Parcel.get(Parcel.ref == mine).state == "returned"
        token = Parcel.get(Parcel.ref == mine).token_id
        feed = {(row.entity, row.ref): json.loads(row.data) for row in ChangeLog.select()}
    assert feed[("parcel", mine)]["state"] == "returned"
    assert feed[("revoked_token", token)]["kind"] == "parcel_pickup"

    page.goto(f"{office.url}/deliveries/report")
    assert page.locator("svg.report-chart").count() == 2
    shot(page, "report")

    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    sign_in(phone, office.url, "li.na")
    phone.goto(f"{office.url}/deliveries")
    assert phone.locator("table.deliveries tbody tr").count() == 1  # only her own
    assert "已退回寄件人" in phone.inner_text("table.deliveries")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(phone, "host-phone-zh")
    phone.click(f"a[href='/deliveries/{mine}']")
    phone.wait_for_url(f"{office.url}/deliveries/{mine}")
    assert "退回寄件人" in phone.inner_text("dl.facts")
    assert phone.locator("form[action$='/return']").count() == 0  # a host returns nothing
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(phone, "host-phone-parcel-zh")
    assert phone.goto(f"{office.url}/deliveries/{food}").status == 404
