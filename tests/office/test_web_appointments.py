"""The appointments pages: who may open them, CSRF, booking one visit or a series, imports
from CSV and iCalendar (all or nothing; an iCalendar file imported again books nothing
twice, and updates or cancels what changed), cancelling (and telling the visitors who had an
invitation), resending, the e-mails' state on the list, host users kept to their own
visitors, and cancellations reaching kiosks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import httpx
import pytest
from conftest import SITE, KioskFactory, Office, WebOffice
from icalendar import Calendar
from local_servers import free_port
from test_invitations import Mailbox, part, qr_text
from tests_support import MONDAY_10AM, SHANGHAI

from kiosk.domain.clock import ManualClock
from kiosk.domain.errors import InvalidInput, RejectReason, TokenRejected
from kiosk.office.bookings import Recurrence
from kiosk.office.models import (
    AppointmentSeries,
    AuditEntry,
    ChangeLog,
    InvitationMail,
    OfficeAppointment,
    SeriesMember,
)
from kiosk.office.settings import OfficeSettings, SiteSettings, save_site_settings
from kiosk.office.staff import StaffDirectory
from kiosk.services.checkin import Outcome

PAGES = ("/appointments", "/appointments/new", "/appointments/import")


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(free_port())
    box.start()
    yield box
    box.stop()


@pytest.fixture
def office_web(web_office: WebOffice, mailbox: Mailbox) -> WebOffice:
    """The web office with the site in Shanghai time, mail going to the local SMTP server,
    and two hosts: 李娜 and Maria Schmidt."""
    with web_office.store.db.connection_context():
        save_site_settings(
            web_office.site,
            SiteSettings(timezone="Asia/Shanghai", address="1 Riverside Road",
                         what_to_bring="Photo ID"),
            web_office.clock.now(),
        )  # fmt: skip
    web_office.app.state.web.settings = OfficeSettings(
        smtp_url=mailbox.url, mail_from="reception@tower.test", cookie_secure=False
    )
    web_office.li_na = web_office.store.add_host(SITE, "李娜", email="li.na@tower.test").ref  # type: ignore[attr-defined]
    web_office.maria = web_office.store.add_host(  # type: ignore[attr-defined]
        SITE, "Maria Schmidt", email="maria@tower.test"
    ).ref
    return web_office


def form(office: WebOffice, client: Any, **fields: Any) -> dict[str, Any]:
    values = {
        "csrf_token": office.csrf(client), "visitor_name": "张伟", "company": "华为",
        "email": "zhang.wei@example.cn", "phone": "+86 138 0000 0000",
        "host_ref": office.li_na, "day": "2026-11-23", "start": "14:30",  # type: ignore[attr-defined]
        "minutes": "90", "purpose": "visit_person", "level": "ordinary",
        "visitor_type": "visitor", "repeat": "", "count": "", "until": "",
    }  # fmt: skip
    values.update(fields)
    return values


def appointments(office: WebOffice) -> list[OfficeAppointment]:
    with office.store.db.connection_context():
        return list(OfficeAppointment.select().order_by(OfficeAppointment.starts_at))


def audit_actions(office: WebOffice) -> list[str]:
    with office.store.db.connection_context():
        return [entry.action for entry in AuditEntry.select().order_by(AuditEntry.id)]


# ---------------------------------------------------------------- who may do what


@pytest.mark.parametrize("role", ["reception", "host", "admin"])
def test_reception_hosts_and_admins_open_the_pages(office_web: WebOffice, role: str) -> None:
    client = office_web.as_role(role)
    for path in PAGES:
        assert client.get(path).status_code == 200, path


def test_security_is_refused_and_strangers_are_sent_to_sign_in(office_web: WebOffice) -> None:
    guard = office_web.as_role("security")
    for path in PAGES:
        assert guard.get(path).status_code == 403, path
    token = office_web.csrf(guard)
    assert (
        guard.post("/appointments/new", data=form(office_web, guard, csrf_token=token)).status_code
        == 403
    )
    stranger = office_web.client()
    for path in PAGES:
        answer = stranger.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == f"/login?next={path}"
    assert stranger.post("/appointments/new", data={}).status_code == 303
    assert appointments(office_web) == []


def test_every_change_needs_the_csrf_token(office_web: WebOffice, mailbox: Mailbox) -> None:
    client = office_web.as_role("reception")
    for token in ("", "forged"):
        data = form(office_web, client, csrf_token=token)
        assert client.post("/appointments/new", data=data).status_code == 403
        upload = {"file": ("visits.csv", b"visitor_name,host_email,starts_at\n", "text/csv")}
        answer = client.post("/appointments/import", data={"csrf_token": token}, files=upload)
        assert answer.status_code == 403
    assert appointments(office_web) == []
    assert client.post("/appointments/new", data=form(office_web, client)).status_code == 303
    [booked] = appointments(office_web)
    for path in (f"/appointments/{booked.ref}/cancel", f"/appointments/{booked.ref}/resend"):
        assert client.post(path, data={"csrf_token": "forged"}).status_code == 403
    assert appointments(office_web)[0].cancelled_at is None
    assert len(mailbox.messages) == 1


# ---------------------------------------------------------------- booking one visit


def test_booking_a_visit_with_a_chinese_name_sends_the_invitation_and_lists_it(
    office_web: WebOffice, mailbox: Mailbox
) -> None:
    client = office_web.as_role("reception")
    answer = client.post("/appointments/new", data=form(office_web, client))
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/appointments?done=booked&n=1&day=2026-11-23")
    [booked] = appointments(office_web)
    assert booked.visitor_name == "张伟" and booked.company == "华为"
    assert booked.host_ref == office_web.li_na  # type: ignore[attr-defined]
    # Typed as 14:30 in the site's zone, for 90 minutes.
    assert booked.starts_at == datetime(2026, 11, 23, 14, 30, tzinfo=SHANGHAI)
    assert booked.ends_at - booked.starts_at == timedelta(minutes=90)
    assert booked.invitation_token_id  # fixed at booking: a cancellation can revoke it

    [message] = mailbox.messages
    assert message["To"].addresses[0].display_name == "张伟"
    assert "14:30–16:00 (Asia/Shanghai" in part(message, "text/plain").get_content()
    token = qr_text(part(message, "image/png", "invitation-qr.png").get_content())
    assert token == office_web.store.invite(booked.ref, reuse_token=True)

    page = client.get(answer.headers["location"])
    assert page.status_code == 200
    assert "Booked 1 visit(s)" in page.text
    assert "张伟" in page.text and "李娜" in page.text and "14:30–16:00" in page.text
    assert "invitation sent" in page.text and "expected" in page.text
    assert audit_actions(office_web) == ["appointment.create"]


def test_a_host_is_chosen_from_the_sites_active_hosts(office_web: WebOffice) -> None:
    gone = office_web.store.add_host(SITE, "Left Company", email="gone@tower.test", active=False)
    client = office_web.as_role("reception")
    page = client.get("/appointments/new").text
    assert "李娜" in page and "Maria Schmidt" in page and "Left Company" not in page
    answer = client.post("/appointments/new", data=form(office_web, client, host_ref=gone.ref))
    assert answer.status_code == 400 and "Host: is not an active host" in answer.text
    assert appointments(office_web) == []


@pytest.mark.parametrize(("language", "words"), [("en", "Choose a host"), ("zh_Hans", "请选择受访人")])
def test_a_visit_booked_without_a_host_asks_for_one(
    office_web: WebOffice, language: str, words: str
) -> None:
    client = office_web.as_role("reception")
    client.post(
        "/account/language",
        data={"csrf_token": office_web.csrf(client), "language": language, "next": "/"},
    )
    answer = client.post("/appointments/new", data=form(office_web, client, host_ref=""))
    assert answer.status_code == 400
    error = re.search(r'<p class="error" role="alert">([^<]*)</p>', answer.text)
    assert error and error.group(1) == words
    assert appointments(office_web) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"visitor_name": "  "}, "Visitor&#39;s name: is required"),
        ({"visitor_name": "Bad\x07Bell"}, "control character"),
        ({"email": "not-an-address"}, "E-mail: is not an e-mail address"),
        ({"day": "2026-11-22"}, "Date and time: is in the past"),
        ({"day": "someday"}, "Date and time: needs a date and a time"),
        ({"purpose": "burglary"}, "Purpose: must be one of"),
        ({"level": "emperor"}, "Visitor level: must be one of"),
        ({"visitor_type": "ghost"}, "Visitor type: must be one of"),
        ({"repeat": "weekly", "count": "53"}, "Number of visits: must be between 1 and 52"),
        ({"repeat": "daily"}, "Repeat: needs a number of visits or an end date"),
        ({"repeat": "daily", "until": "2027-06-01"}, "makes more than 52 visits"),
    ],
)
def test_a_wrong_field_is_named_and_nothing_is_booked(
    office_web: WebOffice, mailbox: Mailbox, fields: dict[str, str], message: str
) -> None:
    client = office_web.as_role("reception")
    answer = client.post("/appointments/new", data=form(office_web, client, **fields))
    assert answer.status_code == 400
    assert message in answer.text
    assert 'value="华为"' in answer.text  # what was typed is kept
    assert appointments(office_web) == [] and mailbox.messages == []


def test_a_failed_invitation_is_shown_and_the_booking_stands(office_web: WebOffice) -> None:
    office_web.app.state.web.settings = OfficeSettings(
        smtp_url=f"smtp://127.0.0.1:{free_port()}", cookie_secure=False
    )
    client = office_web.as_role("reception")
    answer = client.post("/appointments/new", data=form(office_web, client))
    assert answer.status_code == 303
    assert len(appointments(office_web)) == 1
    page = client.get("/appointments?day=2026-11-23").text
    assert "invitation failed, retrying" in page and "Attempts: 1." in page


def test_resend_mails_the_invitation_again(office_web: WebOffice, mailbox: Mailbox) -> None:
    client = office_web.as_role("reception")
    client.post("/appointments/new", data=form(office_web, client))
    [booked] = appointments(office_web)
    answer = client.post(
        f"/appointments/{booked.ref}/resend", data={"csrf_token": office_web.csrf(client)}
    )
    assert answer.status_code == 303
    assert len(mailbox.messages) == 2
    assert audit_actions(office_web) == ["appointment.create", "invitation.resend"]


def test_the_list_filters_by_day_and_host(office_web: WebOffice) -> None:
    client = office_web.as_role("reception")
    client.post("/appointments/new", data=form(office_web, client, visitor_name="Early Bird",
                                               day="2026-11-23"))  # fmt: skip
    client.post("/appointments/new", data=form(office_web, client, visitor_name="Next Day",
                                               day="2026-11-24", host_ref=office_web.maria))  # type: ignore[attr-defined]  # fmt: skip
    everything = client.get("/appointments").text
    assert "Early Bird" in everything and "Next Day" in everything
    monday = client.get("/appointments?day=2026-11-23").text
    assert "Early Bird" in monday and "Next Day" not in monday
    marias = client.get(f"/appointments?host={office_web.maria}").text  # type: ignore[attr-defined]
    assert "Next Day" in marias and "Early Bird" not in marias


# ---------------------------------------------------------------- series


def test_a_weekly_series_books_each_visit_with_its_own_invitation(
    office_web: WebOffice, mailbox: Mailbox
) -> None:
    client = office_web.as_role("reception")
    answer = client.post(
        "/appointments/new", data=form(office_web, client, repeat="weekly", count="4")
    )
    assert answer.status_code == 303
    made = appointments(office_web)
    assert [a.starts_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") for a in made] == [
        "2026-11-23 14:30", "2026-11-30 14:30", "2026-12-07 14:30", "2026-12-14 14:30",
    ]  # fmt: skip
    assert len({a.invitation_token_id for a in made}) == 4
    with office_web.store.db.connection_context():
        series = AppointmentSeries.get()
        assert (series.frequency, series.occurrences) == ("weekly", 4)
        assert SeriesMember.select().where(SeriesMember.series == series).count() == 4
    tokens = {qr_text(part(m, "image/png", "invitation-qr.png").get_content())
              for m in mailbox.messages}  # fmt: skip
    assert len(mailbox.messages) == 4 and len(tokens) == 4


def test_weekdays_until_a_date_skip_the_weekend(office_web: WebOffice) -> None:
    client = office_web.as_role("reception")
    data = form(office_web, client, repeat="weekdays", until="2026-12-01", email="")
    assert client.post("/appointments/new", data=data).status_code == 303
    days = [a.starts_at.astimezone(SHANGHAI).strftime("%a %d") for a in appointments(office_web)]
    assert days == ["Mon 23", "Tue 24", "Wed 25", "Thu 26", "Fri 27", "Mon 30", "Tue 01"]


def test_a_series_is_capped_and_a_weekend_after_the_last_weekday_is_no_extra_visit() -> None:
    thursday = datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)
    starts = Recurrence("weekdays", until=date(2027, 2, 6)).starts(thursday, SHANGHAI)
    assert len(starts) == 52 and starts[-1].date() == date(2027, 2, 5)
    with pytest.raises(InvalidInput, match="more than 52"):
        Recurrence("weekdays", until=date(2027, 2, 8)).starts(thursday, SHANGHAI)
    with pytest.raises(InvalidInput, match="between 1 and 52"):
        Recurrence("daily", count=53)
    with pytest.raises(InvalidInput, match="before the first visit"):
        Recurrence("weekly", until=date(2026, 11, 1)).starts(thursday, SHANGHAI)
    # Daylight saving does not move the visit's local time.
    berlin = ZoneInfo("Europe/Berlin")
    weekly = Recurrence("weekly", count=3).starts(
        datetime(2026, 10, 19, 9, 0, tzinfo=berlin), berlin
    )
    assert [s.strftime("%H:%M %Z") for s in weekly] == ["09:00 CEST", "09:00 CET", "09:00 CET"]


def test_cancelling_a_series_cancels_what_is_still_to_come(
    office_web: WebOffice, mailbox: Mailbox
) -> None:
    client = office_web.as_role("reception")
    client.post("/appointments/new", data=form(office_web, client, repeat="daily", count="3"))
    first, second, third = appointments(office_web)
    office_web.clock.set(first.ends_at + timedelta(minutes=1))  # the first visit is over
    with office_web.store.db.connection_context():
        series_ref = AppointmentSeries.get().ref
    confirm = client.get(f"/appointments/series/{series_ref}/cancel")
    assert confirm.status_code == 200 and confirm.text.count("<li>") == 2
    answer = client.post(
        f"/appointments/series/{series_ref}/cancel", data={"csrf_token": office_web.csrf(client)}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/appointments?done=series_told&n=2&told=2"
    notice = client.get(answer.headers["location"]).text
    assert "Cancelled 2 visit(s) of the series" in notice and "2 visitor(s)" in notice
    assert len(mailbox.messages) == 3 + 2  # the invitations, then a notice for each cancelled
    after = {a.ref: a for a in appointments(office_web)}
    assert after[first.ref].cancelled_at is None
    assert after[second.ref].cancelled_at and after[third.ref].cancelled_at
    with office_web.store.db.connection_context():
        revoked = {c.ref for c in ChangeLog.select().where(ChangeLog.entity == "revoked_token")}
    assert revoked == {second.invitation_token_id, third.invitation_token_id}
    assert audit_actions(office_web)[-1] == "series.cancel"


def test_cancelling_one_visit_revokes_its_invitation_and_tells_the_visitor(
    office_web: WebOffice, mailbox: Mailbox
) -> None:
    client = office_web.as_role("reception")
    client.post("/appointments/new", data=form(office_web, client))
    [booked] = appointments(office_web)
    assert client.get(f"/appointments/{booked.ref}/cancel").status_code == 200
    answer = client.post(
        f"/appointments/{booked.ref}/cancel", data={"csrf_token": office_web.csrf(client)}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/appointments?done=cancelled_told"
    with office_web.store.db.connection_context():
        revoked = ChangeLog.get(ChangeLog.entity == "revoked_token")
        feed = json.loads(ChangeLog.get(ChangeLog.ref == booked.ref).data)
    assert revoked.ref == booked.invitation_token_id and feed["cancelled_at"]
    [_, notice] = mailbox.messages  # sent right after the answer, like an invitation
    assert part(notice, "text/calendar").get_param("method") == "CANCEL"
    page = client.get("/appointments?day=2026-11-23&done=cancelled_told").text
    assert "cancelled" in page and "is told by e-mail" in page
    assert "invitation sent" in page and "cancellation notice sent" in page
    again = client.post(
        f"/appointments/{booked.ref}/cancel", data={"csrf_token": office_web.csrf(client)}
    )
    assert again.status_code == 409


def test_a_visitor_without_an_invitation_is_not_told_and_a_failed_notice_is_shown(
    office_web: WebOffice,
) -> None:
    client = office_web.as_role("reception")
    client.post("/appointments/new", data=form(office_web, client, visitor_name="No Mail",
                                               email=""))  # fmt: skip
    client.post("/appointments/new", data=form(office_web, client, start="16:30"))
    quiet, invited = appointments(office_web)
    token = office_web.csrf(client)
    answer = client.post(f"/appointments/{quiet.ref}/cancel", data={"csrf_token": token})
    assert answer.headers["location"] == "/appointments?done=cancelled"
    office_web.app.state.web.settings = OfficeSettings(  # the mail server goes away
        smtp_url=f"smtp://127.0.0.1:{free_port()}", cookie_secure=False
    )
    client.post(f"/appointments/{invited.ref}/cancel", data={"csrf_token": token})
    page = client.get("/appointments?day=2026-11-23").text
    assert page.count("cancellation notice") == 1
    assert "cancellation notice failed, retrying" in page and "Attempts: 1." in page


# ---------------------------------------------------------------- host users


def test_a_host_user_sees_and_books_only_their_own_visitors(
    office_web: WebOffice, mailbox: Mailbox
) -> None:
    reception = office_web.as_role("reception")
    reception.post("/appointments/new", data=form(office_web, reception, visitor_name="For Maria",
                                                  host_ref=office_web.maria))  # type: ignore[attr-defined]  # fmt: skip
    host = office_web.as_role("host", host_ref=office_web.li_na)  # type: ignore[attr-defined]
    # The form offers only themselves, and a forged host field is ignored.
    page = host.get("/appointments/new").text
    assert "李娜" in page and "Maria Schmidt" not in page
    data = form(office_web, host, visitor_name="For Li Na", host_ref=office_web.maria)  # type: ignore[attr-defined]
    assert host.post("/appointments/new", data=data).status_code == 303
    mine = {a.visitor_name: a for a in appointments(office_web)}
    assert mine["For Li Na"].host_ref == office_web.li_na  # type: ignore[attr-defined]
    listing = host.get("/appointments").text
    assert "For Li Na" in listing and "For Maria" not in listing
    assert "All hosts" not in listing
    # Another host's visit cannot be cancelled, resent or looked at.
    other = mine["For Maria"].ref
    token = office_web.csrf(host)
    assert host.get(f"/appointments/{other}/cancel").status_code == 404
    assert host.post(f"/appointments/{other}/cancel", data={"csrf_token": token}).status_code == 404
    assert host.post(f"/appointments/{other}/resend", data={"csrf_token": token}).status_code == 404
    assert appointments(office_web)[0].cancelled_at is None
    assert len(mailbox.messages) == 2
    # Nor imported for.
    csv = "visitor_name,host_email,starts_at\nSomeone,maria@tower.test,2026-11-24 10:00\n"
    answer = host.post("/appointments/import", data={"csrf_token": token},
                       files={"file": ("v.csv", csv.encode(), "text/csv")})  # fmt: skip
    assert answer.status_code == 400 and "you may only book your own visitors" in answer.text


# ---------------------------------------------------------------- imports


def upload(office: WebOffice, client: Any, name: str, data: bytes) -> Any:
    return client.post(
        "/appointments/import",
        data={"csrf_token": office.csrf(client)},
        files={"file": (name, data, "text/csv" if name.endswith(".csv") else "text/calendar")},
    )


GOOD_CSV = """visitor_name,company,email,phone,host_email,starts_at,ends_at,purpose
张伟,华为,zhang.wei@example.cn,+86 138 0000 0000,li.na@tower.test,2026-11-23 15:00,16:00,visit_person
Anna Eriksson,Volvo,anna@example.se,,MARIA@tower.test,2026-11-24 09:30,2026-11-24 11:00,interview
歐陽娜娜,,,,li.na@tower.test,2026-11-25T10:00+08:00,,
"""


def test_a_good_csv_file_is_imported_in_one_go_with_or_without_bom(
    office_web: WebOffice, mailbox: Mailbox
) -> None:
    client = office_web.as_role("reception")
    answer = upload(office_web, client, "visits.csv", "\ufeff".encode() + GOOD_CSV.encode())
    assert answer.status_code == 303 and "added=3" in answer.headers["location"]
    made = {a.visitor_name: a for a in appointments(office_web)}
    assert set(made) == {"张伟", "Anna Eriksson", "歐陽娜娜"}
    assert made["张伟"].starts_at == datetime(2026, 11, 23, 15, 0, tzinfo=SHANGHAI)
    assert made["张伟"].ends_at == datetime(2026, 11, 23, 16, 0, tzinfo=SHANGHAI)
    assert made["Anna Eriksson"].host_ref == office_web.maria  # type: ignore[attr-defined]
    assert made["Anna Eriksson"].purpose == "interview"
    assert made["歐陽娜娜"].ends_at - made["歐陽娜娜"].starts_at == timedelta(hours=1)
    assert len(mailbox.messages) == 2  # the third has no e-mail address
    with office_web.store.db.connection_context():
        assert InvitationMail.select().count() == 2
    assert audit_actions(office_web) == ["appointment.import"]
    # Without the byte-order mark too.
    assert upload(office_web, client, "more.csv", GOOD_CSV.encode()).status_code == 303
    assert len(appointments(office_web)) == 6


def test_a_csv_file_with_a_bad_row_imports_nothing_and_names_every_problem(
    office_web: WebOffice, mailbox: Mailbox
) -> None:
    bad = GOOD_CSV + (
        "Nobody Known,,,,stranger@tower.test,2026-11-23 15:00,,\n"
        "Wrong Date,,,,li.na@tower.test,23/11/2026 3pm,,\n"
        ",,,,li.na@tower.test,2026-11-23 15:00,,\n"
        "Ends Early,,,,li.na@tower.test,2026-11-23 15:00,14:00,\n"
        "Odd Purpose,,,,li.na@tower.test,2026-11-23 15:00,,shopping\n"
    )
    client = office_web.as_role("reception")
    answer = upload(office_web, client, "visits.csv", bad.encode())
    assert answer.status_code == 400
    for problem in (
        "line 5: host_email: no active host has the address stranger@tower.test",
        "line 6: starts_at: &#39;23/11/2026 3pm&#39; is not a date and time",
        "line 7: visitor_name: is required",
        "line 8: ends_at: must be after the start",
        "line 9: purpose: must be one of",
    ):
        assert problem in answer.text, problem
    assert "Nothing was imported" in answer.text
    assert appointments(office_web) == [] and mailbox.messages == []


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"name,when\nX,Y\n", "missing column(s): visitor_name, host_email, starts_at"),
        (b"visitor_name,host_email,starts_at\n", "the file has no visits"),
        (
            "visitor_name,host_email,starts_at\nZhang,li.na@tower.test,2026-11-23 15:00\n".encode(
                "gb18030"
            )
            + "张伟".encode("gb18030"),
            "is not UTF-8",
        ),
    ],
)
def test_an_unusable_csv_file_is_refused(office_web: WebOffice, data: bytes, problem: str) -> None:
    client = office_web.as_role("reception")
    answer = upload(office_web, client, "visits.csv", data)
    assert answer.status_code == 400 and problem in answer.text
    assert appointments(office_web) == []


GOOD_ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Test//Outlook//EN
BEGIN:VEVENT
UID:meeting-1@example.com
DTSTAMP:20261120T080000Z
DTSTART;TZID=Asia/Shanghai:20261124T100000
DTEND;TZID=Asia/Shanghai:20261124T113000
SUMMARY:Quarterly review
ORGANIZER;CN=Li Na:mailto:li.na@tower.test
ATTENDEE;CN=李娜:mailto:li.na@tower.test
ATTENDEE;CN=张伟;ROLE=REQ-PARTICIPANT:mailto:zhang.wei@example.cn
ATTENDEE;CN=Anna Eriksson:MAILTO:anna@example.se
END:VEVENT
BEGIN:VEVENT
UID:meeting-2@example.com
DTSTAMP:20261120T080000Z
DTSTART:20261125T020000Z
DTEND:20261125T030000Z
SUMMARY:Interview
ORGANIZER:mailto:maria@tower.test
ATTENDEE;CN=Carol White:mailto:carol@example.com
X-KIOSK-PURPOSE:interview
END:VEVENT
BEGIN:VEVENT
UID:meeting-3@example.com
DTSTAMP:20261120T080000Z
DTSTART:20261126T020000Z
SUMMARY:Called off
STATUS:CANCELLED
ORGANIZER:mailto:maria@tower.test
ATTENDEE;CN=Someone:mailto:someone@example.com
END:VEVENT
END:VCALENDAR
""".replace("\n", "\r\n")


