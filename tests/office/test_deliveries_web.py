"""The deliveries pages in process, on SQLite and PostgreSQL: who sees which parcels (role
and site), "returned to sender" (its feed rows, its roles, CSRF), the filters and pages,
the reports on a known set of parcels (the median worked out by hand), the uncollected
CSV, the three languages, and `kiosk office deliveries` on the same data."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import SITE, WebOffice
from deliveries_support import ParcelKiosk, parcel_kiosk
from test_cross_site import OTHER_SITE
from tests_support import MONDAY_10AM

from kiosk.domain.clock import ManualClock
from kiosk.office.deliveries.models import Parcel
from kiosk.office.models import AuditEntry, ChangeLog
from kiosk.office.settings import SiteSettings, save_site_settings


@pytest.fixture
def office(tmp_path: Path, office_db_url: str) -> Iterator[WebOffice]:
    web = WebOffice(tmp_path, ManualClock(MONDAY_10AM + timedelta(days=10)), office_db_url)
    with web.store.db.connection_context():
        save_site_settings(web.site, SiteSettings(timezone="Asia/Shanghai"), MONDAY_10AM)
    yield web
    web.store.db.close()


@pytest.fixture
def lobby(office: WebOffice) -> ParcelKiosk:
    return parcel_kiosk(office.store, SITE)


def refs_shown(page: Any) -> list[str]:
    assert page.status_code == 200, page.text[:500]
    return re.findall(r'href="/deliveries/([0-9a-f]{16})"', page.text)


def test_each_role_sees_what_it_may_and_no_other_sites_parcel(
    office: WebOffice, lobby: ParcelKiosk
) -> None:
    li = office.store.add_host(SITE, "李娜", email="li.na@example.com")
    wang = office.store.add_host(SITE, "王芳", email="wang.fang@example.com")
    for_li, _ = lobby.log(host_ref=li.ref)
    for_wang, _ = lobby.log(host_ref=wang.ref)
    for_acme, _ = lobby.log(company="Acme Trading")
    elsewhere, _ = parcel_kiosk(office.store, OTHER_SITE).log(company="Other Co")
    everyone = {for_li, for_wang, for_acme}

    for role in ("reception", "security", "admin"):
        client = office.as_role(role)
        assert set(refs_shown(client.get("/deliveries"))) == everyone, role
        assert client.get(f"/deliveries/{elsewhere}").status_code == 404
    host = office.as_role("host", host_ref=li.ref)
    assert refs_shown(host.get("/deliveries")) == [for_li]
    assert host.get(f"/deliveries/{for_li}").status_code == 200
    for hidden in (for_wang, for_acme, elsewhere):
        assert host.get(f"/deliveries/{hidden}").status_code == 404
    assert host.get("/deliveries?host=" + wang.ref).text.count("/deliveries/") <= 3
    assert refs_shown(host.get(f"/deliveries?host={wang.ref}")) == []
    # The host's report counts only theirs.
    assert ">1</strong>" in host.get("/deliveries/report").text


def test_mark_returned_revokes_the_pickup_and_needs_reception(
    office: WebOffice, lobby: ParcelKiosk
) -> None:
    ref, _ = lobby.log(company="Acme Trading")
    with office.store.db.connection_context():
        token = Parcel.get(Parcel.ref == ref).token_id
    security, host = office.as_role("security"), office.as_role("host")
    for client in (security, host):
        answer = client.post(f"/deliveries/{ref}/return", data={"csrf_token": office.csrf(client)})
        assert answer.status_code == 403
    reception = office.as_role("reception")
    assert reception.post(f"/deliveries/{ref}/return", data={}).status_code == 403  # no CSRF
    assert "Mark returned to sender" in reception.get(f"/deliveries/{ref}").text

    answer = reception.post(
        f"/deliveries/{ref}/return", data={"csrf_token": office.csrf(reception)}
    )

    assert (
        answer.status_code == 303
        and answer.headers["location"] == f"/deliveries/{ref}?done=returned"
    )
    page = reception.get(answer.headers["location"])
    assert "Marked returned to sender" in page.text and "Mark returned to sender" not in page.text
    with office.store.db.connection_context():
        got = Parcel.get(Parcel.ref == ref)
        assert (got.state, got.returned_by) == ("returned", "reception3")
        feed = {(row.entity, row.ref): json.loads(row.data) for row in ChangeLog.select()}
        assert feed[("parcel", ref)]["state"] == "returned"
        assert feed[("revoked_token", token)] == {"kind": "parcel_pickup"}
        assert AuditEntry.select().where(AuditEntry.action == "parcel.return").count() == 1
    again = reception.post(f"/deliveries/{ref}/return", data={"csrf_token": office.csrf(reception)})
    assert again.status_code == 409
    assert "Only a waiting parcel" in again.text


def test_filters_tabs_and_pages(office: WebOffice, lobby: ParcelKiosk) -> None:
    start = MONDAY_10AM
    for n in range(120):
        lobby.log(company=f"Company {n % 3}", carrier=("sf", "jd", "meituan")[n % 3],
                  at=start + timedelta(hours=n))  # fmt: skip
    for ref in lobby.parcels[:10]:
        lobby.collect(ref)
    client = office.as_role("reception")

    first = client.get("/deliveries")
    assert len(refs_shown(first)) == 50 and "120 parcels match." in first.text
    assert lobby.parcels[-1] == refs_shown(first)[0]  # newest first
    seen = refs_shown(first)
    next_url = re.search(r'href="(/deliveries\?[^"]*after=[^"]+)"', first.text)
    while next_url:
        page = client.get(next_url.group(1).replace("&amp;", "&"))
        seen += refs_shown(page)
        next_url = re.search(r'href="(/deliveries\?[^"]*after=[^"]+)"', page.text)
    assert sorted(seen) == sorted(lobby.parcels) and len(seen) == 120

    waiting = client.get("/deliveries?state=waiting")
    assert "110 parcels match." in waiting.text
    assert re.search(r"waiting for pickup <span class=\"badge\">110</span>", waiting.text)
    by_jd = client.get("/deliveries?carrier=jd").text
    assert "40 parcels match." in by_jd
    # The tabs count within the other filters: jd's parcels 1, 4 and 7 were collected.
    assert 'waiting for pickup <span class="badge">37</span>' in by_jd
    assert 'collected <span class="badge">3</span>' in by_jd
    assert "40 parcels match." in client.get("/deliveries?company=Company+1").text
    # Now is 10 days after the first; logged an hour apart: 240 - 72 h... at least 7 days ago
    aged = client.get("/deliveries?age=7")
    assert "73 parcels match." in aged.text, re.findall(r"\d+ parcels match", aged.text)
    assert client.get("/deliveries?state=lost").status_code == 400
    assert client.get("/deliveries?age=2").status_code == 400
    for cursor in ("junk", "9" * 30 + ".1", "-" + "9" * 20 + ".5", "1.99999999999999999999999"):
        assert client.get(f"/deliveries?after={cursor}").status_code == 400, cursor
    assert client.get("/deliveries/not-a-ref").status_code == 404


def test_the_report_on_a_known_set(office: WebOffice, lobby: ParcelKiosk) -> None:
    day1 = MONDAY_10AM  # 10:00 Shanghai on Monday 23 November
    waits = {"sf": [30, 90], "jd": [10, 240, 60]}  # minutes from logging to pickup
    for carrier, minutes in waits.items():
        for wait in minutes:
            ref, _ = lobby.log(company="Acme", carrier=carrier, at=day1)
            lobby.collect(ref, at=day1 + timedelta(minutes=wait))
    lobby.log(company="Acme", carrier="meituan", at=day1 + timedelta(days=1))  # waiting
    returned, _ = lobby.log(company="Acme", carrier="sf", at=day1 + timedelta(days=2))
    client = office.as_role("reception")
    client.post(f"/deliveries/{returned}/return", data={"csrf_token": office.csrf(client)})

    page = client.get("/deliveries/report?from=2026-11-23&to=2026-11-25")

    assert page.status_code == 200
    # Median of 10, 30, 60, 90, 240 minutes: 60 minutes.
    assert "1 h 0 min" in page.text
    numbers = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td></tr>", page.text)
    assert ("2026-11-23", "5") in numbers and ("2026-11-24", "1") in numbers
    assert ("2026-11-25", "1") in numbers
    assert ("SF Express", "3") in numbers and ("JD Logistics", "3") in numbers
    assert ("Meituan", "1") in numbers
    figures = dict(
        re.findall(r'<span class="muted">([^<]+)</span><strong>([^<]+)</strong>', page.text)
    )
    assert (figures["Logged"], figures["Collected"], figures["Still waiting"]) == ("7", "5", "1")
    assert figures["Returned to sender"] == "1"
    for query in ("from=junk", "to=9999-12-31", "to=0001-01-05", "from=1999-12-31"):
        assert client.get(f"/deliveries/report?{query}").status_code == 400, query

    from kiosk.cli import main

    assert main(["office", "deliveries", "report", "--db", office_url(office), "--site", SITE,
                 "--from", "2026-11-23", "--to", "2026-11-25", "--json"]) == 0  # fmt: skip


def office_url(office: WebOffice) -> str:
    db = office.store.db
    if hasattr(db, "database") and str(db.database).endswith(".sqlite3"):
        return str(db.database)
    import os

    return os.environ["KIOSK_TEST_POSTGRES_URL"]


def test_the_uncollected_csv_is_safe_and_audited(office: WebOffice, lobby: ParcelKiosk) -> None:
    lobby.log(company='=HYPERLINK("http://evil")', shelf="B-1")
    collected, _ = lobby.log(company="Done Co")
    lobby.collect(collected)
    client = office.as_role("reception")

    answer = client.get("/deliveries/uncollected.csv")

    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["parcel_ref", "logged_at", "days_waiting", "recipient"]
    assert len(rows) == 2 and rows[1][3].startswith("'=") and rows[1][9] == "B-1"
    with office.store.db.connection_context():
        assert AuditEntry.select().where(AuditEntry.action == "deliveries.export").count() == 1
    assert office.as_role("host").get("/deliveries").text.count("uncollected.csv") == 0


@pytest.mark.parametrize(
    ("language", "words"),
    [("zh_Hans", ["快递", "待领取", "顺丰"]), ("zh_Hant", ["包裹", "待領取", "順豐"]),
     ("en", ["Deliveries", "waiting", "SF Express"])],
)  # fmt: skip
def test_the_page_speaks_the_readers_language(
    office: WebOffice, lobby: ParcelKiosk, language: str, words: list[str]
) -> None:
    ref, _ = lobby.log(company="Acme")
    with office.store.db.connection_context():
        office.staff.add_user(office.site, f"desk-{language}", office.password, "reception",
                              language=language)  # fmt: skip
    client = office.client()
    office.sign_in(client, f"desk-{language}")
    for path in ("/deliveries", f"/deliveries/{ref}", "/deliveries/report"):
        page = client.get(path)
        assert page.status_code == 200
    listing = client.get("/deliveries").text
    for word in words:
        assert word in listing, (language, word)


def test_the_command_line(
    office: WebOffice, lobby: ParcelKiosk, capsys: pytest.CaptureFixture[str]
) -> None:
    from kiosk.cli import main

    ref, _ = lobby.log(company="Acme Trading", shelf="C-2")
    other, _ = lobby.log(company="Beta Co")
    db = ["--db", office_url(office)]

    assert main(["office", "deliveries", "list", *db, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [row["ref"] for row in listed] == [other, ref]
    assert listed[1]["logged_at"].endswith("+08:00")  # in the site's zone
    assert main(["office", "deliveries", "list", *db, "--company", "Acme"]) == 0
    assert ref in capsys.readouterr().out
    assert main(["office", "deliveries", "return", ref, *db, "--by", "desk"]) == 0
    assert "returned to sender" in capsys.readouterr().out
    assert main(["office", "deliveries", "return", ref, *db]) == 1  # not waiting any more
    assert "not waiting" in capsys.readouterr().err
    assert main(["office", "deliveries", "show", ref, *db, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["state"] == "returned" and [h["action"] for h in shown["history"]] == [
        "logged",
        "returned",
    ]
    assert main(["office", "deliveries", "show", "0" * 16, *db]) == 1
    assert main(["office", "deliveries", "list", *db, "--state", "lost"]) == 1


def test_the_delivery_settings_are_an_admins(office: WebOffice) -> None:
    from kiosk.office.deliveries.rules import load_rules

    reception = office.as_role("reception")
    assert reception.get("/deliveries/settings").status_code == 403
    assert "/deliveries/settings" not in reception.get("/deliveries").text
    admin = office.as_role("admin")
    assert "/deliveries/settings" in admin.get("/deliveries").text
    form = {"csrf_token": office.csrf(admin), "remind_after_hours": "48",
            "remind_every_days": "2", "send_from_hour": "10", "language": "zh_Hant",
            "carriers": "sf\njd, acme-express"}  # fmt: skip

    saved = admin.post("/deliveries/settings", data=form)

    assert saved.status_code == 303
    assert "Settings saved." in admin.get(saved.headers["location"]).text
    with office.store.db.connection_context():
        rules = load_rules(office.site)
    assert (rules.remind_after_hours, rules.remind_every_days, rules.send_from_hour) == (48, 2, 10)
    assert (rules.language, rules.carriers) == ("zh_Hant", ["sf", "jd", "acme-express"])
    for field, value, said in (
        (
            "send_from_hour",
            "25",
            "Send from (hour of the day): Input should be less than or equal to 23",
        ),
        (
            "remind_after_hours",
            "soon",
            "Remind after (hours waiting): Input should be a valid integer",
        ),
        ("carriers", "SF Express", "is not a carrier key"),
        ("language", "fr", "Language of messages"),
    ):
        refused = admin.post("/deliveries/settings", data={**form, field: value})
        assert refused.status_code == 400 and said in refused.text, (field, refused.text[-800:])
    with office.store.db.connection_context():
        assert load_rules(office.site).send_from_hour == 10  # nothing half-saved
        assert AuditEntry.select().where(AuditEntry.action == "deliveries.settings").count() == 1
