"""Reminders of waiting parcels and the desk's daily list, on a controlled clock, sent
through apprise to a real SMTP server (aiosmtpd) on loopback, on SQLite and PostgreSQL:
not before the site's sending hour, once a day and never twice for one day, in each
reader's language, the desk told of what it must handle itself, and a failed send tried
again later the same day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from email.header import decode_header, make_header
from zoneinfo import ZoneInfo

import pytest
from conftest import SITE
from deliveries_support import ParcelKiosk, parcel_kiosk
from local_servers import Mailbox, free_port, smtp_server, text_of
from pydantic import SecretStr

from kiosk.domain.clock import ManualClock
from kiosk.office.api import build_office
from kiosk.office.deliveries.models import ParcelHistory, ParcelMail
from kiosk.office.deliveries.reminders import ParcelReminders
from kiosk.office.deliveries.rules import save_rules
from kiosk.office.settings import OfficeSettings, SiteSettings, save_site_settings
from kiosk.office.staff import StaffDirectory
from kiosk.office.store import OfficeStore, open_office_database

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_8AM = datetime(2026, 11, 23, 8, 0, tzinfo=SHANGHAI)


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    with smtp_server(sender="office@tower.test") as box:
        yield box


@pytest.fixture
def store(office_db_url: str) -> Iterator[OfficeStore]:
    store = OfficeStore(open_office_database(office_db_url), clock=ManualClock(MONDAY_8AM))
    yield store
    store.db.close()


def subject(message: object) -> str:
    return str(make_header(decode_header(message["Subject"])))  # type: ignore[index]


class Lobby:
    """A site with hosts, the desk's channel, a kiosk and its parcels."""

    def __init__(self, store: OfficeStore, smtp: Mailbox) -> None:
        self.store, self.smtp = store, smtp
        self.clock: ManualClock = store.clock  # type: ignore[assignment]
        site = store.site(SITE)
        with store.db.connection_context():
            save_site_settings(
                site,
                SiteSettings(timezone="Asia/Shanghai",
                             reception=[SecretStr(smtp.url("desk@tower.test"))]),
                MONDAY_8AM,
            )  # fmt: skip
        self.li = store.add_host(SITE, "李娜", channels=[smtp.url("li.na@tower.test")])
        self.bob = store.add_host(SITE, "Bob Smith", channels=[smtp.url("bob@tower.test")])
        self.gone = store.add_host(SITE, "陈静", channels=[smtp.url("chen@tower.test")])
        store.set_host_active(self.gone.ref, False)
        with store.db.connection_context():
            StaffDirectory(store.db, store.clock).add_user(
                site, "bob", "bob's long password", "host", host_ref=self.bob.ref, language="en"
            )
        self.kiosk: ParcelKiosk = parcel_kiosk(store, SITE)
        # Office's notifier, as `kiosk office serve` builds it: the real apprise sender.
        self.reminders: ParcelReminders = build_office(store, OfficeSettings()).parcel_reminders

    def at(self, moment: datetime) -> None:
        self.clock.set(moment)

    def mails_to(self, address: str) -> list[object]:
        return self.smtp.to(address)


@pytest.fixture
def lobby(store: OfficeStore, smtp: Mailbox) -> Lobby:
    return Lobby(store, smtp)


