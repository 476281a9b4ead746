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

Cancelling a visit whose invitation had gone out queues a cancellation notice to the visitor
in the same transaction (one per visit, also for each visit of a series: each invitation
made its own calendar entry, which its own notice withdraws).

Importing a file again books nothing twice (kiosk.domain.import_identity says how a booking
is recognised). An iCalendar event is remembered by its UID and RECURRENCE-ID: each visitor
of an event already imported is matched by address, left as it is when the event says the
same, updated when it says something new (still to come and not arrived), and cancelled when
the event is, or no longer names them. A CSV row is remembered by the key it carries (a
`key` or `uid` column: then it is updated like an event, and cancelled by `status` =
`cancelled`), or else by who visits whom and when, so the same row twice books one visit.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from peewee import JOIN, fn

from kiosk.dbkit.rows import rows_of
from kiosk.domain.booking_files import calendar_address, event_times, read_csv
from kiosk.domain.errors import InvalidInput, KioskError, NotFound
from kiosk.domain.import_identity import carried_csv_key, content_digest, csv_row_key, event_key
from kiosk.domain.text import COMPANY_MAX, check_email, check_name, check_optional, check_phone
from kiosk.domain.tokens import new_ref
from kiosk.domain.values import ON_SITE_STATES, Purpose, VisitorLevel
from kiosk.office.invitations import (
    cancel_invitations,
    mail_status_by_appointment,
    queue_cancellation_notices,
    queue_invitations,
    queue_resend,
)
from kiosk.office.models import (
    AppointmentSeries,
    CancellationMail,
    OfficeAppointment,
    OfficeHost,
    OfficeVisit,
    SeriesMember,
    Site,
)
from kiosk.office.settings import load_site_settings
from kiosk.office.staff import StaffDirectory
from kiosk.office.store import OfficeStore
from kiosk.office.typed_dates import typed_date, typed_time

MAX_OCCURRENCES = 52
MAX_IMPORT_ROWS = 2000
MAX_IMPORT_BYTES = 2 * 1024 * 1024
#: The kiosk's shipped defaults (kiosk/config/defaults.toml), read as a file: importing
#: kiosk.config would load the kiosk's device configuration into the office.
DEFAULTS_FILE = Path(__file__).resolve().parent.parent / "config" / "defaults.toml"
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


