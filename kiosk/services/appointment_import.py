"""Importing appointments at a standalone kiosk, from CSV or iCalendar, as often as wanted.

Each booking in the file is known by a key that stays the same from one import to the next
(kiosk.domain.import_identity: an event's UID and RECURRENCE-ID, a row's own `key` column, or
who visits whom and when), and remembers a digest of what the file said about it. Importing
a file again therefore:

- books what is new (`added`);
- changes a booking the file now says something new about, while it is still to come and
  its visitor has not arrived (`updated`: an event moved in the calendar moves its visit);
- leaves alone what it says the same about, and what has begun or ended (`unchanged`);
- cancels a booking the file marks cancelled (an event's STATUS:CANCELLED, or a keyed row's
  `status` = `cancelled`), revoking its invitation as any cancellation does (`cancelled`).

A line that cannot be booked is reported by its number and the others are still imported,
as kiosk imports always have been; one line naming the same visit as an earlier one is such
a line. A kiosk sends no invitations for imported visits, so there is nothing to re-send.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from peewee import SqliteDatabase

from kiosk.domain.booking_files import calendar_address, event_times, read_csv
from kiosk.domain.clock import Clock
from kiosk.domain.errors import InvalidInput, KioskError
from kiosk.domain.import_identity import carried_csv_key, content_digest, csv_row_key, event_key
from kiosk.domain.values import Purpose, VisitorLevel, VisitState
from kiosk.services.directory import DEFAULT_APPOINTMENT_LENGTH, Directory, ImportReport
from kiosk.storage.db import storage_errors
from kiosk.storage.journal import append_audit
from kiosk.storage.models import Appointment, Visit

ICALENDAR_SUFFIXES = {".ics", ".ical", ".ifb"}


@dataclass
class FileBooking:
    """One booking as the file states it: its key, what it says, where it is in the file."""

    key: str
    where: str  # "line 3", "event 2"
    fields: dict[str, Any] = field(default_factory=dict)  # Directory.add_appointment's
    cancelled: bool = False

    def digest(self) -> str:
        said = self.fields
        return content_digest(
            " ".join(said["visitor_name"].split()), said["host"].casefold(), said["starts_at"],
            said["ends_at"], said["company"], said["email"].casefold(), said["phone"],
            said["purpose"], said["level"], said["visitor_type"],
        )  # fmt: skip


class AppointmentImport:
    """One import of one file into the kiosk's directory (see the module's docstring)."""

    def __init__(self, directory: Directory, db: SqliteDatabase, clock: Clock) -> None:
        self._directory = directory
        self._db = db
        self._clock = clock

    def run(self, path: Path) -> ImportReport:
        report = ImportReport()
        try:
            if path.suffix.lower() in ICALENDAR_SUFFIXES:
                bookings = self._read_calendar(path.read_bytes(), report.problems)
            else:
                bookings = self._read_csv(path.read_bytes(), report.problems)
        except OSError as err:
            report.problems.append(f"cannot read {path}: {err.strerror or err}")
            return report
        seen: dict[str, str] = {}
        for booking in bookings:
            if booking.key in seen:
                report.problems.append(
                    f"{booking.where}: books the same visit as {seen[booking.key]}"
                )
                continue
            seen[booking.key] = booking.where
            try:
                self._apply(booking, report)
            except KioskError as err:
                report.problems.append(f"{booking.where}: {err}")
        return report

    # ----------------------------------------------------------------- applying

    def _apply(self, booking: FileBooking, report: ImportReport) -> None:
        booked = (
            Appointment.select()
            .where(Appointment.import_key == booking.key)
            .order_by(Appointment.id.desc())
            .first()
        )
        if booking.cancelled:
            if booked is not None and self._still_open(booked):
                self._directory.cancel_appointment(booked.ref)
                report.cancelled += 1
            elif booked is not None:
                report.unchanged += 1
            return
        digest = booking.digest()
        if booked is None:
            self._directory.add_appointment(
                **booking.fields, source="import", import_key=booking.key, import_digest=digest
            )
            report.added += 1
        elif booked.import_digest != digest and self._still_open(booked):
            self._change(booked, booking.fields, digest)
            report.updated += 1
        else:
            report.unchanged += 1

    def _still_open(self, appointment: Appointment) -> bool:
        """Still to come, not cancelled, and its visitor not arrived: a file may change it."""
        if appointment.cancelled_at is not None or appointment.starts_at <= self._clock.now():
            return False
        visit = appointment.visits.first()
        return visit is None or visit.state == VisitState.EXPECTED

    def _change(self, appointment: Appointment, said: dict[str, Any], digest: str) -> None:
        fields = self._directory.checked_appointment(**said)
        now = self._clock.now()
        with storage_errors(), self._db.atomic():
            for name, value in fields.items():
                setattr(appointment, name, value)
            appointment.import_digest = digest
            appointment.updated_at = now
            appointment.save()
            Visit.update(
                host=fields["host"],
                purpose=fields["purpose"],
                level=fields["level"],
                visitor_type=fields["visitor_type"],
                company=fields["company"],
                updated_at=now,
            ).where(
                (Visit.appointment == appointment) & (Visit.state == VisitState.EXPECTED)
            ).execute()
            append_audit(now, "admin", "appointment.updated", appointment.ref, {"by": "import"})

    # ----------------------------------------------------------------- reading

    def _read_csv(self, data: bytes, problems: list[str]) -> list[FileBooking]:
        try:
            rows = read_csv(data)
        except InvalidInput as err:
            problems.append(str(err))
            return []
        zone = self._directory.calendar.zone
        found = []
        for line, row in enumerate(rows, start=2):
            where = f"line {line}"
            try:
                carried = carried_csv_key(row)
                if carried and row.get("status", "").strip().lower() == "cancelled":
                    found.append(FileBooking(carried, where, cancelled=True))
                    continue
                day = _typed(date.fromisoformat, row.get("date", ""), "date", "YYYY-MM-DD")
                start = datetime.combine(
                    day, _typed(time.fromisoformat, row.get("time", ""), "time", "HH:MM"), zone
                )
                end_text = row.get("end", "").strip()
                end = None
                if end_text:
                    end = datetime.combine(
                        day, _typed(time.fromisoformat, end_text, "end", "HH:MM"), zone
                    )
                fields = _booking_fields(
                    visitor_name=row.get("visitor_name", ""), host=row.get("host", ""),
                    starts_at=start, ends_at=end, company=row.get("company", ""),
                    email=row.get("email", ""), phone=row.get("phone", ""),
                    purpose=row.get("purpose", "") or "visit_person",
                    level=row.get("level", "") or "ordinary",
                    visitor_type=row.get("visitor_type", "") or "visitor",
                )  # fmt: skip
                key = carried or csv_row_key(
                    fields["visitor_name"], fields["host"], start, fields["email"]
                )
                found.append(FileBooking(key, where, fields))
            except (KioskError, ValueError) as err:
                problems.append(f"{where}: {err}")
        return found

    def _read_calendar(self, data: bytes, problems: list[str]) -> list[FileBooking]:
        """One visit per VEVENT: the visitor is X-KIOSK-VISITOR or the SUMMARY, the host
        X-KIOSK-HOST or the ORGANIZER's address."""
        from icalendar import Calendar

        try:
            calendar = Calendar.from_ical(data)
        except ValueError as err:
            problems.append(f"not an iCalendar file: {err}")
            return []
        zone = self._directory.calendar.zone
        found = []
        for number, event in enumerate(calendar.walk("VEVENT"), start=1):
            where = f"event {number}"
            try:
                key = event_key(event)
                if key and str(event.get("STATUS") or "").upper() == "CANCELLED":
                    found.append(FileBooking(key, where, cancelled=True))
                    continue
                start, end = event_times(event, zone)
                fields = _booking_fields(
                    visitor_name=str(event.get("X-KIOSK-VISITOR") or event.get("SUMMARY") or ""),
                    host=str(event.get("X-KIOSK-HOST") or "")
                    or calendar_address(event.get("ORGANIZER")),
                    starts_at=start, ends_at=end,
                    company=str(event.get("X-KIOSK-COMPANY") or ""),
                    purpose=str(event.get("X-KIOSK-PURPOSE") or "visit_person"),
                    visitor_type=str(event.get("X-KIOSK-TYPE") or "visitor"),
                )  # fmt: skip
                # An event without a UID (which RFC 5545 requires) is known like a CSV row.
                key = key or csv_row_key(fields["visitor_name"], fields["host"], start)
                found.append(FileBooking(key, where, fields))
            except (KioskError, ValueError, KeyError) as err:
                problems.append(f"{where}: {err}")
        return found


def _booking_fields(
    *,
    visitor_name: str,
    host: str,
    starts_at: datetime,
    ends_at: datetime | None,
    company: str = "",
    email: str = "",
    phone: str = "",
    purpose: str = "visit_person",
    level: str = "ordinary",
    visitor_type: str = "visitor",
) -> dict[str, Any]:
    """Directory.add_appointment's arguments from a file's text, stripped; the purpose and
    level checked here so that a bad one names its line."""
    return {
        "visitor_name": visitor_name.strip(),
        "host": host.strip(),
        "starts_at": starts_at,
        "ends_at": ends_at or starts_at + DEFAULT_APPOINTMENT_LENGTH,
        "company": company.strip(),
        "email": email.strip(),
        "phone": phone.strip(),
        "purpose": Purpose(purpose.strip()),
        "level": VisitorLevel(level.strip()),
        "visitor_type": visitor_type.strip(),
    }


def _typed(parse: Any, text: str, column: str, form: str) -> Any:
    """A date or time column, parsed, or InvalidInput naming the column and its form."""
    text = text.strip()
    if not text:
        raise InvalidInput(column, f"is required ({form})")
    try:
        return parse(text)
    except ValueError as err:
        raise InvalidInput(column, f"{text!r} is not {form}") from err
