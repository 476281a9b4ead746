"""Reading the files visits are booked from at the office: CSV rows and iCalendar events,
each checked as a booking (kiosk.office.bookings.Bookings.check) before anything is written.

A file with one bad row is refused whole (`ImportRefused`, every problem listed). What the
reader finds is an `ImportFile`: visits booked whenever imported, and the events the office
remembers from one import to the next (see kiosk.office.bookings' docstring for how an event
or a row is recognised). The CSV and iCalendar parsing itself is shared with the kiosk
(kiosk.domain.booking_files).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.domain.booking_files import calendar_address, event_times, read_csv
from kiosk.domain.errors import InvalidInput, KioskError
from kiosk.domain.import_identity import carried_csv_key, content_digest, csv_row_key, event_key
from kiosk.domain.tokens import new_ref
from kiosk.domain.values import Purpose, VisitorLevel
from kiosk.office.models import OfficeHost

MAX_IMPORT_ROWS = 2000
MAX_IMPORT_BYTES = 2 * 1024 * 1024
DEFAULT_LENGTH = timedelta(hours=1)
CSV_COLUMNS = ("visitor_name", "company", "email", "phone", "host_email", "starts_at", "ends_at",
               "purpose")  # fmt: skip
REQUIRED_CSV_COLUMNS = ("visitor_name", "host_email", "starts_at")


class ImportRefused(KioskError):
    """A file with problems: nothing of it was booked. `problems` says where and what."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s): " + "; ".join(problems[:5]))


@dataclass(frozen=True)
class Booking:
    """One checked visit, ready to book."""

    visitor_name: str
    host_ref: str
    starts_at: datetime
    ends_at: datetime
    company: str = ""
    email: str = ""
    phone: str = ""
    purpose: str = Purpose.VISIT_PERSON.value
    level: str = VisitorLevel.ORDINARY.value
    visitor_type: str = "visitor"
    # From an iCalendar event: see OfficeAppointment.import_key and its neighbours.
    import_key: str = ""
    import_sequence: int = 0
    import_digest: str = ""

    def arguments(self) -> dict[str, Any]:
        return {
            "visitor_name": self.visitor_name, "host_ref": self.host_ref,
            "starts_at": self.starts_at, "ends_at": self.ends_at, "company": self.company,
            "email": self.email, "phone": self.phone, "purpose": self.purpose,
            "level": self.level, "visitor_type": self.visitor_type,
            # The token id is fixed now, so a cancellation can revoke the invitation even
            # before its mail is signed and sent.
            "invitation_token_id": new_ref() if self.email else "",
            "import_key": self.import_key, "import_sequence": self.import_sequence,
            "import_digest": self.import_digest,
        }  # fmt: skip

    def event_changes(self) -> dict[str, Any]:
        """What a newer version of its calendar event sets on the visit booked from it:
        what an event says (phone, level and visitor type it does not)."""
        return {
            "visitor_name": self.visitor_name, "host_ref": self.host_ref,
            "starts_at": self.starts_at, "ends_at": self.ends_at, "company": self.company,
            "email": self.email, "purpose": self.purpose,
            "import_sequence": self.import_sequence, "import_digest": self.import_digest,
        }  # fmt: skip

    def moved(self, starts_at: datetime) -> Booking:
        return replace(
            self, starts_at=starts_at, ends_at=starts_at + (self.ends_at - self.starts_at)
        )


@dataclass(frozen=True)
class CalendarEvent:
    """One VEVENT of an imported iCalendar file that has a UID."""

    key: str  # OfficeAppointment.import_key: the same however often the file is imported
    sequence: int  # its SEQUENCE: lower than the office has seen is an older version
    label: str  # "event 3 (Quarterly review)", as problems name it
    visits: tuple[Booking, ...] = ()  # one per visiting attendee; none when cancelled or over
    cancelled: bool = False  # STATUS:CANCELLED
    # Ended already: nothing to book, but a file imported again may well still hold it.
    over: bool = False


@dataclass
class ImportFile:
    """A checked file: visits booked whenever imported (CSV rows, events without a UID),
    and events the office remembers."""

    bookings: list[Booking] = field(default_factory=list)
    events: list[CalendarEvent] = field(default_factory=list)

    def visit_count(self) -> int:
        return len(self.bookings) + sum(len(event.visits) for event in self.events)