def test_an_icalendar_file_books_each_visiting_attendee_with_the_organizer_as_host(
    office_web: WebOffice, mailbox: Mailbox
) -> None:
    client = office_web.as_role("reception")
    answer = upload(office_web, client, "invite.ics", GOOD_ICS.encode())
    assert answer.status_code == 303, answer.text
    made = {a.visitor_name: a for a in appointments(office_web)}
    assert set(made) == {"张伟", "Anna Eriksson", "Carol White"}
    assert made["张伟"].email == "zhang.wei@example.cn"
    assert made["张伟"].host_ref == office_web.li_na  # type: ignore[attr-defined]
    assert made["张伟"].starts_at == datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)
    assert made["张伟"].ends_at == datetime(2026, 11, 24, 11, 30, tzinfo=SHANGHAI)
    assert made["Carol White"].host_ref == office_web.maria  # type: ignore[attr-defined]
    assert made["Carol White"].purpose == "interview"
    assert len(mailbox.messages) == 3


def test_a_bad_icalendar_file_imports_nothing(office_web: WebOffice) -> None:
    bad = GOOD_ICS.replace(
        "END:VCALENDAR",
        "BEGIN:VEVENT\r\nUID:x@example.com\r\nDTSTAMP:20261120T080000Z\r\n"
        "DTSTART;VALUE=DATE:20261127\r\nSUMMARY:All day\r\n"
        "ORGANIZER:mailto:li.na@tower.test\r\nATTENDEE;CN=Day Long:mailto:d@example.com\r\n"
        "END:VEVENT\r\nBEGIN:VEVENT\r\nUID:y@example.com\r\nDTSTAMP:20261120T080000Z\r\n"
        "DTSTART:20261127T020000Z\r\nSUMMARY:Unknown organizer\r\n"
        "ORGANIZER:mailto:boss@elsewhere.com\r\nATTENDEE;CN=Z:mailto:z@example.com\r\n"
        "END:VEVENT\r\nEND:VCALENDAR",
    )
    client = office_web.as_role("reception")
    answer = upload(office_web, client, "invite.ics", bad.encode())
    assert answer.status_code == 400
    assert "event 4 (All day): DTSTART: is missing, or an all-day event" in answer.text
    assert "event 5 (Unknown organizer): host_email: no active host has the address" in answer.text
    assert appointments(office_web) == []
    garbage = upload(office_web, client, "invite.ics", b"BEGIN:VCALENDAR\r\nthis is not")
    assert garbage.status_code == 400 and "not an iCalendar file" in garbage.text


