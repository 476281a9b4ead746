"""Booking visits at the office: one visit, a recurring series, or a whole file (CSV or
iCalendar), and cancelling them. No web imports: the pages and the CLI both use this.

Everything a person typed or a file held is checked before anything is written, like the
kiosk's own imports (kiosk.services.directory, whose CSV and iCalendar readers this shares):
a file with one bad row is refused whole, with every problem listed, and a good one is booked
in one transaction. Each booking's invitation e-mail is queued in that same transaction
(kiosk.office.invitations) and sent after it, so the mail server never holds up a booking.

A series is a list of ordinary appointments, one per occurrence, each with its own
invitation, linked by an AppointmentSeries row so the rest of it can be cancelled at once.
Occurrences keep the wall-clock time in the site's zone across daylight-saving changes.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from peewee import JOIN, fn

from kiosk.config import DEFAULTS_FILE
from kiosk.domain.errors import InvalidInput, KioskError, NotFound
from kiosk.domain.text import COMPANY_MAX, check_email, check_name, check_optional, check_phone
from kiosk.domain.tokens import new_ref
from kiosk.domain.values import ON_SITE_STATES, Purpose, VisitorLevel
from kiosk.office.invitations import (
    cancel_invitations,
    mail_status_by_appointment,
    queue_invitations,
    queue_resend,
)
from kiosk.office.models import (
    AppointmentSeries,
    OfficeAppointment,
    OfficeHost,
    OfficeVisit,
    SeriesMember,
    Site,
)
from kiosk.office.settings import load_site_settings
from kiosk.office.staff import StaffDirectory
from kiosk.office.store import OfficeStore
from kiosk.services.directory import calendar_address, event_times, read_csv
from kiosk.storage.db import rows_of

MAX_OCCURRENCES = 52
MAX_IMPORT_ROWS = 2000
MAX_IMPORT_BYTES = 2 * 1024 * 1024
LONGEST_VISIT = timedelta(hours=24)
DEFAULT_LENGTH = timedelta(hours=1)
FREQUENCIES = {"daily": timedelta(days=1), "weekdays": timedelta(days=1), "weekly": timedelta(7)}
CSV_COLUMNS = ("visitor_name", "company", "email", "phone", "host_email", "starts_at", "ends_at",
               "purpose")  # fmt: skip
REQUIRED_CSV_COLUMNS = ("visitor_name", "host_email", "starts_at")


def visitor_types() -> dict[str, str]:
    """The visitor types every kiosk knows (the shipped defaults), with English labels."""
    defaults = tomllib.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))
    return {
        name: kind.get("label", {}).get("en", name)
        for name, kind in defaults["visitor_types"].items()
    }


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

    def arguments(self) -> dict[str, Any]:
        return {
            "visitor_name": self.visitor_name, "host_ref": self.host_ref,
            "starts_at": self.starts_at, "ends_at": self.ends_at, "company": self.company,
            "email": self.email, "phone": self.phone, "purpose": self.purpose,
            "level": self.level, "visitor_type": self.visitor_type,
            # The token id is fixed now, so a cancellation can revoke the invitation even
            # before its mail is signed and sent.
            "invitation_token_id": new_ref() if self.email else "",
        }  # fmt: skip

    def moved(self, starts_at: datetime) -> Booking:
        return replace(
            self, starts_at=starts_at, ends_at=starts_at + (self.ends_at - self.starts_at)
        )


@dataclass(frozen=True)
class Recurrence:
    """daily, weekdays (Monday to Friday) or weekly; `count` occurrences, or until a date
    (inclusive); never more than MAX_OCCURRENCES."""

    frequency: str
    count: int | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        if self.frequency not in FREQUENCIES:
            raise InvalidInput("repeat", f"must be one of {', '.join(FREQUENCIES)}")
        if self.count is None and self.until is None:
            raise InvalidInput("repeat", "needs a number of visits or an end date")
        if self.count is not None and not 1 <= self.count <= MAX_OCCURRENCES:
            raise InvalidInput("count", f"must be between 1 and {MAX_OCCURRENCES}")

    def starts(self, first: datetime, zone: ZoneInfo) -> list[datetime]:
        """The start of each occurrence, the first included, at the same local time."""
        local = first.astimezone(zone)
        if self.until is not None and self.until < local.date():
            raise InvalidInput("until", "is before the first visit")
        step = FREQUENCIES[self.frequency]
        limit = min(self.count or MAX_OCCURRENCES, MAX_OCCURRENCES)
        found: list[datetime] = []
        day = local.date()
        while len(found) < limit and (self.until is None or day <= self.until):
            if self.frequency != "weekdays" or day.weekday() < 5:
                found.append(datetime.combine(day, local.timetz().replace(tzinfo=None), zone))
            day += step
        while self.frequency == "weekdays" and day.weekday() >= 5:
            day += step  # a weekend left before the last day adds no visit
        if self.until is not None and self.count is None and day <= self.until:
            raise InvalidInput("until", f"makes more than {MAX_OCCURRENCES} visits")
        return found


@dataclass(frozen=True)
class AppointmentRow:
    """One line of the appointments list."""

    ref: str
    visitor_name: str
    company: str
    email: str
    phone: str
    host_ref: str
    host_name: str
    starts_at: datetime
    ends_at: datetime
    purpose: str
    level: str
    visitor_type: str
    state: str  # expected | on_site | left | no_show | denied | cancelled
    mail_status: str  # "" (no e-mail), pending, sending, sent, failed, given_up, cancelled
    mail_attempts: int
    mail_error: str
    mail_sent_at: datetime | None
    series_ref: str
    series_open: int  # occurrences of its series still to come and not cancelled


def visit_state(cancelled: bool, kiosk_state: str | None) -> str:
    if cancelled:
        return "cancelled"
    if kiosk_state in ON_SITE_STATES:
        return "on_site"
    return {"checked_out": "left", "no_show": "no_show", "denied": "denied"}.get(
        kiosk_state or "", "expected"
    )


class Bookings:
    def __init__(self, store: OfficeStore, staff: StaffDirectory) -> None:
        self.store = store
        self.staff = staff

    # ------------------------------------------------------------------ reading

    @staticmethod
    def zone(site: Site) -> ZoneInfo:
        try:
            return ZoneInfo(load_site_settings(site).timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    @staticmethod
    def active_hosts(site: Site | int) -> list[OfficeHost]:
        return list(
            OfficeHost.select()
            .where((OfficeHost.site == site) & OfficeHost.active)
            .order_by(OfficeHost.name)
        )

    def appointment(self, site: Site, ref: str, host_ref: str = "") -> OfficeAppointment:
        """The site's appointment `ref` (only if it is `host_ref`'s, when given)."""
        found = OfficeAppointment.get_or_none(
            (OfficeAppointment.ref == ref) & (OfficeAppointment.site == site)
        )
        if found is None or (host_ref and found.host_ref != host_ref):
            raise NotFound("no such appointment")
        return found

    def listing(
        self,
        site: Site,
        *,
        start: datetime,
        end: datetime | None = None,
        host_ref: str = "",
        series_ref: str = "",
        limit: int = 500,
    ) -> list[AppointmentRow]:
        """Appointments still running at or after `start` (and starting before `end`)."""
        query = (
            OfficeAppointment.select(
                OfficeAppointment,
                OfficeVisit.state.alias("kiosk_state"),
                AppointmentSeries.ref.alias("series_ref"),
            )
            .join(
                OfficeVisit,
                JOIN.LEFT_OUTER,
                on=(OfficeVisit.ref == OfficeAppointment.visit_ref),
            )
            .switch(OfficeAppointment)
            .join(SeriesMember, JOIN.LEFT_OUTER)
            .join(AppointmentSeries, JOIN.LEFT_OUTER)
            .where((OfficeAppointment.site == site) & (OfficeAppointment.ends_at > start))
            .order_by(OfficeAppointment.starts_at, OfficeAppointment.id)
            .limit(limit)
        )
        if end is not None:
            query = query.where(OfficeAppointment.starts_at < end)
        if host_ref:
            query = query.where(OfficeAppointment.host_ref == host_ref)
        if series_ref:
            query = query.where(AppointmentSeries.ref == series_ref)
        appointments = list(query.objects())
        hosts = dict(
            rows_of(
                OfficeHost.select(OfficeHost.ref, OfficeHost.name).where(OfficeHost.site == site)
            )
        )
        mails = mail_status_by_appointment([a.id for a in appointments])
        ahead = self._occurrences_ahead({a.series_ref for a in appointments if a.series_ref})
        rows = []
        for a in appointments:
            mail = mails.get(a.id)
            rows.append(
                AppointmentRow(
                    ref=a.ref, visitor_name=a.visitor_name, company=a.company, email=a.email,
                    phone=a.phone, host_ref=a.host_ref, host_name=hosts.get(a.host_ref, "?"),
                    starts_at=a.starts_at, ends_at=a.ends_at, purpose=a.purpose, level=a.level,
                    visitor_type=a.visitor_type,
                    state=visit_state(a.cancelled_at is not None, a.kiosk_state),
                    mail_status=mail.status if mail else "",
                    mail_attempts=mail.attempts if mail else 0,
                    mail_error=mail.last_error if mail else "",
                    mail_sent_at=mail.sent_at if mail else None,
                    series_ref=a.series_ref or "", series_open=ahead.get(a.series_ref or "", 0),
                )
            )  # fmt: skip
        return rows

    def _occurrences_ahead(self, series_refs: set[str]) -> dict[str, int]:
        """How many occurrences of each series are still to come and not cancelled."""
        if not series_refs:
            return {}
        query = (
            AppointmentSeries.select(AppointmentSeries.ref, fn.COUNT(OfficeAppointment.id))
            .join(SeriesMember)
            .join(OfficeAppointment)
            .where(
                AppointmentSeries.ref.in_(list(series_refs))
                & OfficeAppointment.cancelled_at.is_null()
                & (OfficeAppointment.starts_at > self.store.clock.now())
            )
            .group_by(AppointmentSeries.ref)
        )
        return dict(rows_of(query))

    # ------------------------------------------------------------------ checking

    def check(
        self,
        site: Site,
        *,
        visitor_name: str,
        host_ref: str,
        starts_at: datetime,
        ends_at: datetime | None = None,
        company: str = "",
        email: str = "",
        phone: str = "",
        purpose: str = Purpose.VISIT_PERSON.value,
        level: str = VisitorLevel.ORDINARY.value,
        visitor_type: str = "visitor",
        hosts: dict[str, OfficeHost] | None = None,
    ) -> Booking:
        """A Booking, or InvalidInput naming the first field that is wrong. Names are kept
        exactly as typed (any script); only what cannot be stored or printed is refused."""
        visitor_name = visitor_name.strip()
        check_name(visitor_name, "visitor_name")
        company, email, phone = company.strip(), email.strip(), phone.strip()
        check_optional(company, "company", COMPANY_MAX)
        check_email(email)
        check_phone(phone)
        known = hosts if hosts is not None else {h.ref: h for h in self.active_hosts(site)}
        if host_ref not in known:
            raise InvalidInput("host", "is not an active host of this site")
        if starts_at.tzinfo is None:
            raise InvalidInput("starts_at", "needs a time zone")
        ends_at = ends_at or starts_at + DEFAULT_LENGTH
        if ends_at <= starts_at:
            raise InvalidInput("ends_at", "must be after the start")
        if ends_at - starts_at > LONGEST_VISIT:
            raise InvalidInput("ends_at", "a visit lasts at most 24 hours")
        if ends_at <= self.store.clock.now():
            raise InvalidInput("starts_at", "is in the past")
        try:
            purpose = Purpose(purpose.strip() or Purpose.VISIT_PERSON).value
        except ValueError as err:
            raise InvalidInput("purpose", f"must be one of {', '.join(Purpose)}") from err
        try:
            level = VisitorLevel(level.strip() or VisitorLevel.ORDINARY).value
        except ValueError as err:
            raise InvalidInput("level", f"must be one of {', '.join(VisitorLevel)}") from err
        types = visitor_types()
        if visitor_type not in types:
            raise InvalidInput("visitor_type", f"must be one of {', '.join(types)}")
        return Booking(
            visitor_name=visitor_name, host_ref=host_ref, starts_at=starts_at, ends_at=ends_at,
            company=company, email=email, phone=phone, purpose=purpose, level=level,
            visitor_type=visitor_type,
        )  # fmt: skip

    # ------------------------------------------------------------------ booking

    def book(
        self,
        site: Site,
        actor: str,
        bookings: list[Booking],
        *,
        recurrence: Recurrence | None = None,
        source: str = "web",
    ) -> list[OfficeAppointment]:
        """Book visits in one transaction, with their audit entry and queued invitations.
        With a recurrence, `bookings` is the first visit of the series."""
        if recurrence is not None:
            if len(bookings) != 1:
                raise InvalidInput("repeat", "a series starts from one visit")
            starts = recurrence.starts(bookings[0].starts_at, self.zone(site))
            bookings = [bookings[0].moved(start) for start in starts]
            if not bookings:
                raise InvalidInput("repeat", "makes no visits")
            if bookings[-1].ends_at <= self.store.clock.now():
                raise InvalidInput("starts_at", "is in the past")
        if not bookings:
            raise InvalidInput("file", "has no visits")
        now = self.store.clock.now()
        with self.store.site_change(site):
            made = self.store.add_appointments(site.name, [b.arguments() for b in bookings])
            ids: dict[str, int] = dict(
                rows_of(
                    OfficeAppointment.select(OfficeAppointment.ref, OfficeAppointment.id).where(
                        OfficeAppointment.ref.in_([a.ref for a in made])
                    )
                )
            )
            for appointment in made:
                appointment.id = ids[appointment.ref]
            series_ref = ""
            if recurrence is not None:
                series = AppointmentSeries.create(
                    ref=new_ref(), site=site, frequency=recurrence.frequency,
                    occurrences=len(made), created_by=actor, created_at=now,
                )  # fmt: skip
                series_ref = series.ref
                SeriesMember.insert_many(
                    [{"series": series.id, "appointment": a.id} for a in made]
                ).execute()
            queue_invitations(site, [a.id for a in made if a.email], now)
            self.staff.audit(
                site, actor, "appointment.import" if source != "web" else "appointment.create",
                entity="appointment", ref=made[0].ref if len(made) == 1 else series_ref,
                detail={
                    "count": len(made), "source": source, "series": series_ref or None,
                    "refs": [a.ref for a in made][:100],
                    "first_starts_at": min(a.starts_at for a in made).isoformat(),
                },
            )  # fmt: skip
        return made

    def cancel(self, site: Site, actor: str, ref: str, *, host_ref: str = "") -> None:
        """Cancel one visit: its invitation is revoked through the change feed."""
        appointment = self.appointment(site, ref, host_ref)
        if appointment.cancelled_at is not None:
            raise InvalidInput("appointment", "is already cancelled")
        self._refuse_if_arrived([appointment])
        with self.store.site_change(site):
            self.store.cancel_appointment(ref)
            cancel_invitations([appointment.id])
            self.staff.audit(site, actor, "appointment.cancel", entity="appointment", ref=ref,
                             detail={"starts_at": appointment.starts_at.isoformat()})  # fmt: skip

    def cancel_series(self, site: Site, actor: str, series_ref: str, *, host_ref: str = "") -> int:
        """Cancel the occurrences of a series that have not begun; the past ones stay as
        they were. Returns how many were cancelled."""
        series = AppointmentSeries.get_or_none(
            (AppointmentSeries.ref == series_ref) & (AppointmentSeries.site == site)
        )
        if series is None:
            raise NotFound("no such series")
        members = list(
            OfficeAppointment.select()
            .join(SeriesMember)
            .where(SeriesMember.series == series)
            .order_by(OfficeAppointment.starts_at)
        )
        if host_ref and any(a.host_ref != host_ref for a in members):
            raise NotFound("no such series")
        now = self.store.clock.now()
        ahead = [a for a in members if a.cancelled_at is None and a.starts_at > now]
        visited = self._arrived({a.visit_ref for a in ahead})
        ahead = [a for a in ahead if a.visit_ref not in visited]
        with self.store.site_change(site):
            for appointment in ahead:
                self.store.cancel_appointment(appointment.ref)
            cancel_invitations([a.id for a in ahead])
            series.cancelled_at = now
            series.save()
            self.staff.audit(site, actor, "series.cancel", entity="series", ref=series_ref,
                             detail={"cancelled": [a.ref for a in ahead]})  # fmt: skip
        return len(ahead)

    def resend(self, site: Site, actor: str, ref: str, *, host_ref: str = "") -> None:
        """A person asked for the invitation e-mail again."""
        appointment = self.appointment(site, ref, host_ref)
        with self.store.site_change(site):
            queue_resend(appointment, self.store.clock.now())
            self.staff.audit(site, actor, "invitation.resend", entity="appointment", ref=ref)

    @staticmethod
    def _arrived(visit_refs: set[str]) -> set[str]:
        if not visit_refs:
            return set()
        query = OfficeVisit.select(OfficeVisit.ref).where(
            OfficeVisit.ref.in_(list(visit_refs)) & (OfficeVisit.state != "expected")
        )
        return {row[0] for row in rows_of(query)}

    def _refuse_if_arrived(self, appointments: Iterable[OfficeAppointment]) -> None:
        if self._arrived({a.visit_ref for a in appointments}):
            raise InvalidInput("appointment", "the visitor has already arrived")

    # ------------------------------------------------------------------ files

    def read_file(
        self, site: Site, filename: str, data: bytes, *, only_host: str = ""
    ) -> list[Booking]:
        """The visits of a CSV or iCalendar file, all checked; ImportRefused lists every
        problem if any. `only_host` limits a host's own import to themselves."""
        if len(data) > MAX_IMPORT_BYTES:
            raise ImportRefused([f"the file is larger than {MAX_IMPORT_BYTES // 1024} KiB"])
        is_calendar = filename.lower().endswith((".ics", ".ical", ".ifb")) or data.lstrip(
            b"\xef\xbb\xbf \r\n"
        ).startswith(b"BEGIN:VCALENDAR")
        hosts = self.active_hosts(site)
        by_email = {h.email.strip().lower(): h for h in hosts if h.email.strip()}
        allowed = {h.ref: h for h in hosts if not only_host or h.ref == only_host}
        reader = self._read_calendar if is_calendar else self._read_csv
        problems: list[str] = []
        bookings = reader(site, data, by_email, allowed, problems)
        if not problems and not bookings:
            problems.append("the file has no visits")
        if len(bookings) > MAX_IMPORT_ROWS:
            problems.append(f"the file has more than {MAX_IMPORT_ROWS} visits; split it")
        if problems:
            raise ImportRefused(problems)
        return bookings

    def _read_csv(
        self,
        site: Site,
        data: bytes,
        by_email: dict[str, OfficeHost],
        allowed: dict[str, OfficeHost],
        problems: list[str],
    ) -> list[Booking]:
        try:
            rows = read_csv(data)
        except InvalidInput as err:
            problems.append(str(err))
            return []
        missing = [c for c in REQUIRED_CSV_COLUMNS if rows and c not in rows[0]]
        if missing:
            problems.append(
                f"missing column(s): {', '.join(missing)} (expected: {', '.join(CSV_COLUMNS)})"
            )
            return []
        zone = self.zone(site)
        bookings = []
        for line, row in enumerate(rows[: MAX_IMPORT_ROWS + 1], start=2):
            try:
                starts_at = _local_datetime(row.get("starts_at", ""), zone, "starts_at")
                end_text = row.get("ends_at", "").strip()
                ends_at = _end_time(end_text, starts_at, zone) if end_text else None
                host = _host_by_email(row.get("host_email", ""), by_email, allowed)
                bookings.append(
                    self.check(
                        site, visitor_name=row.get("visitor_name", ""), host_ref=host.ref,
                        starts_at=starts_at, ends_at=ends_at, company=row.get("company", ""),
                        email=row.get("email", ""), phone=row.get("phone", ""),
                        purpose=row.get("purpose", ""), level=row.get("level", ""),
                        visitor_type=row.get("visitor_type", "").strip() or "visitor",
                        hosts=allowed,
                    )
                )  # fmt: skip
            except InvalidInput as err:
                problems.append(f"line {line}: {err}")
        return bookings

    def _read_calendar(
        self,
        site: Site,
        data: bytes,
        by_email: dict[str, OfficeHost],
        allowed: dict[str, OfficeHost],
        problems: list[str],
    ) -> list[Booking]:
        """One visit per attendee of each VEVENT who is not a host: the ORGANIZER is the host
        (by e-mail), an ATTENDEE is the visitor, named by its CN."""
        from icalendar import Calendar

        try:
            calendar = Calendar.from_ical(data)
        except ValueError as err:
            problems.append(f"not an iCalendar file: {err}")
            return []
        zone = self.zone(site)
        bookings = []
        for number, event in enumerate(calendar.walk("VEVENT"), start=1):
            where = f"event {number}" + (
                f" ({event.get('SUMMARY')})" if event.get("SUMMARY") else ""
            )
            if str(event.get("STATUS") or "").upper() == "CANCELLED":
                continue
            try:
                if event.get("RRULE"):
                    raise InvalidInput(
                        "RRULE", "repeating events are not imported: book a series instead"
                    )
                starts_at, ends_at = event_times(event, zone)
                host = _host_by_email(calendar_address(event.get("ORGANIZER")), by_email, allowed)
                attendees = event.get("ATTENDEE") or []
                if not isinstance(attendees, list):
                    attendees = [attendees]
                visitors = [a for a in attendees if calendar_address(a).lower() not in by_email]
                if not visitors:
                    raise InvalidInput("ATTENDEE", "no visitor: every attendee is a host")
                for attendee in visitors:
                    name = str(attendee.params.get("CN", "")).strip()
                    address = calendar_address(attendee)
                    if not name:
                        raise InvalidInput("ATTENDEE", f"{address} has no name (CN)")
                    bookings.append(
                        self.check(
                            site, visitor_name=name, host_ref=host.ref, starts_at=starts_at,
                            ends_at=ends_at, email=address,
                            company=str(event.get("X-KIOSK-COMPANY") or ""),
                            purpose=str(event.get("X-KIOSK-PURPOSE") or ""),
                            hosts=allowed,
                        )
                    )  # fmt: skip
            except InvalidInput as err:
                problems.append(f"{where}: {err}")
        return bookings


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


def _host_by_email(
    address: str, by_email: dict[str, OfficeHost], allowed: dict[str, OfficeHost]
) -> OfficeHost:
    address = address.strip().lower()
    if not address:
        raise InvalidInput("host_email", "is required")
    host = by_email.get(address)
    if host is None:
        raise InvalidInput("host_email", f"no active host has the address {address}")
    if host.ref not in allowed:
        raise InvalidInput("host_email", "you may only book your own visitors")
    return host


def local_datetime(day: str, clock: str, zone: ZoneInfo) -> datetime:
    """A date and time typed in a form, in the site's zone."""
    try:
        return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), zone)
    except ValueError as err:
        raise InvalidInput("starts_at", "needs a date and a time") from err