def _event_sequence(event: Any) -> int:
    try:
        return int(event.get("SEQUENCE") or 0)
    except (TypeError, ValueError) as err:
        raise InvalidInput("SEQUENCE", "must be a whole number") from err


def visitor_key(email: str, name: str) -> str:
    """Who a visitor of a calendar event is, from one import to the next: the address."""
    return email.strip().lower() or name


def _visit_digest(booking: Booking, summary: str) -> str:
    """What an event says about one of its visits: unchanged while this is."""
    return content_digest(
        summary, booking.starts_at, booking.ends_at, booking.host_ref, booking.visitor_name,
        booking.email.lower(), booking.company, booking.purpose,
    )  # fmt: skip


def _local_datetime(text: str, zone: ZoneInfo, field: str) -> datetime:
    """`2026-11-23 10:00` (the site's time) or ISO 8601 with an offset."""
    text = text.strip()
    if not text:
        raise InvalidInput(field, "is required")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as err:
        raise InvalidInput(field, f"{text!r} is not a date and time (YYYY-MM-DD HH:MM)") from err
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _end_time(text: str, starts_at: datetime, zone: ZoneInfo) -> datetime:
    """A full date and time, or only a time on the start's day."""
    try:
        clock = time.fromisoformat(text)
    except ValueError:
        return _local_datetime(text, zone, "ends_at")
    local_start = starts_at.astimezone(zone)
    return datetime.combine(local_start.date(), clock.replace(tzinfo=None), zone)


