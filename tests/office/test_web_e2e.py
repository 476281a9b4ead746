"""The office web end to end, in a real Chromium (Playwright drives Debian's /usr/bin/chromium):
reception signs in, adds a host and books a visit; the invitation arrives at a real SMTP
server; the visitor checks in at an enrolled kiosk with the QR from that mail; reception
sees them on the live list; the host answers through the link in their e-mail; the report
shows the response time.

Screenshots of every step are kept in test-artifacts/office/e2e-*.png.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from conftest import SITE, KioskFactory, Office
from local_servers import chromium_browser, free_port, served
from PIL import Image
from test_invitations import Mailbox

from kiosk.app import build_notifier
from kiosk.domain.clock import SystemClock
from kiosk.domain.values import VisitState
from kiosk.office.api import create_app
from kiosk.office.invitations import InvitationMailer
from kiosk.office.models import OFFICE_MODELS
from kiosk.office.settings import OfficeSettings, SiteSettings, save_site_settings
from kiosk.office.staff import StaffDirectory
from kiosk.office.store import OfficeStore, open_office_database
from kiosk.services.checkin import Collected
from kiosk.storage.models import Visit

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "office"
SHANGHAI = ZoneInfo("Asia/Shanghai")
PASSWORD = "reception desk 2026"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Chromium comes with `make test` (apt: chromium)"
)


def wait_for_mail(box: Mailbox, address: str, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in box.messages:
            if address in str(message["To"]):
                return message
        time.sleep(0.05)
    raise AssertionError(f"no mail to {address}; got {[m['To'] for m in box.messages]}")


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(free_port())
    box.start()
    yield box
    box.stop()


@pytest.fixture
def live_office(tmp_path: Path, mailbox: Mailbox) -> Iterator[Office]:
    """The office as `kiosk office serve` runs it, on PostgreSQL when `make test` gives one,
    sending its invitations through the local SMTP server."""
    url = os.environ.get("KIOSK_TEST_POSTGRES_URL") or str(tmp_path / "office.sqlite3")
    store = OfficeStore(open_office_database(url), clock=SystemClock())
    if url.startswith("postgres"):
        with store.db.connection_context():
            tables = ", ".join(f'"{model._meta.table_name}"' for model in OFFICE_MODELS)
            store.db.execute_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    port = free_port()
    settings = OfficeSettings(
        public_url=f"http://127.0.0.1:{port}",
        smtp_url=f"smtp://127.0.0.1:{mailbox.port}",
        mail_from="reception@tower.test",
        cookie_secure=False,
        allow_private_channels=True,  # the mail server is on loopback
    )
    with served(create_app(store, settings), port):
        site = store.site(SITE)
        with store.db.connection_context():
            save_site_settings(
                site,
                SiteSettings(timezone="Asia/Shanghai", address="1 Riverside Road, 18th floor"),
                store.clock.now(),
            )
            StaffDirectory(store.db, store.clock).add_user(
                site, "wang.fang", PASSWORD, "reception", display_name="Wang Fang"
            )
        office = Office(store, settings.public_url)
        office.settings = settings  # type: ignore[attr-defined]
        yield office


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium_browser() as chromium:
        yield chromium


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"e2e-{name}.png"), full_page=True)


def qr_token_of(message: Any) -> str:
    for part in message.walk():
        if part.get_content_type() == "image/png" and part.get_filename():
            image = Image.open(io.BytesIO(part.get_payload(decode=True)))
            [code] = zxingcpp.read_barcodes(image)
            return str(code.text)
    raise AssertionError("the invitation has no QR attachment")


def link_in(message: Any, base: str) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    found = re.findall(rf"{re.escape(base)}\S+", text)
    assert len(found) == 1, text  # one link: "I'm on my way" (no approval needed)
    return str(found[0])


def test_reception_books_a_visit_the_visitor_checks_in_and_the_host_answers_by_link(
    live_office: Office, mailbox: Mailbox, browser: Any, tmp_path: Path
) -> None:
    office = live_office
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")

    # 1. Reception signs in.
    page.goto(f"{office.url}/")
    assert "/login" in page.url
    page.fill("input[name=username]", "wang.fang")
    page.fill("input[name=password]", PASSWORD)
    shot(page, "1-sign-in")
    page.click("button[type=submit]")
    page.wait_for_url(f"{office.url}/")
    assert "Wang Fang" in page.inner_text("header")

    # 2. ... adds a host whose notifications go to the local mail server ...
    host_mail = "li.na@tower.test"
    page.goto(f"{office.url}/hosts/new")
    page.fill("input[name=name]", "李娜")
    page.fill("input[name=department]", "行政部")
    page.fill("input[name=email]", host_mail)
    page.fill(
        "textarea[name=channels]",
        f"mailto://127.0.0.1:{mailbox.port}?mode=insecure&from=kiosk@tower.test&to={host_mail}",
    )
    shot(page, "2-new-host")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "李娜" in page.content()

    # ... and books a visit for now, Shanghai time.
    now = datetime.now(SHANGHAI) + timedelta(minutes=5)
    page.goto(f"{office.url}/appointments/new")
    page.fill("input[name=visitor_name]", "Zhang Wei")
    page.fill("input[name=company]", "Initech")
    page.fill("input[name=email]", "zhang.wei@visitor.test")
    page.select_option("select[name=host_ref]", label="李娜 · 行政部")
    page.fill("input[name=day]", now.strftime("%Y-%m-%d"))
    page.fill("input[name=start]", now.strftime("%H:%M"))
    shot(page, "3-new-appointment")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "Zhang Wei" in page.content()
    shot(page, "4-appointments")

    # 3. The invitation mail arrives, with a QR code.
    InvitationMailer(office.store, office.settings).send_due()  # type: ignore[attr-defined]
    invitation = wait_for_mail(mailbox, "zhang.wei@visitor.test")
    token = qr_token_of(invitation)

    # 4. The visitor checks in at an enrolled kiosk (the engine, headless), which syncs.
    kiosk, client = KioskFactory(tmp_path, office).new(clock=SystemClock())  # type: ignore[arg-type]
    client.run_once(force=True)
    result = kiosk.engine.check_in_with_invitation(token, Collected())
    client.run_once(force=True)

    # 5. Reception sees the visitor on the live list.
    page.goto(f"{office.url}/onsite")
    assert "Zhang Wei" in page.inner_text("main")
    shot(page, "5-on-site")

    # 6. The host's e-mail has an "I'm on my way" link; the host opens it on a phone.
    notifier = build_notifier(kiosk, link_base_url=f"{office.url}/l/")
    notifier.tick()
    host_note = wait_for_mail(mailbox, host_mail)
    link = link_in(host_note, f"{office.url}/l/")
    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    phone.goto(link)
    shot(phone, "6-link-confirm")
    phone.click("main form button[type=submit]")
    phone.wait_for_load_state()
    shot(phone, "7-link-done")
    assert phone.locator("main").inner_text()  # a page, not an error
    client.run_once(force=True)
    with kiosk.db.connection_context():
        visit = Visit.get(Visit.ref == result.visit_ref)
        assert visit.state == VisitState.HOST_ACKNOWLEDGED
        assert visit.host_acknowledged_at is not None

    # 7. The report shows the host's response time.
    page.goto(f"{office.url}/reports?period=day")
    report = page.inner_text("main")
    assert "李娜" in report
    assert "1 answered" in report
    shot(page, "8-report")
    kiosk.close()