@dataclass
class ImportResult:
    """What an import did, visit by visit."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0  # the same as before, an older version, or begun, arrived or cancelled
    cancelled: int = 0
    mail_for: list[int] = field(default_factory=list)  # appointment ids with mail to send


@dataclass
class ImportPlan:
    """What an import is to do (Bookings._plan_import)."""

    new: list[Booking]
    changed: list[tuple[OfficeAppointment, Booking]] = field(default_factory=list)
    ending: list[OfficeAppointment] = field(default_factory=list)
    unchanged: int = 0
    # The appointments of each event seen again, and the event's SEQUENCE in this file.
    sequences: list[tuple[list[int], int]] = field(default_factory=list)


@dataclass(frozen=True)
class Cancellation:
    """What a cancellation did: the visits cancelled (refs), and the appointment ids of
    those whose visitors are told by e-mail (their invitation had gone out)."""

    refs: list[str]
    told: list[int]


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
    # The cancellation notice: "" (none: not cancelled, or no invitation had gone out),
    # then as mail_status ("cancelled": the invitation turned out not to have gone out).
    notice_status: str
    notice_attempts: int
    notice_error: str
    notice_sent_at: datetime | None
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
        notices = mail_status_by_appointment(
            [a.id for a in appointments if a.cancelled_at is not None], CancellationMail
        )
        ahead = self._occurrences_ahead({a.series_ref for a in appointments if a.series_ref})
        rows = []
        for a in appointments:
            mail, notice = mails.get(a.id), notices.get(a.id)
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
                    notice_status=notice.status if notice else "",
                    notice_attempts=notice.attempts if notice else 0,
                    notice_error=notice.last_error if notice else "",
                    notice_sent_at=notice.sent_at if notice else None,
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
        if not host_ref:
            raise InvalidInput("host", "is required")
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
            made = self._insert(site, bookings, now)
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

    def _insert(
        self, site: Site, bookings: list[Booking], now: datetime
    ) -> list[OfficeAppointment]:
        """Book checked visits and queue their invitations, inside the caller's site_change."""
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
        queue_invitations(site, [a.id for a in made if a.email], now)
        return made

    def _cancel(
        self, site: Site, appointments: list[OfficeAppointment], now: datetime
    ) -> Cancellation:
        """Cancel visits, inside the caller's site_change: kiosks learn of it through the
        feed, invitations not yet sent never will be, and the visitors who had one are told."""
        for appointment in appointments:
            self.store.cancel_appointment(appointment.ref)
        ids = [a.id for a in appointments]
        cancel_invitations(ids)
        told = queue_cancellation_notices(site, ids, now)
        return Cancellation([a.ref for a in appointments], told)

    def cancel(self, site: Site, actor: str, ref: str, *, host_ref: str = "") -> Cancellation:
        """Cancel one visit: its invitation is revoked through the change feed, and the
        visitor is told if it had reached them."""
        appointment = self.appointment(site, ref, host_ref)
        if appointment.cancelled_at is not None:
            raise InvalidInput("appointment", "is already cancelled")
        self._refuse_if_arrived([appointment])
        with self.store.site_change(site):
            done = self._cancel(site, [appointment], self.store.clock.now())
            self.staff.audit(site, actor, "appointment.cancel", entity="appointment", ref=ref,
                             detail={"starts_at": appointment.starts_at.isoformat(),
                                     "visitor_told": bool(done.told)})  # fmt: skip
        return done

    def cancel_series(
        self, site: Site, actor: str, series_ref: str, *, host_ref: str = ""
    ) -> Cancellation:
        """Cancel the occurrences of a series that have not begun; the past ones stay as
        they were."""
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
            done = self._cancel(site, ahead, now)
            series.cancelled_at = now
            series.save()
            self.staff.audit(site, actor, "series.cancel", entity="series", ref=series_ref,
                             detail={"cancelled": done.refs, "told": len(done.told)})  # fmt: skip
        return done

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
    ) -> ImportFile:
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
        problems: list[str] = []
        if is_calendar:
            found = self._read_calendar(site, data, by_email, allowed, problems)
        else:
            found = self._read_csv(site, data, by_email, allowed, problems)
        if not problems and not found.bookings and not found.events:
            problems.append("the file has no visits")
        if found.visit_count() > MAX_IMPORT_ROWS:
            problems.append(f"the file has more than {MAX_IMPORT_ROWS} visits; split it")
        if problems:
            raise ImportRefused(problems)
        return found

    def import_file(
        self, site: Site, actor: str, found: ImportFile, *, source: str, only_host: str = ""
    ) -> ImportResult:
        """Book a checked file in one transaction, with its audit entry and queued mails.
        Its calendar events already imported change what they booked instead (see the
        module's docstring); ImportRefused if one of them is another host's, for a host
        (`only_host`) importing their own."""
        now = self.store.clock.now()
        with self.store.site_change(site):
            plan = self._plan_import(site, found, now, only_host)
            result = ImportResult(unchanged=plan.unchanged)
            made = self._insert(site, plan.new, now) if plan.new else []
            result.added = len(made)
            result.mail_for += [a.id for a in made if a.email]
            for appointment, booking in plan.changed:
                told = self.store.change_appointment(appointment.ref, booking.event_changes())
                if told and appointment.email:  # the visitor gets the invitation as it is now
                    queue_resend(appointment, now)
                    result.mail_for.append(appointment.id)
            result.updated = len(plan.changed)
            for ids, sequence in plan.sequences:
                OfficeAppointment.update(import_sequence=sequence).where(
                    OfficeAppointment.id.in_(ids) & (OfficeAppointment.import_sequence < sequence)
                ).execute()
            cancelled = self._cancel(site, plan.ending, now)
            result.cancelled = len(cancelled.refs)
            result.mail_for += cancelled.told
            self.staff.audit(
                site, actor, "appointment.import", entity="appointment",
                ref=made[0].ref if len(made) == 1 else "",
                detail={
                    "source": source, "count": len(made), "refs": [a.ref for a in made][:100],
                    "updated": [a.ref for a, _ in plan.changed][:100],
                    "cancelled": cancelled.refs[:100], "unchanged": result.unchanged,
                },
            )  # fmt: skip
        return result

    def _plan_import(
        self, site: Site, found: ImportFile, now: datetime, only_host: str
    ) -> ImportPlan:
        """What importing `found` changes, event by event, against what earlier imports of
        its calendar events booked. Reads only: ImportRefused before anything is written."""
        known = self._imported(site, [event.key for event in found.events])
        arrived = self._arrived({a.visit_ref for group in known.values() for a in group})

        def still_open(appointment: OfficeAppointment) -> bool:
            return (
                appointment.cancelled_at is None
                and appointment.starts_at > now
                and appointment.visit_ref not in arrived
            )

        plan = ImportPlan(new=list(found.bookings))
        problems = []
        for event in found.events:
            group = known.get(event.key, [])
            if only_host and any(a.host_ref != only_host for a in group):
                problems.append(f"{event.label}: host_email: you may only book your own visitors")
                continue
            if event.over and not group:  # as a first import would say
                problems.append(f"{event.label}: starts_at: is in the past")
                continue
            if not group:
                plan.new.extend(event.visits)
                continue
            if event.over:
                plan.unchanged += len(group)
                continue
            if event.sequence < max(a.import_sequence for a in group):
                plan.unchanged += len(group)  # an older version than the one booked
                continue
            booked = {_visitor(a.email, a.visitor_name): a for a in group}
            wanted = {_visitor(b.email, b.visitor_name): b for b in event.visits}
            for visitor, booking in wanted.items():
                appointment = booked.get(visitor)
                if appointment is None:
                    plan.new.append(booking)
                elif appointment.import_digest != booking.import_digest and still_open(appointment):
                    plan.changed.append((appointment, booking))
                else:
                    plan.unchanged += 1
            for visitor, appointment in booked.items():
                if visitor not in wanted and still_open(appointment):
                    plan.ending.append(appointment)
                elif visitor not in wanted:
                    plan.unchanged += 1
            # A newer SEQUENCE that changed nothing here is still the one to compare with.
            plan.sequences.append(([a.id for a in group], event.sequence))
        if problems:
            raise ImportRefused(problems)
        return plan

    @staticmethod
    def _imported(site: Site, keys: list[str]) -> dict[str, list[OfficeAppointment]]:
        """The visits booked from these calendar events before, by event."""
        found: dict[str, list[OfficeAppointment]] = {}
        for start in range(0, len(keys), 500):
            query = OfficeAppointment.select().where(
                (OfficeAppointment.site == site)
                & OfficeAppointment.import_key.in_(keys[start : start + 500])
            )
            for appointment in query:
                found.setdefault(appointment.import_key, []).append(appointment)
        return found

    def _read_csv(
        self,
        site: Site,
        data: bytes,
        by_email: dict[str, OfficeHost],
        allowed: dict[str, OfficeHost],
        problems: list[str],
    ) -> ImportFile:
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
        zone = self.zone(site)
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
                if (ends_at or starts_at + DEFAULT_LENGTH) <= self.store.clock.now():
                    found.events.append(CalendarEvent(key, 0, where, over=True))
                    continue
                host = _host_by_email(row.get("host_email", ""), by_email, allowed)
                booking = self.check(
                    site, visitor_name=row.get("visitor_name", ""), host_ref=host.ref,
                    starts_at=starts_at, ends_at=ends_at, company=row.get("company", ""),
                    email=row.get("email", ""), phone=row.get("phone", ""),
                    purpose=row.get("purpose", ""), level=row.get("level", ""),
                    visitor_type=row.get("visitor_type", "").strip() or "visitor",
                    hosts=allowed,
                )  # fmt: skip
                booked = replace(booking, import_key=key, import_digest=_visit_digest(booking, ""))
                found.events.append(CalendarEvent(key, 0, where, (booked,)))
            except InvalidInput as err:
                problems.append(f"{where}: {err}")
        return found

    def _read_calendar(
        self,
        site: Site,
        data: bytes,
        by_email: dict[str, OfficeHost],
        allowed: dict[str, OfficeHost],
        problems: list[str],
    ) -> ImportFile:
        """One visit per attendee of each VEVENT who is not a host: the ORGANIZER is the host
        (by e-mail), an ATTENDEE is the visitor, named by its CN. A cancelled event is only
        remembered, to cancel what an earlier import of it booked."""
        from icalendar import Calendar

        try:
            calendar = Calendar.from_ical(data)
        except ValueError as err:
            problems.append(f"not an iCalendar file: {err}")
            return ImportFile()
        zone = self.zone(site)
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
                sequence = _event_sequence(event)
                if str(event.get("STATUS") or "").upper() == "CANCELLED":
                    if key:
                        found.events.append(CalendarEvent(key, sequence, where, cancelled=True))
                    continue
                if event.get("RRULE"):
                    raise InvalidInput(
                        "RRULE", "repeating events are not imported: book a series instead"
                    )
                starts_at, ends_at = event_times(event, zone)
                if key and (ends_at or starts_at + DEFAULT_LENGTH) <= self.store.clock.now():
                    found.events.append(CalendarEvent(key, sequence, where, over=True))
                    continue
                host = _host_by_email(calendar_address(event.get("ORGANIZER")), by_email, allowed)
                attendees = event.get("ATTENDEE") or []
                if not isinstance(attendees, list):
                    attendees = [attendees]
                visitors = [a for a in attendees if calendar_address(a).lower() not in by_email]
                if not visitors:
                    raise InvalidInput("ATTENDEE", "no visitor: every attendee is a host")
                visits: dict[str, Booking] = {}
                for attendee in visitors:
                    name = str(attendee.params.get("CN", "")).strip()
                    address = calendar_address(attendee)
                    if not name:
                        raise InvalidInput("ATTENDEE", f"{address} has no name (CN)")
                    booking = self.check(
                        site, visitor_name=name, host_ref=host.ref, starts_at=starts_at,
                        ends_at=ends_at, email=address,
                        company=str(event.get("X-KIOSK-COMPANY") or ""),
                        purpose=str(event.get("X-KIOSK-PURPOSE") or ""),
                        hosts=allowed,
                    )  # fmt: skip
                    # Named twice, invited once.
                    visits.setdefault(_visitor(booking.email, booking.visitor_name), booking)
                if not key:  # no UID (which RFC 5545 requires): each visit known like a CSV row
                    for booking in visits.values():
                        row_key = csv_row_key(
                            booking.visitor_name, host.email, booking.starts_at, booking.email
                        )
                        digest = _visit_digest(booking, summary)
                        booked = replace(booking, import_key=row_key, import_digest=digest)
                        found.events.append(CalendarEvent(row_key, 0, where, (booked,)))
                    continue
                found.events.append(
                    CalendarEvent(
                        key, sequence, where,
                        tuple(
                            replace(b, import_key=key, import_sequence=sequence,
                                    import_digest=_visit_digest(b, summary))
                            for b in visits.values()
                        ),
                    )
                )  # fmt: skip
            except InvalidInput as err:
                problems.append(f"{where}: {err}")
        return found


def _event_sequence(event: Any) -> int:
    try:
        return int(event.get("SEQUENCE") or 0)
    except (TypeError, ValueError) as err:
        raise InvalidInput("SEQUENCE", "must be a whole number") from err


def _visitor(email: str, name: str) -> str:
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
        return datetime.combine(typed_date(day), typed_time(clock), zone)
    except ValueError as err:
        raise InvalidInput("starts_at", "needs a date and a time") from err
