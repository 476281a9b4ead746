"""The cases' pages in process (the office app, SQLite): who sees which cases, the actions
each role gets, CSRF, filters, the call log that makes a case in one step and sends a
message to an absent host over real SMTP, the reports and their CSV, and the public status
page a receipt's QR opens (a genuine kiosk-signed token shows times only; forged: 404)."""

from __future__ import annotations

import re
from datetime import timedelta

from conftest import SITE, WebOffice
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from local_servers import smtp_server

from kiosk.domain.tokens import TokenKind, TokenSigner, raw_public_key
from kiosk.office.cases.desk import Actor
from kiosk.office.cases.models import CallLogEntry, Case
from kiosk.office.models import Kiosk


def parts(office: WebOffice):
    return office.app.state.office.cases


def open_case(office: WebOffice, kind: str = "repair", **options) -> Case:
    with office.store.db.connection_context():
        return parts(office).desk.open_case(
            Actor(office.site.id, "reception", "Desk"), kind=kind,
            description="Water on the floor of the lobby", channel="desk",
            place={"building": "B", "unit": "101"}, reporter={"name": "赵敏", "phone": "137"},
            **options,
        )  # fmt: skip


def department_member(office: WebOffice, name: str):
    """A host account that belongs to the department `name`; its signed-in client."""
    from kiosk.office.cases.models import Department
    from kiosk.office.models import StaffUser

    client = office.as_role("host")
    with office.store.db.connection_context():
        department = Department.get_or_none(Department.name == name) or parts(
            office
        ).desk.add_department(office.site, name)
        user = StaffUser.select().order_by(StaffUser.id.desc()).get()
        parts(office).desk.join_department(department, user)
    return client


def test_reception_assigns_and_the_department_resolves(web_office: WebOffice) -> None:
    case = open_case(web_office)
    other = open_case(web_office, kind="complaint")
    engineer = department_member(web_office, "Engineering")
    desk = web_office.as_role("reception")
    assert engineer.get(f"/cases/{case.ref}").status_code == 404  # not theirs yet
    page = desk.get(f"/cases/{case.ref}")
    assert page.status_code == 200 and "赵敏" in page.text and 'value="assign"' in page.text
    assert 'value="resolve"' not in page.text  # only what the state allows
    forged = desk.post(f"/cases/{case.ref}/act", data={"action": "assign",
                       "department": "Engineering", "csrf_token": "x"})  # fmt: skip
    assert forged.status_code == 403
    done = desk.post(f"/cases/{case.ref}/act", data={"action": "assign",
                     "department": "Engineering", "csrf_token": web_office.csrf(desk)})  # fmt: skip
    assert done.status_code == 303
    mine = engineer.get("/cases")
    assert case.number in mine.text and other.number not in mine.text
    page = engineer.get(f"/cases/{case.ref}")
    assert 'value="start"' in page.text and 'value="assign"' not in page.text
    csrf = web_office.csrf(engineer)
    refused = engineer.post(f"/cases/{case.ref}/act", data={"action": "close", "csrf_token": csrf})
    assert refused.status_code == 400
    answer = engineer.post(f"/cases/{case.ref}/act", data={"action": "resolve",
                           "note": "Mopped, pipe sealed", "csrf_token": csrf})  # fmt: skip
    assert answer.status_code == 303
    page = desk.get(f"/cases/{case.ref}")
    assert "Mopped, pipe sealed" in page.text and 'value="follow_up"' in page.text


def test_security_and_other_sites_see_no_cases(web_office: WebOffice) -> None:
    case = open_case(web_office)
    guard = web_office.as_role("security")
    assert guard.get("/cases").status_code == 403
    assert guard.get(f"/cases/{case.ref}").status_code == 403
    with web_office.store.db.connection_context():
        Case.update(site=web_office.store.site("Harbour View")).where(Case.id == case.id).execute()
    desk = web_office.as_role("reception")
    assert desk.get(f"/cases/{case.ref}").status_code == 404
    assert case.number not in desk.get("/cases").text
    assert web_office.as_role("host").get("/cases/report").status_code == 403