def import_counts(answer: Any) -> dict[str, int]:
    """What the import says it did, from the page it leads to."""
    assert answer.status_code == 303, answer.text
    query = parse_qs(urlparse(answer.headers["location"]).query)
    assert query.pop("done") == ["imported"]
    return {name: int(value) for name, [value] in query.items()}


def by_visitor(office: WebOffice) -> dict[str, OfficeAppointment]:
    return {a.visitor_name: a for a in appointments(office)}


#: GOOD_ICS a week later: the review moved to Wednesday afternoon (SEQUENCE 1), Anna no
#: longer invited and 王芳 invited instead; the interview as it was.
CHANGED_ICS = (
    GOOD_ICS.replace(
        "DTSTART;TZID=Asia/Shanghai:20261124T100000\r\nDTEND;TZID=Asia/Shanghai:20261124T113000",
        "DTSTART;TZID=Asia/Shanghai:20261125T140000\r\nDTEND;TZID=Asia/Shanghai:20261125T153000"
        "\r\nSEQUENCE:1",
    )
    .replace("ATTENDEE;CN=Anna Eriksson:MAILTO:anna@example.se",
             "ATTENDEE;CN=王芳:mailto:wang.fang@example.cn")
)  # fmt: skip
#: GOOD_ICS with the interview called off.
INTERVIEW_OFF_ICS = GOOD_ICS.replace(
    "SUMMARY:Interview\r\n", "SUMMARY:Interview\r\nSTATUS:CANCELLED\r\nSEQUENCE:1\r\n"
)


