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
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from peewee import JOIN, fn

from kiosk.dbkit.rows import rows_of
from kiosk.domain.errors import InvalidInput, NotFound
from kiosk.domain.text import COMPANY_MAX, check_email, check_name, check_optional, check_phone
from kiosk.domain.tokens import new_ref
from kiosk.domain.values import ON_SITE_STATES, Purpose, VisitorLevel
from kiosk.office.booking_files import (
    CSV_COLUMNS,
    DEFAULT_LENGTH,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    Booking,
    BookingFileReader,
    ImportFile,
    ImportRefused,
    visitor_key,
)
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
#: The kiosk's shipped defaults (kiosk/config/defaults.toml), read as a file: importing
#: kiosk.config would load the kiosk's device configuration into the office.
DEFAULTS_FILE = Path(__file__).resolve().parent.parent / "config" / "defaults.toml"
LONGEST_VISIT = timedelta(hours=24)
#: Reading booking files lives in kiosk.office.booking_files; kept importable from here.
__all__ = ["CSV_COLUMNS", "DEFAULT_LENGTH", "FREQUENCIES", "MAX_IMPORT_BYTES", "MAX_IMPORT_ROWS",
           "MAX_OCCURRENCES", "Booking", "Bookings", "Cancellation", "ImportFile", "ImportRefused",
           "ImportResult", "Recurrence", "local_datetime", "visitor_types"]  # fmt: skip
FREQUENCIES = {"daily": timedelta(days=1), "weekdays": timedelta(days=1), "weekly": timedelta(7)}


def visitor_types() -> dict[str, str]:
    """The visitor types every kiosk knows (the shipped defaults), with English labels."""
    defaults = tomllib.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))
    return {
        name: kind.get("label", {}).get("en", name)
        for name, kind in defaults["visitor_types"].items()
    }


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
        reader = BookingFileReader(
            partial(self.check, site), self.zone(site), self.store.clock.now, by_email, allowed
        )
        if is_calendar:
            found = reader.read_calendar(data, problems)
        else:
            found = reader.read_csv(data, problems)
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
            booked = {visitor_key(a.email, a.visitor_name): a for a in group}
            wanted = {visitor_key(b.email, b.visitor_name): b for b in event.visits}
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


def local_datetime(day: str, clock: str, zone: ZoneInfo) -> datetime:
    """A date and time typed in a form, in the site's zone."""
    try:
        return datetime.combine(typed_date(day), typed_time(clock), zone)
    except ValueError as err:
        raise InvalidInput("starts_at", "needs a date and a time") from err
