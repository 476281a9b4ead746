"""Importing appointments at the kiosk, twice: a file imported again books nothing twice, an
event moved in the calendar moves its visit, and a cancelled one is cancelled."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from kiosk.app import Kiosk
from kiosk.domain.clock import ManualClock
from kiosk.domain.values import VisitState
from kiosk.services.appointment_import import AppointmentImport
from kiosk.services.directory import ImportReport
from kiosk.storage.models import Appointment, AuditEntry, Visit

CSV = """visitor_name,host,date,time,end,company,email
Anna Eriksson,maria@example.com,2026-11-23,15:00,16:00,Volvo,anna@example.se
张伟,li.na@example.com,2026-11-23,16:00,,华为,
"""

KEYED_CSV = """key,status,visitor_name,host,date,time
crm-1,,Anna Eriksson,maria@example.com,2026-11-23,15:00
crm-2,,张伟,li.na@example.com,2026-11-24,09:00
"""


def calendar(*events: str) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        + "".join(events)
        + "END:VCALENDAR\r\n"
    )


def event(uid: str, start: str, summary: str, extra: str = "") -> str:
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\n"
        f"DTSTART;TZID=Asia/Shanghai:{start}\r\nSUMMARY:{summary}\r\n"
        f"ORGANIZER:mailto:maria@example.com\r\n{extra}END:VEVENT\r\n"
    )


def imported(kiosk: Kiosk, tmp_path: Path, name: str, text: str) -> ImportReport:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return AppointmentImport(kiosk.directory, kiosk.db, kiosk.clock).run(path)


def counts(report: ImportReport) -> tuple[int, int, int, int]:
    assert report.problems == []
    return report.added, report.updated, report.unchanged, report.cancelled


def test_the_same_csv_file_twice_books_each_visit_once(
    kiosk: Kiosk, hosts: dict[str, str], tmp_path: Path
) -> None:
    assert counts(imported(kiosk, tmp_path, "a.csv", CSV)) == (2, 0, 0, 0)
    # Exported again: a byte-order mark, other spacing, the host's address in capitals.
    again = "\ufeff" + CSV.replace("maria@example.com", "MARIA@example.com").replace(
        "Anna Eriksson", "Anna  Eriksson"
    )
    assert counts(imported(kiosk, tmp_path, "b.csv", again)) == (0, 0, 2, 0)
    assert Appointment.select().count() == 2 and Visit.select().count() == 2


def test_a_keyed_row_moves_its_visit_and_its_status_cancels_it(
    kiosk: Kiosk, hosts: dict[str, str], tmp_path: Path
) -> None:
    assert counts(imported(kiosk, tmp_path, "crm.csv", KEYED_CSV)) == (2, 0, 0, 0)
    anna = Appointment.get(Appointment.visitor_name == "Anna Eriksson")
    changed = KEYED_CSV.replace("2026-11-23,15:00", "2026-11-23,17:30").replace(
        "crm-2,,", "crm-2,cancelled,"
    )
    assert counts(imported(kiosk, tmp_path, "crm.csv", changed)) == (0, 1, 0, 1)
    moved = Appointment.get(Appointment.ref == anna.ref)
    assert moved.starts_at == datetime.fromisoformat("2026-11-23T17:30+08:00")
    assert moved.ends_at - moved.starts_at == timedelta(hours=1)
    assert Appointment.get(Appointment.visitor_name == "张伟").cancelled_at is not None
    assert counts(imported(kiosk, tmp_path, "crm.csv", changed)) == (0, 0, 2, 0)
    actions = [entry.action for entry in AuditEntry.select().order_by(AuditEntry.id)]
    assert actions.count("appointment.updated") == 1
    assert actions.count("appointment.cancelled") == 1


def test_an_event_moved_or_cancelled_in_the_calendar(
    kiosk: Kiosk, hosts: dict[str, str], tmp_path: Path, clock: ManualClock
) -> None:
    first = calendar(
        event("a@cal", "20261123T150000", "刘洋"),
        event("b@cal", "20261123T160000", "Bob Stone"),
        event("c@cal", "20261123T120000", "Early Bird"),
    )
    assert counts(imported(kiosk, tmp_path, "cal.ics", first)) == (3, 0, 0, 0)
    assert counts(imported(kiosk, tmp_path, "cal.ics", first)) == (0, 0, 3, 0)

    # Bob arrives; then the calendar moves everyone and calls 刘洋's visit off.
    clock.set(datetime.fromisoformat("2026-11-23T10:00+08:00"))
    bob = Appointment.get(Appointment.visitor_name == "Bob Stone")
    Visit.update(state=VisitState.CHECKED_IN).where(Visit.appointment == bob).execute()
    later = calendar(
        event("a@cal", "20261123T150000", "刘洋", "STATUS:CANCELLED\r\nSEQUENCE:1\r\n"),
        event("b@cal", "20261123T170000", "Bob Stone", "SEQUENCE:1\r\n"),
        event("c@cal", "20261123T130000", "Early Bird", "SEQUENCE:1\r\n"),
    )
    assert counts(imported(kiosk, tmp_path, "cal.ics", later)) == (0, 1, 1, 1)
    assert Appointment.get(Appointment.visitor_name == "Early Bird").starts_at == (
        datetime.fromisoformat("2026-11-23T13:00+08:00")
    )
    # An arrived visitor's visit is left as it was.
    assert Appointment.get(Appointment.ref == bob.ref).starts_at == bob.starts_at
    assert Appointment.get(Appointment.visitor_name == "刘洋").cancelled_at is not None


def test_a_file_naming_one_visit_twice_says_so_and_books_it_once(
    kiosk: Kiosk, hosts: dict[str, str], tmp_path: Path
) -> None:
    twice = CSV + "anna eriksson,maria@example.com,2026-11-23,15:00,,,anna@example.se\n"
    report = imported(kiosk, tmp_path, "twice.csv", twice)
    assert report.added == 2
    assert report.problems == ["line 4: books the same visit as line 2"]
    assert Appointment.select().count() == 2


def test_bad_lines_are_named_and_the_rest_imported(
    kiosk: Kiosk, hosts: dict[str, str], tmp_path: Path
) -> None:
    bad = CSV + (
        "Nobody,maria@example.com,23/11/2026,15:00,,,\n"
        "Somebody,maria@example.com,2026-11-23,,,,\n"
        "Bell\x07,maria@example.com,2026-11-23,15:00,,,\n"
    )
    report = imported(kiosk, tmp_path, "bad.csv", bad)
    assert report.added == 2
    assert report.problems[0] == "line 4: date: '23/11/2026' is not YYYY-MM-DD"
    assert report.problems[1] == "line 5: time: is required (HH:MM)"
    assert report.problems[2].startswith("line 6: visitor_name:")