def test_importing_the_same_icalendar_file_twice_books_each_visit_once(
    office_web: WebOffice, mailbox: Mailbox
) -> None:
    client = office_web.as_role("reception")
    first = import_counts(upload(office_web, client, "invite.ics", GOOD_ICS.encode()))
    assert first == {"added": 3, "updated": 0, "unchanged": 0, "cancelled": 0}
    booked = {a.ref for a in appointments(office_web)}
    again = upload(office_web, client, "invite.ics", GOOD_ICS.encode())
    assert import_counts(again) == {"added": 0, "updated": 0, "unchanged": 3, "cancelled": 0}
    assert {a.ref for a in appointments(office_web)} == booked
    assert len(mailbox.messages) == 3  # no second invitation either
    page = client.get(again.headers["location"]).text
    assert "Imported: 0 visit(s) added, 0 updated, 3 unchanged, 0 cancelled." in page
    assert audit_actions(office_web) == ["appointment.import", "appointment.import"]


def test_a_changed_event_updates_its_visits_and_each_visitor_hears_of_it(
    office_web: WebOffice, mailbox: Mailbox
) -> None:
    client = office_web.as_role("reception")
    upload(office_web, client, "invite.ics", GOOD_ICS.encode())
    before = by_visitor(office_web)
    answer = upload(office_web, client, "invite.ics", CHANGED_ICS.encode())
    assert import_counts(answer) == {"added": 1, "updated": 1, "unchanged": 1, "cancelled": 1}

    after = by_visitor(office_web)
    assert set(after) == {"张伟", "Anna Eriksson", "Carol White", "王芳"}
    moved = after["张伟"]
    assert moved.ref == before["张伟"].ref  # the same visit, at its new time
    assert moved.starts_at == datetime(2026, 11, 25, 14, 0, tzinfo=SHANGHAI)
    assert moved.ends_at == datetime(2026, 11, 25, 15, 30, tzinfo=SHANGHAI)
    assert after["Anna Eriksson"].cancelled_at is not None
    assert after["王芳"].starts_at == moved.starts_at and after["王芳"].cancelled_at is None
    assert after["Carol White"].updated_at == before["Carol White"].updated_at

    # The code mailed for the old time is revoked; kiosks get the visit as it is now.
    assert moved.invitation_token_id != before["张伟"].invitation_token_id
    with office_web.store.db.connection_context():
        revoked = {c.ref for c in ChangeLog.select().where(ChangeLog.entity == "revoked_token")}
        feed = json.loads(ChangeLog.get(ChangeLog.ref == moved.ref).data)
    assert revoked == {
        before["张伟"].invitation_token_id,
        before["Anna Eriksson"].invitation_token_id,
    }
    assert datetime.fromisoformat(feed["starts_at"]) == moved.starts_at
    assert feed["invitation_token_id"] == moved.invitation_token_id

    # 张伟 gets the invitation again (a new code, replacing the calendar entry), 王芳 hers,
    # and Anna, who had one, the cancellation.
    assert len(mailbox.messages) == 3 + 3
    mails = {m["To"].addresses[0].addr_spec: m for m in mailbox.messages[3:]}
    assert set(mails) == {"zhang.wei@example.cn", "wang.fang@example.cn", "anna@example.se"}
    renewed = mails["zhang.wei@example.cn"]
    assert "Wednesday 25 November 2026, 14:00–15:30" in part(renewed, "text/plain").get_content()
    token = qr_text(part(renewed, "image/png", "invitation-qr.png").get_content())
    assert token == office_web.store.invite(moved.ref, reuse_token=True)
    event = Calendar.from_ical(part(renewed, "text/calendar").get_content()).walk("VEVENT")[0]
    assert str(event["UID"]) == f"{moved.ref}@lobby-kiosk" and int(event["SEQUENCE"]) == 1
    assert part(mails["anna@example.se"], "text/calendar").get_param("method") == "CANCEL"

    page = client.get(answer.headers["location"]).text
    assert "1 visit(s) added, 1 updated, 1 unchanged, 1 cancelled" in page
    # Importing the changed file again changes nothing more.
    again = upload(office_web, client, "invite.ics", CHANGED_ICS.encode())
    assert import_counts(again) == {"added": 0, "updated": 0, "unchanged": 4, "cancelled": 0}
    assert len(mailbox.messages) == 6