def test_reminders_and_the_desk_list_once_a_day(lobby: Lobby) -> None:
    sunday = MONDAY_8AM - timedelta(days=1)
    old_li, _ = lobby.kiosk.log(host_ref=lobby.li.ref, at=sunday - timedelta(hours=1), shelf="A-3",
                                pickup_code="482913")  # fmt: skip
    fresh_li, _ = lobby.kiosk.log(host_ref=lobby.li.ref, at=MONDAY_8AM - timedelta(minutes=30),
                                  kind="food", carrier="meituan", pickup_code="771204")  # fmt: skip
    lobby.kiosk.log(
        host_ref=lobby.bob.ref, at=sunday - timedelta(hours=2), carrier="dhl", pickup_code="305518"
    )
    lobby.kiosk.log(host_ref=lobby.gone.ref, at=sunday, carrier="jd")
    lobby.kiosk.log(company="Acme Trading", at=sunday, carrier="zto")

    report = lobby.reminders.tick()  # 08:00: before the sending hour (09:00)
    assert (report.reminders, report.desk_lists, lobby.smtp.messages) == (0, 0, [])

    lobby.at(MONDAY_8AM + timedelta(hours=1, minutes=5))
    report = lobby.reminders.tick()

    assert (report.reminders, report.desk_lists, report.failed) == (2, 1, 0), report.errors
    [li_mail] = lobby.mails_to("li.na@tower.test")
    assert subject(li_mail) == "提醒：您有 1 件快递待领取"
    body = text_of(li_mail)
    assert "482913" in body and "A-3" in body and "顺丰" in body
    assert "771204" not in body  # waiting half an hour: not yet
    [bob_mail] = lobby.mails_to("bob@tower.test")  # his office account reads English
    assert subject(bob_mail) == "Reminder: deliveries waiting for you at the desk (1)"
    assert "Parcel ×1 (DHL)" in text_of(bob_mail) and "pickup code 305518" in text_of(bob_mail)
    assert lobby.mails_to("chen@tower.test") == []  # has left: the desk handles it
    [desk] = lobby.mails_to("desk@tower.test")
    assert subject(desk) == f"{SITE} 前台：5 件快递仍待领取（2026-11-23）"
    desk_text = text_of(desk)
    assert "陈静" in desk_text and "收件人已离职" in desk_text
    assert "Acme Trading" in desk_text
    assert desk_text.index("陈静") < desk_text.index("外卖")  # oldest first

    lobby.at(MONDAY_8AM + timedelta(hours=7))  # the same day, later: nothing again
    again = lobby.reminders.tick()
    assert (again.reminders, again.desk_lists) == (0, 0)
    assert len(lobby.smtp.messages) == 3
    with lobby.store.db.connection_context():
        assert ParcelHistory.select().where(ParcelHistory.action == "reminded").count() == 2

    lobby.kiosk.collect(old_li)
    lobby.at(MONDAY_8AM + timedelta(days=1, hours=1))  # Tuesday 09:00
    tuesday = lobby.reminders.tick()
    assert (tuesday.reminders, tuesday.desk_lists) == (2, 1)
    li_tuesday = lobby.mails_to("li.na@tower.test")[-1]
    assert "771204" in text_of(li_tuesday) and "482913" not in text_of(li_tuesday)
    assert fresh_li  # the food waits on


def test_reminders_every_other_day_and_a_failed_send_retried(
    lobby: Lobby, store: OfficeStore
) -> None:
    with store.db.connection_context():
        save_rules(store.site(SITE), {"remind_every_days": 2, "send_from_hour": 8}, MONDAY_8AM)
    lobby.kiosk.log(host_ref=lobby.li.ref, at=MONDAY_8AM - timedelta(days=2))
    closed_port = f"mailto://127.0.0.1:{free_port()}?mode=insecure&from=office@tower.test"
    down = store.add_host(SITE, "王芳", channels=[closed_port + "&to=wang@tower.test"])
    lobby.kiosk.log(host_ref=down.ref, at=MONDAY_8AM - timedelta(days=2))

    monday = lobby.reminders.tick()
    assert (monday.reminders, monday.failed) == (1, 1) and "host:" in monday.errors[0]
    with store.db.connection_context():
        [row] = ParcelMail.select().where(ParcelMail.audience == f"host:{down.ref}")
        assert (row.status, row.sent_at) == ("failed", None)
    store.add_host(SITE, "王芳", channels=[lobby.smtp.url("wang@tower.test")], ref=down.ref)
    lobby.at(MONDAY_8AM + timedelta(minutes=10))
    assert lobby.reminders.tick().reminders == 0  # too soon to try again
    lobby.at(MONDAY_8AM + timedelta(minutes=31))
    retried = lobby.reminders.tick()
    assert (retried.reminders, retried.failed) == (1, 0)
    assert len(lobby.mails_to("wang@tower.test")) == 1
    lobby.at(MONDAY_8AM + timedelta(days=1))
    assert lobby.reminders.tick().reminders == 0  # reminded yesterday, every other day
    lobby.at(MONDAY_8AM + timedelta(days=2))
    assert lobby.reminders.tick().reminders == 2
    assert len(lobby.mails_to("li.na@tower.test")) == 2
    assert len(lobby.mails_to("desk@tower.test")) == 3  # the desk's list stays daily


def test_the_command_runs_one_round(
    lobby: Lobby, store: OfficeStore, office_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from kiosk.cli import main

    # The command runs on the wall clock: from hour 0 the round is due whatever the hour
    # is when the suite runs (with the default 9 it sent nothing before 09:00 Shanghai).
    with store.db.connection_context():
        save_rules(store.site(SITE), {"send_from_hour": 0}, MONDAY_8AM)
    lobby.kiosk.log(company="Acme", at=MONDAY_8AM - timedelta(days=3))
    assert main(["office", "deliveries", "remind", "--once", "--db", office_db_url, "--json"]) == 0
    assert '"desk_lists": 1' in capsys.readouterr().out
    assert len(lobby.mails_to("desk@tower.test")) == 1
