"""The live on-site list, the roll call, the visit log with its search, filters, keyset
pages and CSV export, and the check of each kiosk's hash-chained log (with real kiosks
syncing over HTTP, on SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from conftest import SITE, KioskFactory, Office, WebOffice
from office_visits_support import FakeKiosk, in_shanghai
from tests_support import MONDAY_10AM

from kiosk.office import reporting
from kiosk.office.models import Event, OfficeVisit
from kiosk.office.models import Kiosk as OfficeKiosk
from kiosk.services.checkin import Outcome, VisitorDetails, WalkIn
from kiosk.storage.models import OutboxEvent

PAGES = ["/onsite", "/onsite/rollcall", "/visits", "/visits/export.csv"]


@pytest.mark.parametrize("path", [*PAGES, "/visits/verify"])
def test_strangers_are_sent_to_sign_in(web_office: WebOffice, path: str) -> None:
    answer = web_office.client().get(path)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize(
    ("role", "status"), [("reception", 200), ("security", 200), ("admin", 200), ("host", 403)]
)
def test_who_may_see_the_lists(web_office: WebOffice, path: str, role: str, status: int) -> None:
    assert web_office.as_role(role).get(path).status_code == status


@pytest.mark.parametrize(
    ("role", "status"), [("security", 200), ("admin", 200), ("reception", 403), ("host", 403)]
)
def test_only_security_and_admins_verify_the_logs(
    web_office: WebOffice, role: str, status: int
) -> None:
    assert web_office.as_role(role).get("/visits/verify").status_code == status


def test_pages_that_change_nothing_refuse_posts(web_office: WebOffice) -> None:
    client = web_office.as_role("admin")
    for path in PAGES:
        assert client.post(path, data={}).status_code in (403, 405)


def _site_with_visitors(web_office: WebOffice) -> dict[str, str]:
    store = web_office.store
    in_shanghai(store, web_office.site)
    host = store.add_host(SITE, "Maria Schmidt", email="maria@example.com", department="Legal")
    lobby = FakeKiosk(store, SITE, "lobby-1", "North lobby")
    garage = FakeKiosk(store, SITE, "garage-1", "Garage")
    arrived = MONDAY_10AM - timedelta(minutes=30)
    refs = {
        "zhang": lobby.visit("张伟", arrived=arrived, host=host.ref, company="华为", escort=True),
        "anna": garage.visit(
            "Anna Eriksson",
            state="host_acknowledged",
            arrived=arrived - timedelta(minutes=5),
            acknowledged=arrived - timedelta(minutes=4, seconds=20),
            host=host.ref,
        ),
        "bob": lobby.visit(
            "Bob Awaiting", state="awaiting_host", arrived=MONDAY_10AM - timedelta(minutes=3)
        ),
        "gone": lobby.visit(
            "Gone Already",
            state="checked_out",
            arrived=arrived,
            left=MONDAY_10AM - timedelta(minutes=1),
        ),
    }
    return refs


def test_the_live_list_shows_everyone_on_site_at_every_kiosk(web_office: WebOffice) -> None:
    _site_with_visitors(web_office)
    page = web_office.as_role("security").get("/onsite")
    text = page.text
    assert '<meta http-equiv="refresh" content="30">' in text
    for shown in ("张伟", "华为", "Anna Eriksson", "Bob Awaiting", "North lobby", "Garage"):
        assert shown in text
    assert "Gone Already" not in text
    assert re.search(r'<span class="badge">3</span>', text)
    assert "09:30" in text  # arrival in the site's zone (Shanghai), not UTC (01:30)
    assert "escort" in text
    assert "waiting 3 min 0 s" in text  # Bob, since his host was told
    assert "answered in 40 s" in text  # Anna's host answered
    assert "style=" not in text and "<script" not in text


def test_the_live_list_says_when_nobody_is_there(web_office: WebOffice) -> None:
    assert "Nobody is on site." in web_office.as_role("reception").get("/onsite").text


def test_the_roll_call_is_by_name_with_a_box_to_tick(web_office: WebOffice) -> None:
    _site_with_visitors(web_office)
    text = web_office.as_role("security").get("/onsite/rollcall").text
    order = [text.index(name) for name in ("Anna Eriksson", "Bob Awaiting", "张伟")]
    assert order == sorted(order)
    assert text.count('class="box"') == 3
    assert SITE in text and "Printed 2026-11-23 10:00" in text
    assert "Gone Already" not in text


def test_the_roll_call_lists_a_row_without_arrival_name_or_host(web_office: WebOffice) -> None:
    """A row the office's ingest refuses today, as an older office may still hold it."""
    refs = _site_with_visitors(web_office)
    with web_office.store.db.connection_context():
        OfficeVisit.update(arrived_at=None, visitor_name="", company="", host_ref="gone").where(
            OfficeVisit.ref == refs["bob"]
        ).execute()
        rows = reporting.roll_call(web_office.site.id)
    assert len(rows) == 3 and {row.ref for row in rows} >= {refs["bob"]}
    client = web_office.as_role("security")
    text = client.get("/onsite/rollcall").text
    assert text.count('class="box"') == 3
    [bob] = [row for row in text.split("<tr>") if "(no name)" in row]
    assert bob.count(">–</td>") == 3  # company, host, arrival
    assert client.get("/onsite").status_code == 200