def test_a_cancelled_event_cancels_its_visits_and_an_older_version_changes_nothing(
    office_web: WebOffice, mailbox: Mailbox
) -> None:
    client = office_web.as_role("reception")
    upload(office_web, client, "invite.ics", GOOD_ICS.encode())
    called_off = upload(office_web, client, "invite.ics", INTERVIEW_OFF_ICS.encode())
    assert import_counts(called_off) == {"added": 0, "updated": 0, "unchanged": 2, "cancelled": 1}
    carol = by_visitor(office_web)["Carol White"]
    assert carol.cancelled_at is not None
    with office_web.store.db.connection_context():
        assert ChangeLog.get(ChangeLog.ref == carol.invitation_token_id).entity == "revoked_token"
    assert [m["To"].addresses[0].addr_spec for m in mailbox.messages[3:]] == ["carol@example.com"]
    # The file from before the interview was called off (SEQUENCE 0) is an older version.
    stale = upload(office_web, client, "invite.ics", GOOD_ICS.encode())
    assert import_counts(stale) == {"added": 0, "updated": 0, "unchanged": 3, "cancelled": 0}
    assert by_visitor(office_web)["Carol White"].cancelled_at is not None
    assert len(appointments(office_web)) == 3 and len(mailbox.messages) == 4


