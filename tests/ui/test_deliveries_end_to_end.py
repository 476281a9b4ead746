"""A parcel end to end (issue 20), every part real: the kiosk under Xvfb driven by touch
(tests/ui/delivery_flows.py --site), its label read back from the FakePrinter's bytes by
the independent ESC/POS interpreter (tests/devices/escpos_reader.py), 李娜's e-mail
received by a real SMTP server (aiosmtpd) with the pickup QR attached, the kiosk synced
over HTTP to a real office on PostgreSQL, the office's deliveries page in a real
Chromium (Playwright) showing it waiting, the pickup by the e-mail's QR at the kiosk, and
the page then showing it collected.

Screenshots: test-artifacts/screenshots/deliveries/end-to-end/ (the kiosk's) and
test-artifacts/office/deliveries-e2e-*.png (the office's).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from window import SCREENSHOTS

pytestmark = [pytest.mark.ui, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "office")]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PROGRAM = Path(__file__).with_name("delivery_flows.py")
FLOWS = Path(__file__).with_name("flows.py")
OFFICE_SHOTS = REPO / "test-artifacts" / "office"
PASSWORD = "reception desk 2026"
SITE_NAME = "Riverside Tower"  # flows.py's site


@pytest.fixture
def office_on_postgres() -> Iterator[Any]:
    from local_servers import free_port, served

    from kiosk.domain.clock import SystemClock
    from kiosk.office.api import create_app
    from kiosk.office.models import OFFICE_MODELS
    from kiosk.office.settings import OfficeSettings
    from kiosk.office.store import OfficeStore, open_office_database

    url = os.environ.get("KIOSK_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("PostgreSQL comes with `make test` (scripts/test-postgres.sh start)")
    pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium comes with `make test` (apt: chromium)")
    store = OfficeStore(open_office_database(url), clock=SystemClock())
    with store.db.connection_context():
        tables = ", ".join(f'"{model._meta.table_name}"' for model in OFFICE_MODELS)
        store.db.execute_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    port = free_port()
    settings = OfficeSettings(public_url=f"http://127.0.0.1:{port}", cookie_secure=False)
    with served(create_app(store, settings), port) as office_url:
        yield store, office_url
    store.db.close()


def make_enrolled_site(folder: Path, store: Any, office_url: str) -> None:
    """flows.py's kiosk site, its hosts known to the office under the same refs (as the
    office's directory is the kiosk's source), enrolled with the office."""
    from tests_support import MONDAY_10AM

    from kiosk.app import build_kiosk
    from kiosk.config import load_config
    from kiosk.domain.clock import ManualClock
    from kiosk.office.settings import SiteSettings, save_site_settings
    from kiosk.office.staff import StaffDirectory
    from kiosk.storage.db import open_database
    from kiosk.storage.models import Host
    from kiosk.sync.client import SyncClient

    subprocess.run(
        [sys.executable, str(FLOWS), "--out", str(folder), "--make-site"],
        check=True, stdin=subprocess.DEVNULL, timeout=120,
    )  # fmt: skip
    config = load_config(folder / "kiosk.toml")
    kiosk = build_kiosk(config, open_database(config.database_path), ManualClock(MONDAY_10AM))
    try:
        with kiosk.using():
            hosts = list(Host.select())
        for host in hosts:
            store.add_host(
                SITE_NAME, host.name, email=host.email, department=host.department,
                channels=json.loads(host.channels or "[]"), ref=host.ref,
            )  # fmt: skip
        site = store.site(SITE_NAME)
        with store.db.connection_context():
            save_site_settings(site, SiteSettings(timezone="Asia/Shanghai"), store.clock.now())
            StaffDirectory(store.db, store.clock).add_user(
                site, "wang.fang", PASSWORD, "reception", display_name="Wang Fang"
            )
        SyncClient(kiosk).enroll(office_url, store.enrolment_code(SITE_NAME))
    finally:
        kiosk.close()


def wait_for_file(path: Path, driver: subprocess.Popen[str], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return json.loads(path.read_text())
        if driver.poll() is not None:
            report = path.parent / "report.json"
            detail = report.read_text()[-3000:] if report.exists() else ""
            pytest.fail(f"the kiosk stopped before {path.name}: {detail}")
        time.sleep(0.2)
    pytest.fail(f"no {path.name} within {timeout:.0f} s")


def deliveries_page(page: Any, office_url: str, state: str, name: str) -> str:
    page.goto(f"{office_url}/deliveries?state={state}")
    OFFICE_SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OFFICE_SHOTS / f"deliveries-e2e-{name}.png"), full_page=True)
    table = page.locator("table.deliveries")
    return str(table.inner_text()) if table.count() else ""  # no table: nothing matches


def test_a_parcel_from_the_couriers_touch_to_the_offices_page_and_its_pickup(
    xvfb_display: str, font_cache: Path, tmp_path: Path, office_on_postgres: Any
) -> None:
    from local_servers import chromium_browser

    from kiosk.office.deliveries.models import Parcel

    store, office_url = office_on_postgres
    site = tmp_path / "site"
    make_enrolled_site(site, store, office_url)
    out = SCREENSHOTS / "deliveries" / "end-to-end"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = {**os.environ, "DISPLAY": xvfb_display, "XDG_CACHE_HOME": str(font_cache)}
    env.pop("WAYLAND_DISPLAY", None)
    with (out / "driver.log").open("w") as log:
        driver = subprocess.Popen(
            [sys.executable, str(PROGRAM), "--out", str(out), "--site", str(site),
             "--languages", "en"],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        try:
            [logged] = wait_for_file(out / "logged.json", driver, 240)
            with chromium_browser() as browser:
                page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
                page.goto(f"{office_url}/login")
                page.fill("input[name=username]", "wang.fang")
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(f"{office_url}/")
                waiting = deliveries_page(page, office_url, "waiting", "waiting")
                with store.db.connection_context():  # the kiosk's token, kept while it waits
                    token_at_office = Parcel.get(Parcel.ref == logged["ref"]).pickup_token
                (out / "go").write_text("")
                [collected] = wait_for_file(out / "collected.json", driver, 240)
                collected_page = deliveries_page(page, office_url, "collected", "collected")
                waiting_after = deliveries_page(page, office_url, "waiting", "none-waiting")
            driver.wait(timeout=120)
        finally:
            if driver.poll() is None:
                driver.kill()
    report = json.loads((out / "report.json").read_text())
    assert report.get("ok"), report.get("traceback")

    # The label, read back from the printer's bytes, and 李娜's e-mail carry one token.
    [[label_qr]] = report["printed_qrs"]
    [[subject, mail_qr]] = report["mail"]
    assert logged["pickup_code"] in subject and mail_qr == label_qr == token_at_office
    # The kiosk pushed its events and the office took every delivery event. (flows.py's
    # site also has three invitations' `visit.expected` the office refuses, "payload.state:
    # does not match the event kind": not the deliveries', reported to the lead.)
    assert report["sync_after_logging"][0] >= 2 and report["sync_after_collecting"][0] >= 1
    with sqlite3.connect(site / "data" / "kiosk.sqlite3") as kiosk_db:
        outbox = kiosk_db.execute(
            "SELECT kind, rejected_at IS NOT NULL, sent_at IS NOT NULL FROM outbox_event"
            " WHERE kind LIKE 'delivery.%' ORDER BY id"
        ).fetchall()
    assert outbox == [("delivery.logged", 0, 1), ("delivery.collected", 0, 1)]
    # The office's page: waiting, then collected (by QR, by 李娜).
    assert "李娜" in waiting
    assert "李娜" in collected_page and "collected" in collected_page
    assert waiting_after == ""  # nothing waits any more
    assert collected["state"] == "collected" and collected["method"] == "qr"
    with store.db.connection_context():
        row = Parcel.get(Parcel.ref == logged["ref"])
    assert row.state == "collected" and row.collected_method == "qr"
    assert row.collected_by == "李娜" and row.pickup_token == ""  # no credential kept