def _log_rows(text: str) -> list[str]:
    body = text.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in text else ""
    return re.findall(r"<strong>([^<]+)</strong>", body)


@pytest.mark.parametrize("query", ["张伟", "zhang wei", "Wei Zhang", "ZHANGWEI", "zw"])
def test_the_log_finds_a_chinese_name_by_pinyin(web_office: WebOffice, query: str) -> None:
    _site_with_visitors(web_office)
    page = web_office.as_role("reception").get("/visits", params={"q": query})
    assert _log_rows(page.text) == ["张伟"]


def test_the_log_filters_by_state_kiosk_host_and_date(web_office: WebOffice) -> None:
    refs = _site_with_visitors(web_office)
    client = web_office.as_role("security")
    assert _log_rows(client.get("/visits", params={"state": "checked_out"}).text) == [
        "Gone Already"
    ]
    assert _log_rows(client.get("/visits", params={"kiosk": "garage-1"}).text) == ["Anna Eriksson"]
    with web_office.store.db.connection_context():
        host_ref = reporting.OfficeVisit.get(reporting.OfficeVisit.ref == refs["zhang"]).host_ref
    assert sorted(_log_rows(client.get("/visits", params={"host": host_ref}).text)) == [
        "Anna Eriksson",
        "张伟",
    ]
    today = MONDAY_10AM.date().isoformat()
    assert len(_log_rows(client.get("/visits", params={"from": today, "to": today}).text)) == 4
    tomorrow = (MONDAY_10AM + timedelta(days=1)).date().isoformat()
    assert _log_rows(client.get("/visits", params={"from": tomorrow}).text) == []
    assert client.get("/visits", params={"from": "soon"}).status_code == 400