def test_visits_that_have_begun_are_left_as_they_are_and_a_past_event_is_no_problem(
    office_web: WebOffice,
) -> None:
    client = office_web.as_role("reception")
    upload(office_web, client, "invite.ics", GOOD_ICS.encode())
    before = by_visitor(office_web)
    office_web.clock.set(datetime(2026, 11, 24, 10, 15, tzinfo=SHANGHAI))  # the review began
    client = office_web.as_role("reception")  # a new day, a new session
    moved = upload(office_web, client, "invite.ics", CHANGED_ICS.encode())
    assert import_counts(moved) == {"added": 1, "updated": 0, "unchanged": 3, "cancelled": 0}
    after = by_visitor(office_web)
    for name in ("张伟", "Anna Eriksson"):
        assert after[name].starts_at == before[name].starts_at and not after[name].cancelled_at
    office_web.clock.set(datetime(2026, 11, 24, 12, 0, tzinfo=SHANGHAI))  # and is over
    client = office_web.as_role("reception")
    again = upload(office_web, client, "invite.ics", GOOD_ICS.encode())
    # The review's three visits (王芳's too) and the interview: the review's time is past.
    assert import_counts(again) == {"added": 0, "updated": 0, "unchanged": 4, "cancelled": 0}
    # A past event the office has never seen is refused, as ever.
    unknown = GOOD_ICS.replace("UID:meeting-1@example.com", "UID:meeting-9@example.com")
    refused = upload(office_web, client, "other.ics", unknown.encode())
    assert refused.status_code == 400
    assert "event 1 (Quarterly review): starts_at: is in the past" in refused.text