class BookingFileReader:
    """Reads one file's visits for a site: `check` checks one booking (Bookings.check bound
    to the site), `by_email` finds the site's active hosts by address, and `allowed` holds
    the hosts the person importing may book for."""

    def __init__(
        self,
        check: Callable[..., Booking],
        zone: ZoneInfo,
        now: Callable[[], datetime],
        by_email: dict[str, OfficeHost],
        allowed: dict[str, OfficeHost],
    ) -> None:
        self._check = check
        self._zone = zone
        self._now = now
        self._by_email = by_email
        self._allowed = allowed

    def read_csv(self, data: bytes, problems: list[str]) -> ImportFile:
        """Each row as a remembered event of one visit (see the module's docstring)."""
        try:
            rows = read_csv(data)
        except InvalidInput as err:
            problems.append(str(err))
            return ImportFile()
        missing = [c for c in REQUIRED_CSV_COLUMNS if rows and c not in rows[0]]
        if missing:
            problems.append(
                f"missing column(s): {', '.join(missing)} (expected: {', '.join(CSV_COLUMNS)})"
            )
            return ImportFile()
        zone = self._zone
        found = ImportFile()
        lines: dict[str, int] = {}  # row key -> the line that has it
        for line, row in enumerate(rows[: MAX_IMPORT_ROWS + 1], start=2):
            where = f"line {line}"
            try:
                carried = carried_csv_key(row)
                if carried and row.get("status", "").strip().lower() == "cancelled":
                    found.events.append(CalendarEvent(carried, 0, where, cancelled=True))
                    continue
                starts_at = _local_datetime(row.get("starts_at", ""), zone, "starts_at")
                end_text = row.get("ends_at", "").strip()
                ends_at = _end_time(end_text, starts_at, zone) if end_text else None
                key = carried or csv_row_key(
                    row.get("visitor_name", ""), row.get("host_email", ""), starts_at,
                    row.get("email", ""),
                )  # fmt: skip
                if key in lines:
                    raise InvalidInput("row", f"books the same visit as line {lines[key]}")
                lines[key] = line
                if (ends_at or starts_at + DEFAULT_LENGTH) <= self._now():
                    found.events.append(CalendarEvent(key, 0, where, over=True))
                    continue
                host = self._host_by_email(row.get("host_email", ""))
                booking = self._check(
                    visitor_name=row.get("visitor_name", ""), host_ref=host.ref,
                    starts_at=starts_at, ends_at=ends_at, company=row.get("company", ""),
                    email=row.get("email", ""), phone=row.get("phone", ""),
                    purpose=row.get("purpose", ""), level=row.get("level", ""),
                    visitor_type=row.get("visitor_type", "").strip() or "visitor",
                    hosts=self._allowed,
                )  # fmt: skip
                booked = replace(booking, import_key=key, import_digest=_visit_digest(booking, ""))
                found.events.append(CalendarEvent(key, 0, where, (booked,)))
            except InvalidInput as err:
                problems.append(f"{where}: {err}")
        return found

    def read_calendar(self, data: bytes, problems: list[str]) -> ImportFile:
        """One visit per attendee of each VEVENT who is not a host: the ORGANIZER is the host
        (by e-mail), an ATTENDEE is the visitor, named by its CN. A cancelled event is only
        remembered, to cancel what an earlier import of it booked."""
        from icalendar import Calendar

        try:
            calendar = Calendar.from_ical(data)
        except ValueError as err:
            problems.append(f"not an iCalendar file: {err}")
            return ImportFile()
        found = ImportFile()
        numbers: dict[str, int] = {}  # event key -> the number of the event that has it
        for number, event in enumerate(calendar.walk("VEVENT"), start=1):
            summary = str(event.get("SUMMARY") or "")
            where = f"event {number}" + (f" ({summary})" if summary else "")
            try:
                key = event_key(event)
                if key in numbers:
                    raise InvalidInput("UID", f"is also the UID of event {numbers[key]}")
                if key:
                    numbers[key] = number
                found.events.extend(self._calendar_event(event, key, where, summary))
            except InvalidInput as err:
                problems.append(f"{where}: {err}")
        return found

    def _calendar_event(
        self, event: Any, key: str, where: str, summary: str
    ) -> list[CalendarEvent]:
        """What one VEVENT books or remembers (nothing for an event without a UID that is
        cancelled or over); InvalidInput if it cannot be booked."""
        sequence = _event_sequence(event)
        if str(event.get("STATUS") or "").upper() == "CANCELLED":
            return [CalendarEvent(key, sequence, where, cancelled=True)] if key else []
        if event.get("RRULE"):
            raise InvalidInput("RRULE", "repeating events are not imported: book a series instead")
        starts_at, ends_at = event_times(event, self._zone)
        if key and (ends_at or starts_at + DEFAULT_LENGTH) <= self._now():
            return [CalendarEvent(key, sequence, where, over=True)]
        host = self._host_by_email(calendar_address(event.get("ORGANIZER")))
        attendees = event.get("ATTENDEE") or []
        if not isinstance(attendees, list):
            attendees = [attendees]
        visitors = [a for a in attendees if calendar_address(a).lower() not in self._by_email]
        if not visitors:
            raise InvalidInput("ATTENDEE", "no visitor: every attendee is a host")
        visits: dict[str, Booking] = {}
        for attendee in visitors:
            name = str(attendee.params.get("CN", "")).strip()
            address = calendar_address(attendee)
            if not name:
                raise InvalidInput("ATTENDEE", f"{address} has no name (CN)")
            booking = self._check(
                visitor_name=name, host_ref=host.ref, starts_at=starts_at, ends_at=ends_at,
                email=address, company=str(event.get("X-KIOSK-COMPANY") or ""),
                purpose=str(event.get("X-KIOSK-PURPOSE") or ""), hosts=self._allowed,
            )  # fmt: skip
            # Named twice, invited once.
            visits.setdefault(visitor_key(booking.email, booking.visitor_name), booking)
        if not key:  # no UID (which RFC 5545 requires): each visit known like a CSV row
            found = []
            for booking in visits.values():
                row_key = csv_row_key(
                    booking.visitor_name, host.email, booking.starts_at, booking.email
                )
                digest = _visit_digest(booking, summary)
                booked = replace(booking, import_key=row_key, import_digest=digest)
                found.append(CalendarEvent(row_key, 0, where, (booked,)))
            return found
        return [
            CalendarEvent(
                key, sequence, where,
                tuple(
                    replace(b, import_key=key, import_sequence=sequence,
                            import_digest=_visit_digest(b, summary))
                    for b in visits.values()
                ),
            )
        ]  # fmt: skip

    def _host_by_email(self, address: str) -> OfficeHost:
        address = address.strip().lower()
        if not address:
            raise InvalidInput("host_email", "is required")
        host = self._by_email.get(address)
        if host is None:
            raise InvalidInput("host_email", f"no active host has the address {address}")
        if host.ref not in self._allowed:
            raise InvalidInput("host_email", "you may only book your own visitors")
        return host