def test_the_log_pages_by_keyset_without_losing_or_repeating_a_visit(
    web_office: WebOffice,
) -> None:
    in_shanghai(web_office.store, web_office.site)
    lobby = FakeKiosk(web_office.store, SITE, "lobby-1")
    for n in range(120):
        # Pairs arrive at the same second: the id breaks the tie.
        lobby.visit(f"Visitor {n:03}", arrived=MONDAY_10AM - timedelta(seconds=n // 2))
    client = web_office.as_role("reception")
    seen: list[str] = []
    url = "/visits"
    pages = 0
    while url:
        page = client.get(url)
        seen += _log_rows(page.text)
        found = re.search(r'href="(/visits\?[^"]*after=[^"]+)"', page.text)
        url = found.group(1).replace("&amp;", "&") if found else ""
        pages += 1
    assert pages == 3
    assert len(seen) == 120 and len(set(seen)) == 120
    assert seen[0] in ("Visitor 000", "Visitor 001") and seen[-1] in ("Visitor 118", "Visitor 119")


def test_the_csv_export_is_filtered_excel_ready_and_formula_safe(web_office: WebOffice) -> None:
    _site_with_visitors(web_office)
    lobby = FakeKiosk(web_office.store, SITE, "lobby-2")
    lobby.visit("=HYPERLINK(1)", company="+cmd", arrived=MONDAY_10AM - timedelta(minutes=1))
    client = web_office.as_role("reception")
    answer = client.get("/visits/export.csv", params={"kiosk": "lobby-2"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    assert answer.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["time", "visitor", "company"]
    assert len(rows) == 2 and rows[1][1] == "'=HYPERLINK(1)" and rows[1][2] == "'+cmd"
    everything = client.get("/visits/export.csv").content.decode("utf-8-sig")
    assert "张伟" in everything and "华为" in everything
    assert len(list(csv.reader(io.StringIO(everything)))) == 6


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1"])
def test_every_formula_start_is_quoted(value: str) -> None:
    assert reporting.csv_cell(value) == "'" + value
    assert reporting.csv_cell("Zhang") == "Zhang"


def test_the_export_is_streamed_in_batches(web_office: WebOffice) -> None:
    lobby = FakeKiosk(web_office.store, SITE, "lobby-1")
    for n in range(25):
        lobby.visit(f"Visitor {n}", arrived=MONDAY_10AM - timedelta(minutes=n))
    zone = reporting.ZoneInfo("Asia/Shanghai")
    chunks = list(
        reporting.visit_log_csv(
            web_office.store.db, web_office.site.id, reporting.VisitFilter(), zone, batch=10
        )
    )
    assert len(chunks) == 4  # the header, then 10 + 10 + 5 rows
    assert sum(chunk.count("\n") for chunk in chunks) == 26


# ---------------------------------------------------------------- the kiosks' chains


def _walk_in(kiosk, host_ref: str, name: str) -> str:
    with kiosk.using():
        result = kiosk.engine.check_in_walk_in(WalkIn(VisitorDetails(name), host_ref))
    assert result.outcome is Outcome.CHECKED_IN and result.visit_ref
    return result.visit_ref


def _checks(office: Office) -> dict[str, reporting.ChainCheck]:
    with office.store.db.connection_context():
        site = office.store.site(SITE)
        return {check.kiosk_id: check for check in reporting.verify_site_chains(site.id)}


def test_the_chain_a_kiosk_sends_verifies_and_shows_tampering(
    office: Office, kiosks: KioskFactory
) -> None:
    host = office.store.add_host(SITE, "Maria Schmidt", email="maria@example.com")
    kiosk, client = kiosks.new()
    client.run_once()  # the host reaches the kiosk
    for n in range(3):
        _walk_in(kiosk, host.ref, f"Visitor {n}")
    client.run_once()
    with kiosk.using():
        sent = OutboxEvent.select().count()
    check = _checks(office)[kiosk.kiosk_id]
    assert check.status == "ok" and check.checked == sent >= 6
    assert (check.first_seq, check.last_seq) == (1, sent)

    with office.store.db.connection_context():
        office_kiosk = OfficeKiosk.get(OfficeKiosk.kiosk_id == kiosk.kiosk_id)
        victim = Event.get((Event.kiosk == office_kiosk) & (Event.seq == 3))
        Event.update(payload=victim.payload.replace("Visitor", "Someone")).where(
            Event.id == victim.id
        ).execute()
    check = _checks(office)[kiosk.kiosk_id]
    assert check.status == "broken" and check.broken_seq == 3 and "payload" in check.problem

    with office.store.db.connection_context():
        Event.update(payload=victim.payload).where(Event.id == victim.id).execute()
        Event.update(kind="visit.denied").where(Event.id == victim.id).execute()
    check = _checks(office)[kiosk.kiosk_id]
    assert check.broken_seq == 3 and "changed" in check.problem


def test_a_missing_event_is_a_gap_not_a_break(office: Office, kiosks: KioskFactory) -> None:
    host = office.store.add_host(SITE, "Maria Schmidt", email="maria@example.com")
    kiosk, client = kiosks.new()
    client.run_once()  # the host reaches the kiosk
    _walk_in(kiosk, host.ref, "Anna")
    _walk_in(kiosk, host.ref, "Bob")
    client.run_once()
    with office.store.db.connection_context():
        office_kiosk = OfficeKiosk.get(OfficeKiosk.kiosk_id == kiosk.kiosk_id)
        Event.delete().where((Event.kiosk == office_kiosk) & (Event.seq == 2)).execute()
    check = _checks(office)[kiosk.kiosk_id]
    assert check.status == "gap" and check.gaps == [(2, 2)] and check.broken_seq is None


def test_an_event_put_in_the_place_of_another_breaks_the_chain(
    office: Office, kiosks: KioskFactory
) -> None:
    """A forger who rehashes the event they changed still breaks the next link."""
    from kiosk.storage.journal import canonical_json, event_chain_hash, payload_digest

    host = office.store.add_host(SITE, "Maria Schmidt", email="maria@example.com")
    kiosk, client = kiosks.new()
    client.run_once()  # the host reaches the kiosk
    _walk_in(kiosk, host.ref, "Anna")
    client.run_once()
    with office.store.db.connection_context():
        office_kiosk = OfficeKiosk.get(OfficeKiosk.kiosk_id == kiosk.kiosk_id)
        event = Event.get((Event.kiosk == office_kiosk) & (Event.seq == 1))
        assert "Anna" in event.payload
        payload = event.payload.replace("Anna", "Zoe")
        digest = payload_digest(canonical_json(json.loads(payload)))
        forged = event_chain_hash(
            event.prev_hash, 1, event.event_id, event.kind,
            int(event.occurred_at.timestamp() * 1000), digest,
        )  # fmt: skip
        Event.update(payload=payload, payload_digest=digest, event_hash=forged).where(
            Event.id == event.id
        ).execute()
    check = _checks(office)[kiosk.kiosk_id]
    assert check.status == "broken" and check.broken_seq == 2 and "follow" in check.problem


def test_the_verify_page_shows_each_kiosk(web_office: WebOffice) -> None:
    lobby = FakeKiosk(web_office.store, SITE, "lobby-1", "North lobby")
    lobby.visit("Anna", arrived=MONDAY_10AM)
    FakeKiosk(web_office.store, SITE, "lobby-2", "Quiet lobby")
    text = web_office.as_role("security").get("/visits/verify").text
    assert "North lobby" in text and "Quiet lobby" in text
    assert "no events yet" in text
    assert "1 events were sent before the kiosk chained its log." in text