def test_the_same_uid_twice_in_a_file_is_refused(office_web: WebOffice) -> None:
    twice = GOOD_ICS.replace("UID:meeting-2@example.com", "UID:meeting-1@example.com")
    client = office_web.as_role("reception")
    answer = upload(office_web, client, "invite.ics", twice.encode())
    assert answer.status_code == 400
    assert "event 2 (Interview): UID: is also the UID of event 1" in answer.text
    assert appointments(office_web) == []


def test_a_host_cannot_change_another_hosts_visits_by_importing_their_event(
    office_web: WebOffice,
) -> None:
    reception = office_web.as_role("reception")
    upload(office_web, reception, "invite.ics", GOOD_ICS.encode())  # 李娜's review
    maria = office_web.as_role("host", host_ref=office_web.maria)  # type: ignore[attr-defined]
    hijack = CHANGED_ICS.replace(
        "ORGANIZER;CN=Li Na:mailto:li.na@tower.test", "ORGANIZER:mailto:maria@tower.test"
    ).replace("ATTENDEE;CN=李娜:mailto:li.na@tower.test\r\n", "")
    answer = upload(office_web, maria, "invite.ics", hijack.encode())
    assert answer.status_code == 400
    assert "event 1 (Quarterly review): host_email: you may only book your own visitors" in (
        answer.text
    )
    assert by_visitor(office_web)["Anna Eriksson"].cancelled_at is None
    assert len(appointments(office_web)) == 3


