"""An office grown over years (issue 21): the visit log counts its matches only up to a cap,
the indexes `make growth` showed missing are made when the office opens its database (on
SQLite and PostgreSQL), and kiosk.office.growth_seed's bulk visits are what the office's
own pages read, with the indexes they had before the load."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse, urlunparse
from zoneinfo import ZoneInfo

import pytest
from conftest import SITE, WebOffice
from office_visits_support import FakeKiosk, in_shanghai
from tests_support import MONDAY_10AM

from kiosk.office import reporting
from kiosk.office.growth_indexes import INDEXES, POSTGRES_INDEXES, TRIGRAM_INDEXES
from kiosk.office.growth_seed import OfficeShape, host_ref, seed_office
from kiosk.office.models import OfficeAppointment, OfficeHost, OfficeVisit, Site
from kiosk.office.store import open_office_database
from kiosk.office.visit_names import visit_name_key

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_log_says_more_than_the_cap_when_more_visits_match(
    web_office: WebOffice, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_shanghai(web_office.store, web_office.site)
    lobby = FakeKiosk(web_office.store, SITE, "lobby-1")
    for n in range(5):
        lobby.visit(f"Visitor {n}", arrived=MONDAY_10AM - timedelta(minutes=n))
    monkeypatch.setattr(reporting, "LOG_COUNT_CAP", 3)
    client = web_office.as_role("reception")
    assert "More than 3 visits match." in client.get("/visits").text
    assert "1 visits match." in client.get("/visits", params={"q": "Visitor 4"}).text
    with web_office.store.db.connection_context():
        wanted = reporting.VisitFilter()
        assert reporting.visit_log_count(web_office.site.id, wanted, SHANGHAI, 3) == 4
        assert reporting.visit_log_count(web_office.site.id, wanted, SHANGHAI, None) == 5


def _index_names(db: object, table: str) -> set[str]:
    return {index.name for index in db.get_indexes(table)}  # type: ignore[attr-defined]


def test_opening_the_office_makes_the_indexes_years_of_visits_need(office_db_url: str) -> None:
    db = open_office_database(office_db_url)
    with db.connection_context():
        for name, table, _columns, _carried in INDEXES:
            assert name in _index_names(db, table)
        postgres = office_db_url.startswith("postgres")
        for name, table, _method in [*POSTGRES_INDEXES, *TRIGRAM_INDEXES]:
            assert (name in _index_names(db, table)) is postgres
    reopened = open_office_database(office_db_url)  # a second opening changes nothing
    with reopened.connection_context():
        assert all(name in _index_names(reopened, table) for name, table, *_ in INDEXES)


def test_each_appointment_knows_when_its_visitor_came(office_db_url: str) -> None:
    """The reports count no-shows from the appointments alone: intake copies a booked visit's
    arrival onto its appointment, and an office whose appointments predate that copy gets it
    when it opens its database."""
    from kiosk.domain.clock import ManualClock
    from kiosk.office.store import OfficeStore

    store = OfficeStore(open_office_database(office_db_url), clock=ManualClock(MONDAY_10AM))
    site = store.site(SITE)
    in_shanghai(store, site)
    host = store.add_host(SITE, "Maria Schmidt", email="m@example.com")
    lobby = FakeKiosk(store, SITE, "lobby-1")
    start = MONDAY_10AM - timedelta(hours=2)
    came, _absent = (
        store.add_appointment(SITE, visitor_name=name, host_ref=host.ref, starts_at=start,
                              ends_at=start + timedelta(hours=1))
        for name in ("Came", "Absent")
    )  # fmt: skip
    arrived = start + timedelta(minutes=5)
    lobby.visit("Came", arrived=arrived, ref=came.visit_ref, appointment=came.ref,
                method="invitation")  # fmt: skip
    lobby.visit("Came", state="checked_out", arrived=arrived, ref=came.visit_ref,
                left=arrived + timedelta(hours=1))  # fmt: skip

    def kept() -> dict[str, datetime | None]:
        with store.db.connection_context():
            return {a.visitor_name: a.visit_arrived_at for a in OfficeAppointment.select()}

    def no_shows() -> int:
        with store.db.connection_context():
            day = MONDAY_10AM.astimezone(SHANGHAI).date()
            return reporting.build_report(
                site, "day", day, SHANGHAI, MONDAY_10AM
            ).no_show_appointments

    assert kept() == {"Came": arrived, "Absent": None}
    assert no_shows() == 1
    with store.db.connection_context():  # as an office from before the copy left it
        store.db.execute_sql('ALTER TABLE "office_appointment" DROP COLUMN "visit_arrived_at"')
    store.db.close()
    store = OfficeStore(open_office_database(office_db_url), clock=ManualClock(MONDAY_10AM))
    assert kept() == {"Came": arrived, "Absent": None}
    assert no_shows() == 1
    store.db.close()


@pytest.fixture
def growth_database() -> Iterator[str]:
    """A PostgreSQL database of its own on the test server, dropped afterwards."""
    import psycopg

    url = os.environ.get("KIOSK_TEST_POSTGRES_URL")
    if url is None:
        pytest.skip("PostgreSQL comes with `make test` (scripts/test-postgres.sh start)")
    own = urlunparse(urlparse(url)._replace(path="/kiosk_growth_test"))
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute('DROP DATABASE IF EXISTS "kiosk_growth_test" WITH (FORCE)')
        connection.execute('CREATE DATABASE "kiosk_growth_test"')
    try:
        yield own
    finally:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute('DROP DATABASE IF EXISTS "kiosk_growth_test" WITH (FORCE)')


def test_the_bulk_years_are_what_the_pages_read(growth_database: str) -> None:
    shape = OfficeShape(visits=6000, kiosks=12, sites=4, flagship_kiosks=6, hosts_per_site=5)
    end = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    db = open_office_database(growth_database)
    with db.connection_context():
        indexes_before = _index_names(db, "office_visit") | _index_names(db, "office_appointment")
        seeded = seed_office(db, shape, end=end, zone=SHANGHAI)
        assert (
            _index_names(db, "office_visit") | _index_names(db, "office_appointment")
            == indexes_before
        )
        assert seeded.visits == 6000 and len(seeded.site_ids) == 4
        flagship = Site.get_by_id(seeded.site_ids[0])
        per_site = dict(
            db.execute_sql('SELECT "site_id", count(*) FROM "office_visit" GROUP BY 1').fetchall()
        )
        assert per_site[flagship.id] == 3000  # 6 of the 12 kiosks
        visits = list(OfficeVisit.select())
        assert min(v.arrived_at for v in visits if v.arrived_at) > end - timedelta(days=5 * 365)
        assert max(v.updated_at for v in visits) <= end
        named = [v for v in visits if v.visitor_name]
        assert named and all(v.name_key == visit_name_key(v.visitor_name) for v in named)
        assert all(v.arrived_at >= end - timedelta(days=91) for v in named if v.arrived_at)
        assert all(v.anonymised_at and not v.name_key for v in visits if not v.visitor_name)
        hosts = {(h.site_id, h.ref) for h in OfficeHost.select()}
        assert all((v.site_id, v.host_ref) in hosts for v in visits)
        assert host_ref(flagship.id, 0) in {ref for _site, ref in hosts}
        walk_ins = sum(1 for v in visits if v.method == "walk_in")
        assert seeded.appointments == OfficeAppointment.select().count() == 6000 - walk_ins
        states = {v.state for v in visits}
        assert {"checked_out", "denied", "no_show"} <= states
        arrivals = {v.ref: v.arrived_at for v in visits}
        assert all(a.visit_arrived_at == arrivals[a.visit_ref] for a in OfficeAppointment.select())

        day = (end - timedelta(days=200)).astimezone(SHANGHAI).date()
        report = reporting.build_report(flagship, "month", day, SHANGHAI, end)
        assert 0 < report.visits < 3000 and report.response.answered > 0
        rows, cursor = reporting.visit_log_page(flagship.id, reporting.VisitFilter(), SHANGHAI)
        assert len(rows) == reporting.LOG_PAGE_SIZE and cursor
        assert [row.at for row in rows] == sorted((row.at for row in rows), reverse=True)
        wanted = reporting.VisitFilter(query=named[0].visitor_name)
        found, _ = reporting.visit_log_page(named[0].site_id, wanted, SHANGHAI)
        assert named[0].ref in {row.ref for row in found}
    db.close_all()
