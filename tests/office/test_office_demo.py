"""`make office`: the demo office seeds once, and its admin can sign in and see the reports,
visitors on site now, a visit log of real-looking people, parcels, and two months of cases
and calls in every state (some overdue, one reopened) that the monthly report counts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from kiosk.domain.clock import SystemClock
from kiosk.office.api import build_office, create_app
from kiosk.office.cases.models import Case
from kiosk.office.demo import ON_SITE_NOW, PAST_VISITS, seed_office_demo
from kiosk.office.models import OfficeAppointment, OfficeHost, OfficeVisit
from kiosk.office.settings import OfficeSettings
from kiosk.office.store import OfficeStore, open_office_database


def test_the_demo_office_seeds_once_and_its_admin_sees_the_reports(tmp_path: Path) -> None:
    store = OfficeStore(open_office_database(str(tmp_path / "office.sqlite3")), clock=SystemClock())
    first = seed_office_demo(store, "International Tower")
    again = seed_office_demo(store, "International Tower")

    assert first.password and again.password is None  # printed once, never reset
    assert (first.hosts, again.hosts, again.appointments, again.past_visits) == (6, 0, 0, 0)
    with store.db.connection_context():
        assert OfficeHost.select().where(OfficeHost.email == "li.na@example.com").count() == 1
        assert OfficeAppointment.select().count() >= first.appointments > 0
        assert OfficeVisit.select().count() == PAST_VISITS + len(ON_SITE_NOW)
        names = {visit.visitor_name for visit in OfficeVisit.select()}
        hosts = {host.name for host in OfficeHost.select()}
    assert first.on_site == len(ON_SITE_NOW) and again.on_site == 0
    assert hosts == {"李娜", "王强", "陳美玲", "Maria Schmidt", "James O'Connor", "张伟"}
    chinese = {name for name in names if "\u4e00" <= name[0] <= "\u9fff"}
    assert len(names) > 100 and len(names) / 3 < len(chinese) < len(names)  # a mix
    assert not any(name.startswith("Visitor ") for name in names)

    client = TestClient(create_app(store, OfficeSettings(cookie_secure=False)))
    login = client.get("/login")
    token = login.text.split('name="csrf_token" value="')[1].split('"')[0]
    client.post(
        "/login", data={"username": "admin", "password": first.password, "csrf_token": token}
    )
    report = client.get("/reports", params={"period": "month"})
    assert report.status_code == 200
    assert "报表" in report.text  # the demo admin reads Simplified Chinese
    onsite = client.get("/onsite").text
    assert all(person.visitor in onsite for person in ON_SITE_NOW)
    visits = client.get("/visits").text
    assert "Example Ltd" not in visits and "Host 0" not in visits and "Visitor 1" not in visits
    deliveries = client.get("/deliveries").text  # two months of parcels, some waiting
    assert "快递" in deliveries and "待领取" in deliveries
    assert "共 480 件快递符合条件。" in deliveries
    assert (first.cases, first.calls, again.cases) == (140, first.calls, 0) and first.calls > 40
    cases = client.get("/cases").text  # the desk's list: every state, some overdue
    assert "C-" in cases and "R-" in cases and "逾期" in cases
    with store.db.connection_context():
        site = store.site("International Tower")
        states = {case.state for case in Case.select()}
        numbers = [case.number for case in Case.select()]
        month = (store.clock.now() - timedelta(days=31)).strftime("%Y-%m")
        full = build_office(store).cases.reports.month(site, month, store.clock.now())
    assert states == {"received", "assigned", "in_progress", "resolved", "followed_up",
                      "reopened", "closed"}  # fmt: skip
    assert len(set(numbers)) == len(numbers)
    assert set(full.by_kind) == {"complaint", "repair", "suggestion", "inquiry"}
    assert full.followup_rate is not None and 0.85 < full.followup_rate <= 1
    assert sum(full.satisfaction.values()) >= full.resolved > 30
    monthly = client.get("/cases/report", params={"month": month}).text
    assert "svg" in monthly and "98" in monthly
    assert client.get("/calls").text.count("<tr") > 10