# ---------------------------------------------------------------- kiosks learn of it


def sign_in(office: Office, role: str = "reception") -> httpx.Client:
    """A browser on the real office server (uvicorn on loopback)."""
    with office.store.db.connection_context():
        StaffDirectory(office.store.db, office.store.clock).add_user(
            office.store.site(SITE), "desk", "correct horse battery", role
        )
    browser = httpx.Client(base_url=office.url, follow_redirects=False)
    page = browser.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    answer = browser.post("/login", data={"username": "desk", "password": "correct horse battery",
                                          "csrf_token": token.group(1), "next": "/"})  # fmt: skip
    assert answer.status_code == 303
    return browser


def test_a_series_booked_on_the_page_admits_at_a_kiosk_until_cancelled(
    office: Office, kiosks: KioskFactory
) -> None:
    office.store.clock = ManualClock(MONDAY_10AM - timedelta(days=1))
    with office.store.db.connection_context():
        save_site_settings(office.store.site(SITE), SiteSettings(timezone="Asia/Shanghai"),
                           office.store.clock.now())  # fmt: skip
    host = office.store.add_host(SITE, "李娜", email="li.na@tower.test")
    browser = sign_in(office)
    token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/").text)
    assert token
    answer = browser.post("/appointments/new", data={
        "csrf_token": token.group(1), "visitor_name": "张伟", "email": "zhang.wei@example.cn",
        "host_ref": host.ref, "day": "2026-11-23", "start": "10:00", "minutes": "60",
        "repeat": "weekly", "count": "3",
    })  # fmt: skip
    assert answer.status_code == 303, answer.text
    with office.store.db.connection_context():
        first, second, third = OfficeAppointment.select().order_by(OfficeAppointment.starts_at)
        series_ref = AppointmentSeries.get().ref
    codes = [office.store.invite(a.ref, reuse_token=True) for a in (first, second, third)]

    kiosk, client = kiosks.new()
    client.run_once()
    with kiosk.using():
        assert kiosk.engine.check_in_with_invitation(codes[0]).outcome is Outcome.CHECKED_IN
    client.run_once()
    kiosk.clock.set(MONDAY_10AM + timedelta(days=7))  # type: ignore[attr-defined]
    with kiosk.using():  # valid until the series is cancelled
        assert kiosk.engine.preview_invitation(codes[1]).visitor_name == "张伟"

    answer = browser.post(f"/appointments/series/{series_ref}/cancel",
                          data={"csrf_token": token.group(1)})  # fmt: skip
    assert answer.status_code == 303 and "n=2" in answer.headers["location"]
    client.run_once()  # the next sync brings the revocations
    for week, code in enumerate(codes[1:], start=1):
        kiosk.clock.set(MONDAY_10AM + timedelta(days=7 * week))  # type: ignore[attr-defined]
        with kiosk.using(), pytest.raises(TokenRejected) as refused:
            kiosk.engine.check_in_with_invitation(code)
        assert refused.value.reason is RejectReason.REVOKED
    listing = browser.get("/appointments?day=2026-11-23").text
    assert "arrived" in listing and "张伟" in listing
