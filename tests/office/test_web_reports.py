"""Reports: who may see them, the figures (the kiosk's definitions) for a day, a week and a
month in the site's zone, the SVG charts, and the time each page takes over a year of
visits on PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import SITE, WebOffice
from office_visits_support import FakeKiosk, in_shanghai
from tests_support import MONDAY_10AM

from kiosk.office import reporting
from kiosk.office.models import Site
from kiosk.office.store import OfficeStore, open_office_database

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_strangers_are_sent_to_sign_in(web_office: WebOffice) -> None:
    assert web_office.client().get("/reports").status_code == 303


@pytest.mark.parametrize(
    ("role", "status"), [("reception", 200), ("admin", 200), ("security", 403), ("host", 403)]
)
def test_who_may_see_reports(web_office: WebOffice, role: str, status: int) -> None:
    assert web_office.as_role(role).get("/reports").status_code == status


def test_a_bad_period_or_day_is_refused_politely(web_office: WebOffice) -> None:
    client = web_office.as_role("reception")
    assert client.get("/reports", params={"period": "year"}).status_code == 400
    assert client.get("/reports", params={"day": "monday"}).status_code == 400


def _week_of_visits(web_office: WebOffice | ReportOffice) -> None:
    """Monday 23 Nov 2026 (and one visit the Sunday before, one a month earlier)."""
    store = web_office.store
    in_shanghai(store, web_office.site)
    legal = store.add_host(SITE, "Maria Schmidt", email="m@example.com", department="Legal")
    sales = store.add_host(SITE, "李娜", email="l@example.com", department="Sales")
    lobby = FakeKiosk(store, SITE, "lobby-1")
    monday = MONDAY_10AM - timedelta(hours=1)
    # Response times 20, 40, 50, 70 and 200 s: median 50, p90 (nearest rank) 200, 3 of 5 in 1 min.
    for n, seconds in enumerate((20, 40, 50, 70, 200)):
        host = legal if n < 3 else sales
        ref = lobby.visit(
            f"Visitor {n}", state="checked_out", arrived=monday + timedelta(minutes=n),
            acknowledged=monday + timedelta(minutes=n, seconds=seconds),
            left=monday + timedelta(hours=1), host=host.ref,
            purpose="interview" if n == 0 else "visit_person",
            level="vip" if n == 4 else "ordinary", method="invitation" if n < 2 else "walk_in",
        )  # fmt: skip
        lobby.rate(ref, 5 - n % 2, monday + timedelta(hours=1))
    lobby.visit("Never answered", arrived=monday, host=sales.ref)
    lobby.visit("Denied", state="denied", arrived=monday, host=sales.ref)
    lobby.visit("Sunday", state="checked_out", arrived=monday - timedelta(days=1),
                left=monday - timedelta(days=1) + timedelta(hours=1))  # fmt: skip
    lobby.visit("Last month", state="checked_out", arrived=monday - timedelta(days=31),
                left=monday - timedelta(days=31) + timedelta(hours=1))  # fmt: skip
    # Two appointments today: one kept (above), one whose time passed with nobody.
    store.add_appointment(
        SITE, visitor_name="Absent Person", host_ref=legal.ref,
        starts_at=monday - timedelta(hours=1), ends_at=monday - timedelta(minutes=30),
    )  # fmt: skip
    store.add_appointment(
        SITE, visitor_name="Later Today", host_ref=legal.ref, starts_at=MONDAY_10AM + timedelta(hours=2)
    )  # fmt: skip
    lobby.visit("Kiosk no-show", state="no_show", arrived=None, at=monday)


@dataclass
class ReportOffice:
    store: OfficeStore
    site: Site


@pytest.fixture
def report_office(office_db_url: str) -> Iterator[ReportOffice]:
    """An office on SQLite and on PostgreSQL, whose reports count in different SQL."""
    from kiosk.domain.clock import ManualClock

    store = OfficeStore(open_office_database(office_db_url), clock=ManualClock(MONDAY_10AM))
    yield ReportOffice(store, store.site(SITE))
    store.db.close()


def test_the_day_report_has_the_kiosks_figures(report_office: ReportOffice) -> None:
    web_office = report_office
    _week_of_visits(web_office)
    with web_office.store.db.connection_context():
        report = reporting.build_report(
            web_office.site, "day", MONDAY_10AM.date(), SHANGHAI, MONDAY_10AM
        )
    assert report.visits == 6 and report.denied == 1
    assert report.by_purpose == {"visit_person": 5, "interview": 1}
    assert report.by_department == {"Sales": 3, "Legal": 3}
    assert report.by_level == {"ordinary": 5, "vip": 1}
    assert report.by_method == {"walk_in": 4, "invitation": 2}
    response = report.response
    assert (response.answered, response.unanswered) == (5, 1)
    assert (response.median_seconds, response.p90_seconds) == (50, 200)
    assert response.within_standard == pytest.approx(0.6)
    hosts = {h.name: h for h in report.by_host}
    assert hosts["Maria Schmidt"].response.median_seconds == 40
    assert hosts["Maria Schmidt"].response.within_standard == 1
    assert hosts["李娜"].visits == 3 and hosts["李娜"].response.answered == 2
    assert hosts["李娜"].response.median_seconds == 135  # (70 + 200) / 2, as statistics.median
    assert report.satisfaction.ratings == 5 and report.satisfaction.average == 4.6
    assert report.satisfaction.distribution == {1: 0, 2: 0, 3: 0, 4: 2, 5: 3}
    assert report.no_show_appointments == 1  # "Later Today" is not over yet
    assert report.no_show_visits == 1
    assert report.per_day == [(MONDAY_10AM.date(), 6)]


def test_response_times_match_their_definitions_for_any_count(office_db_url: str) -> None:
    """Medians of odd and even counts, the nearest-rank p90 and the share within a minute,
    overall and per host: each backend's SQL (PostgreSQL's percentile aggregates, SQLite's
    windows) against statistics.median and the rank ceil(0.9 n) over the same times."""
    import math
    import random
    import statistics

    from kiosk.domain.clock import ManualClock

    store = OfficeStore(open_office_database(office_db_url), clock=ManualClock(MONDAY_10AM))
    site = store.site(SITE)
    in_shanghai(store, site)
    hosts = [store.add_host(SITE, f"Host {n}", email=f"h{n}@example.com") for n in range(4)]
    lobby = FakeKiosk(store, SITE, "lobby-1")
    monday = MONDAY_10AM - timedelta(hours=1)
    # Distinct times (so that a wrong rank shows), the standard's edge among them.
    all_times = [60, *random.Random(7).sample([s for s in range(1, 900) if s != 60], 39)]
    random.Random(8).shuffle(all_times)
    times: dict[str, list[int]] = {host.ref: [] for host in hosts}
    for n, host in enumerate(
        host for host, count in zip(hosts, (1, 2, 7, 30), strict=True) for _ in range(count)
    ):
        seconds = all_times[n]
        times[host.ref].append(seconds)
        lobby.visit(
            f"Visitor {n}", arrived=monday + timedelta(seconds=n),
            acknowledged=monday + timedelta(seconds=n + seconds), host=host.ref,
        )  # fmt: skip
    with store.db.connection_context():
        report = reporting.build_report(site, "day", MONDAY_10AM.date(), SHANGHAI, MONDAY_10AM)
    store.db.close()

    def expected(values: list[int]) -> tuple[int, float, float, float]:
        ranked = sorted(values)
        p90 = ranked[math.ceil(0.9 * len(ranked)) - 1]
        within = sum(v <= 60 for v in ranked) / len(ranked)
        return len(ranked), statistics.median(ranked), p90, within

    def measured(response: object) -> tuple[int, float, float, float]:
        return (
            response.answered, response.median_seconds,  # type: ignore[attr-defined]
            response.p90_seconds, response.within_standard,  # type: ignore[attr-defined]
        )  # fmt: skip

    assert measured(report.response) == pytest.approx(
        expected([v for values in times.values() for v in values])
    )
    for figures in report.by_host:
        assert measured(figures.response) == pytest.approx(expected(times[figures.host_ref]))


def test_weeks_and_months_follow_the_site_calendar(report_office: ReportOffice) -> None:
    web_office = report_office
    _week_of_visits(web_office)
    with web_office.store.db.connection_context():
        week = reporting.build_report(
            web_office.site, "week", MONDAY_10AM.date(), SHANGHAI, MONDAY_10AM
        )
        month = reporting.build_report(
            web_office.site, "month", MONDAY_10AM.date(), SHANGHAI, MONDAY_10AM
        )
    assert (week.first_day, week.last_day) == (date(2026, 11, 23), date(2026, 11, 29))
    assert week.visits == 6  # Sunday the 22nd is the week before
    assert (month.first_day, month.last_day) == (date(2026, 11, 1), date(2026, 11, 30))
    assert month.visits == 7 and len(month.per_day) == 30
    assert dict(month.per_day)[date(2026, 11, 22)] == 1


def test_the_report_page_draws_its_charts(web_office: WebOffice) -> None:
    _week_of_visits(web_office)
    client = web_office.as_role("reception")
    for period in ("day", "week", "month"):
        page = client.get("/reports", params={"period": period, "day": "2026-11-23"})
        assert page.status_code == 200
        text = page.text
        assert text.count('<svg class="chart report-chart"') == 8
        assert 'class="target"' in text  # the dashed 1-minute line
        assert "Legal" in text and "李娜" in text and "interview" in text
        assert "<script" not in text and "style=" not in text
    assert "2026-11-23 – 2026-11-29" in client.get("/reports").text  # this week by default


def test_charts_escape_their_labels() -> None:
    from kiosk.office.charts import bar_chart, column_chart

    svg = str(bar_chart("T", [("<b>x</b>", 3)], target=60, target_label="1 min"))
    assert "<b>" not in svg and "&lt;b&gt;" in svg and 'class="target"' in svg
    assert str(column_chart("Per day", [("1", 0), ("2", 5)])).count('class="bar"') == 2


# ---------------------------------------------------------------- a year on PostgreSQL


@pytest.fixture
def year_on_postgres() -> OfficeStore:
    url = os.environ.get("KIOSK_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("PostgreSQL comes with `make test` (scripts/test-postgres.sh start)")
    from kiosk.domain.clock import ManualClock

    store = OfficeStore(open_office_database(url), clock=ManualClock(MONDAY_10AM))
    with store.db.connection_context():
        from kiosk.office.models import OFFICE_MODELS

        tables = ", ".join(f'"{model._meta.table_name}"' for model in OFFICE_MODELS)
        store.db.execute_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    return store


@pytest.mark.slow
def test_each_report_page_renders_over_a_year_of_visits(
    year_on_postgres: OfficeStore, tmp_path
) -> None:
    from fastapi.testclient import TestClient

    from kiosk.office.api import create_app
    from kiosk.office.settings import OfficeSettings
    from kiosk.office.staff import StaffDirectory

    store = year_on_postgres
    site = store.site(SITE)
    in_shanghai(store, site)
    with store.db.connection_context():
        assert reporting.seed_year(store.db, site, end=MONDAY_10AM, zone=SHANGHAI) == 100_000
        store.db.execute_sql("ANALYZE")
        StaffDirectory(store.db, store.clock).add_user(
            site, "boss", "correct horse battery", "admin"
        )
    client = TestClient(
        create_app(store, OfficeSettings(cookie_secure=False)), follow_redirects=False
    )
    WebOffice.sign_in(client, client, "boss", "correct horse battery")  # type: ignore[arg-type]
    # How fast is for `make bench` (benchmarks/bench_office_web.py), not for a test.
    for period in ("day", "week", "month"):
        page = client.get("/reports", params={"period": period, "day": "2026-11-20"})
        assert page.status_code == 200 and "Visits" in page.text