def test_filters_and_bad_input(web_office: WebOffice) -> None:
    repair = open_case(web_office)
    complaint = open_case(web_office, kind="complaint")
    desk = web_office.as_role("reception")
    only = desk.get("/cases?kind=complaint")
    assert complaint.number in only.text and repair.number not in only.text
    assert desk.get("/cases?state=lost").status_code == 400
    assert repair.number in desk.get("/cases?place=101").text
    assert "No cases match" in desk.get("/cases?place=nowhere").text
    assert "No cases match" in desk.get("/cases?late=1").text
    web_office.clock.advance(timedelta(hours=5))
    late = desk.get("/cases?late=1")
    assert repair.number in late.text and "overdue" in late.text
    assert desk.get("/cases/report?month=2026-13").status_code == 400


def test_a_call_becomes_a_case_and_a_message_reaches_the_absent_host(web_office: WebOffice) -> None:
    with smtp_server(sender="office@tower.test") as smtp:
        host = web_office.store.add_host(SITE, "李娜", channels=[smtp.url("li.na@tower.test")])
        desk = web_office.as_role("reception")
        csrf = web_office.csrf(desk)
        call = {"caller": "王先生", "unit": "1203", "phone": "138", "csrf_token": csrf}
        made = desk.post("/calls", data={**call, "subject": "Lift 2 is stuck", "becomes": "repair",
                                         "category": "lift"})  # fmt: skip
        assert made.status_code == 303 and made.headers["location"].startswith("/cases/")
        page = desk.get(made.headers["location"])
        assert "Lift 2 is stuck" in page.text and "王先生" in page.text
        sent = desk.post("/calls", data={**call, "subject": "Parcel question",
                         "for_host": host.ref, "message": "Please call back"})  # fmt: skip
        assert sent.headers["location"] == "/calls?done=sent"
        [mail] = smtp.to("li.na@tower.test")
        assert "王先生" in mail["Subject"] or "Please call back" in mail.as_string()
    empty = desk.post("/calls", data={"csrf_token": csrf})
    assert empty.status_code == 400
    with web_office.store.db.connection_context():
        assert CallLogEntry.select().count() == 2
        case = Case.get(Case.channel == "phone")
        assert (case.kind, case.category, case.number[-5]) == ("repair", "lift", "0")
    log = desk.get("/calls")
    assert "Lift 2 is stuck" in log.text and "李娜" in log.text


def test_reports_page_and_csv(web_office: WebOffice) -> None:
    case = open_case(web_office)
    desk = web_office.as_role("reception")
    month = case.opened_at.strftime("%Y-%m")
    page = desk.get(f"/cases/report?month={month}")
    assert page.status_code == 200 and "<svg" in page.text and case.number in page.text
    csv_answer = desk.get(f"/cases/report?month={month}&format=csv")
    assert csv_answer.headers["content-type"].startswith("text/csv")
    assert "total,cases,1" in csv_answer.text
    week = desk.get(f"/cases/report?period=week&day={case.opened_at.date().isoformat()}")
    assert week.status_code == 200


def test_the_public_status_page_takes_only_a_genuine_receipt(web_office: WebOffice) -> None:
    key = Ed25519PrivateKey.generate()
    with web_office.store.db.connection_context():
        Kiosk.create(kiosk_id="k1", site=web_office.site, auth_public_key="ab" * 32,
                     badge_public_key=raw_public_key(key.public_key()).hex(),
                     enrolled_at=web_office.clock.now())  # fmt: skip
    case = open_case(web_office)
    now = web_office.clock.now()
    token, _ = TokenSigner(key).sign_subject(
        TokenKind.CASE_RECEIPT, subject_ref=case.ref, not_before=now,
        not_after=now + timedelta(days=365),
    )  # fmt: skip
    anyone = web_office.client()
    page = anyone.get(f"/c/{token}", headers={"accept-language": "zh-CN"})
    assert page.status_code == 200 and case.number in page.text
    assert "赵敏" not in page.text and "137" not in page.text and "Water on" not in page.text
    forged, _ = TokenSigner(Ed25519PrivateKey.generate()).sign_subject(
        TokenKind.CASE_RECEIPT, subject_ref=case.ref, not_before=now,
        not_after=now + timedelta(days=365),
    )  # fmt: skip
    altered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for bad in (forged, altered, "nonsense", "A" * 500):
        answer = anyone.get(f"/c/{bad}")
        assert answer.status_code == 404 and not re.search(case.number, answer.text)
