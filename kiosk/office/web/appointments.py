"""Appointments: today's and upcoming visits, booking one or a recurring series, importing a
CSV or iCalendar file, cancelling, and the state of the e-mails to visitors (the invitation,
and the cancellation notice).

Reception and admins see and book for every host of their site; a host user sees and books
only their own visitors, with themselves as host. The booking logic is kiosk.office.bookings;
the e-mails are sent after the answer (a background task), so a slow mail server never
holds up the page, and what failed is retried by `kiosk office send-invitations`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from kiosk.domain.errors import InvalidInput, NotFound
from kiosk.domain.values import Purpose, VisitorLevel
from kiosk.office.bookings import (
    CSV_COLUMNS,
    FREQUENCIES,
    MAX_IMPORT_BYTES,
    MAX_OCCURRENCES,
    Bookings,
    Cancellation,
    ImportRefused,
    Recurrence,
    local_datetime,
    visitor_types,
)
from kiosk.office.models import OfficeHost, Site
from kiosk.office.staff import Role, Staff
from kiosk.office.typed_dates import typed_date
from kiosk.office.web import N_, PageRefused, WebContext, require, web, words
from kiosk.office.web.labels import codes
from kiosk.office.web.templating import Translator

router = APIRouter()
MAY_BOOK = (Role.RECEPTION, Role.HOST)
DURATIONS = (15, 30, 45, 60, 90, 120, 180, 240, 480)

DONE = {
    "booked": N_("Booked %(n)s visit(s). Invitations go out to those with an e-mail address."),
    "imported": N_(
        "Imported: %(added)s visit(s) added, %(updated)s updated, %(unchanged)s unchanged, "
        "%(cancelled)s cancelled. Visitors with an e-mail address get the new or changed "
        "invitation, or a cancellation notice if they had an invitation."
    ),
    "cancelled": N_("The visit is cancelled; kiosks refuse its invitation from their next sync."),
    "cancelled_told": N_(
        "The visit is cancelled; kiosks refuse its invitation from their next sync. The "
        "visitor had the invitation and is told by e-mail."
    ),
    "series": N_(
        "Cancelled %(n)s visit(s) of the series; kiosks refuse their invitations from "
        "their next sync."
    ),
    "series_told": N_(
        "Cancelled %(n)s visit(s) of the series; kiosks refuse their invitations from "
        "their next sync. %(told)s visitor(s) who had an invitation are told by e-mail."
    ),
    "resent": N_("The invitation goes out again."),
}
#: The numbers a notice may show, from the query string of the page it leads to.
DONE_NUMBERS = ("n", "told", "added", "updated", "unchanged", "cancelled")


def _bookings(context: WebContext) -> Bookings:
    return Bookings(context.store, context.staff)


def _site(staff: Staff) -> Site:
    return Site.get_by_id(staff.site_id)


def _own(staff: Staff) -> str:
    """The host a host user is limited to; "" for reception and admins."""
    return staff.host_ref if staff.role is Role.HOST else ""


def _send_soon(tasks: BackgroundTasks, context: WebContext, appointment_ids: list[int]) -> None:
    """Send the mails of these appointments (invitations, cancellation notices) after the
    answer has gone: the person booking or cancelling never waits for the mail server."""
    if appointment_ids:
        tasks.add_task(context.mailer.send_due, only=appointment_ids)


# ---------------------------------------------------------------- the list


@router.get("/appointments")
def appointments(
    request: Request,
    day: str = "",
    host: str = "",
    done: str = "",
    staff: Staff = Depends(require(*MAY_BOOK)),
) -> Response:
    context = web(request)
    _ = words(request, staff)
    with context.db():
        site = _site(staff)
        bookings = _bookings(context)
        zone = bookings.zone(site)
        today = context.store.clock.now().astimezone(zone).date()
        chosen: date | None = None
        error = ""
        if day:
            try:
                chosen = typed_date(day)
            except ValueError:
                error = _("That is not a date.")
        if chosen is not None:
            start = datetime.combine(chosen, time.min, zone)
            end: datetime | None = start + timedelta(days=1)
        else:
            start, end = datetime.combine(today, time.min, zone), None
        host_filter = _own(staff) or host
        rows = bookings.listing(site, start=start, end=end, host_ref=host_filter)
        hosts = [] if _own(staff) else bookings.active_hosts(site)
    days: list[tuple[date, list[Any]]] = []
    for row in rows:
        local_day = row.starts_at.astimezone(zone).date()
        if not days or days[-1][0] != local_day:
            days.append((local_day, []))
        days[-1][1].append(row)
    notice = _(DONE[done], **_numbers(request)) if done in DONE else ""
    return context.page(
        request, staff, "appointments.html", days=days, count=len(rows), zone=str(zone),
        today=today, day=chosen, host=host_filter, hosts=hosts, notice=notice, error=error,
        now=context.store.clock.now(), own=bool(_own(staff)),
    )  # fmt: skip


def _numbers(request: Request) -> dict[str, int]:
    """The notice's numbers; one that is not a number reads as 0."""
    numbers = {}
    for name in DONE_NUMBERS:
        text = request.query_params.get(name, "")
        numbers[name] = int(text) if text.isdigit() and len(text) < 10 else 0
    return numbers


# ---------------------------------------------------------------- booking


def _form_context(
    context: WebContext, staff: Staff, site: Site, values: dict[str, Any], _: Translator
) -> dict[str, Any]:
    bookings = _bookings(context)
    zone = bookings.zone(site)
    now = context.store.clock.now().astimezone(zone)
    next_hour = (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    defaults = {
        "visitor_name": "", "company": "", "email": "", "phone": "", "host_ref": "",
        "day": next_hour.date().isoformat(), "start": next_hour.strftime("%H:%M"),
        "minutes": "60", "purpose": Purpose.VISIT_PERSON.value,
        "level": VisitorLevel.ORDINARY.value, "visitor_type": "visitor", "repeat": "",
        "count": "", "until": "",
    }  # fmt: skip
    own = _own(staff)
    hosts = bookings.active_hosts(site)
    if own:
        hosts = [h for h in hosts if h.ref == own]
    return {
        "values": {**defaults, **values},
        "hosts": hosts,
        "own": bool(own),
        "zone": str(zone),
        "durations": [(m, _length(m, _)) for m in DURATIONS],
        "purposes": codes("booking_purpose"),
        "levels": codes("booking_level"),
        "types": list(visitor_types()),
        "repeats": codes("repeat"),
        "max_occurrences": MAX_OCCURRENCES,
    }


@router.get("/appointments/new")
def new_form(request: Request, staff: Staff = Depends(require(*MAY_BOOK))) -> Response:
    context = web(request)
    with context.db():
        form = _form_context(context, staff, _site(staff), {}, words(request, staff))
    return context.page(request, staff, "appointment_form.html", **form)


@router.post("/appointments/new")
def book(
    request: Request,
    tasks: BackgroundTasks,
    visitor_name: str = Form("", max_length=400),
    company: str = Form("", max_length=400),
    email: str = Form("", max_length=400),
    phone: str = Form("", max_length=100),
    host_ref: str = Form("", max_length=64),
    day: str = Form("", max_length=20),
    start: str = Form("", max_length=20),
    minutes: int = Form(60, ge=5, le=24 * 60),
    purpose: str = Form(Purpose.VISIT_PERSON.value, max_length=40),
    level: str = Form(VisitorLevel.ORDINARY.value, max_length=40),
    visitor_type: str = Form("visitor", max_length=40),
    repeat: str = Form("", max_length=20),
    count: str = Form("", max_length=10),
    until: str = Form("", max_length=20),
    staff: Staff = Depends(require(*MAY_BOOK)),
) -> Response:
    context = web(request)
    values = {
        "visitor_name": visitor_name, "company": company, "email": email, "phone": phone,
        "host_ref": host_ref, "day": day, "start": start, "minutes": str(minutes),
        "purpose": purpose, "level": level, "visitor_type": visitor_type, "repeat": repeat,
        "count": count, "until": until,
    }  # fmt: skip
    with context.db():
        site = _site(staff)
        bookings = _bookings(context)
        zone = bookings.zone(site)
        try:
            starts_at = local_datetime(day, start, zone)
            booking = bookings.check(
                site, visitor_name=visitor_name, host_ref=_own(staff) or host_ref,
                starts_at=starts_at, ends_at=starts_at + timedelta(minutes=minutes),
                company=company, email=email, phone=phone, purpose=purpose, level=level,
                visitor_type=visitor_type,
            )  # fmt: skip
            recurrence = _recurrence(repeat, count, until)
            made = bookings.book(site, staff.username, [booking], recurrence=recurrence)
        except InvalidInput as err:
            _ = words(request, staff)
            form = _form_context(context, staff, site, values, _)
            return context.page(
                request, staff, "appointment_form.html", 400, error=_say(err, _), **form
            )
    _send_soon(tasks, context, [a.id for a in made if a.email])
    first = made[0].starts_at.astimezone(zone).date().isoformat()
    return _to_list(done="booked", n=len(made), day=first)


def _length(minutes: int, _: Translator) -> str:
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return _("%(h)s h %(m)s min", h=hours, m=rest)
    return _("%(h)s h", h=hours) if hours else _("%(m)s min", m=rest)


def _recurrence(repeat: str, count: str, until: str) -> Recurrence | None:
    if not repeat:
        return None
    if repeat not in FREQUENCIES:
        raise InvalidInput("repeat", "is not a choice of the form")
    try:
        number = int(count) if count.strip() else None
    except ValueError as err:
        raise InvalidInput("count", "must be a whole number") from err
    try:
        last = typed_date(until) if until.strip() else None
    except ValueError as err:
        raise InvalidInput("until", "is not a date") from err
    return Recurrence(repeat, count=number, until=last)


FIELD_NAMES = {
    "visitor_name": N_("Visitor's name"), "company": N_("Company"), "email": N_("E-mail"),
    "phone": N_("Phone"), "host": N_("Host"), "starts_at": N_("Date and time"),
    "ends_at": N_("Duration"), "purpose": N_("Purpose"), "level": N_("Visitor level"),
    "visitor_type": N_("Visitor type"), "repeat": N_("Repeat"),
    "count": N_("Number of visits"), "until": N_("Repeat until"),
    "appointment": N_("Appointment"), "email_address": N_("E-mail"),
}  # fmt: skip


#: What the form asks for when a choice was left unmade, instead of "Host: is required".
UNCHOSEN = {"host": N_("Choose a host")}


def _say(err: InvalidInput, _: Translator) -> str:
    """The field as the form names it, and what is wrong with it, in the reader's words."""
    if err.message == "is required" and err.field in UNCHOSEN:
        return _(UNCHOSEN[err.field])
    field = _(FIELD_NAMES[err.field]) if err.field in FIELD_NAMES else err.field
    return _("%(field)s: %(message)s", field=field, message=_.problem(err.message))


def _to_list(**query: Any) -> RedirectResponse:
    return RedirectResponse("/appointments?" + urlencode(query), 303)


# ---------------------------------------------------------------- importing


@router.get("/appointments/import")
def import_form(request: Request, staff: Staff = Depends(require(*MAY_BOOK))) -> Response:
    return web(request).page(request, staff, "appointment_import.html", **_import_context())


def _import_context(**extra: Any) -> dict[str, Any]:
    return {"columns": CSV_COLUMNS, "max_kib": MAX_IMPORT_BYTES // 1024, **extra}


@router.post("/appointments/import")
def import_file(
    request: Request,
    tasks: BackgroundTasks,
    file: UploadFile = File(...),
    staff: Staff = Depends(require(*MAY_BOOK)),
) -> Response:
    context = web(request)
    data = file.file.read(MAX_IMPORT_BYTES + 1)
    with context.db():
        site = _site(staff)
        bookings = _bookings(context)
        try:
            found = bookings.read_file(site, file.filename or "", data, only_host=_own(staff))
            result = bookings.import_file(
                site, staff.username, found, source=_kind(file.filename or ""),
                only_host=_own(staff),
            )  # fmt: skip
        except ImportRefused as err:
            return context.page(
                request, staff, "appointment_import.html", 400,
                **_import_context(problems=err.problems, filename=file.filename or ""),
            )  # fmt: skip
        except InvalidInput as err:
            return context.page(
                request, staff, "appointment_import.html", 400,
                **_import_context(problems=[str(err)], filename=file.filename or ""),
            )  # fmt: skip
    _send_soon(tasks, context, result.mail_for)
    return _to_list(
        done="imported", added=result.added, updated=result.updated,
        unchanged=result.unchanged, cancelled=result.cancelled,
    )  # fmt: skip


def _kind(filename: str) -> str:
    return "ics" if filename.lower().endswith((".ics", ".ical", ".ifb")) else "csv"


# ---------------------------------------------------------------- cancelling, resending


@router.get("/appointments/{ref}/cancel")
def cancel_form(request: Request, ref: str, staff: Staff = Depends(require(*MAY_BOOK))) -> Response:
    context = web(request)
    with context.db():
        site = _site(staff)
        bookings = _bookings(context)
        appointment = _found(lambda: bookings.appointment(site, ref, _own(staff)))
        host = OfficeHost.get_or_none(
            (OfficeHost.ref == appointment.host_ref) & (OfficeHost.site == site)
        )
        zone = str(bookings.zone(site))
    return context.page(
        request, staff, "appointment_cancel.html", appointment=appointment,
        host_name=host.name if host else "", zone=zone, series=None,
    )  # fmt: skip


@router.post("/appointments/{ref}/cancel")
def cancel(
    request: Request,
    ref: str,
    tasks: BackgroundTasks,
    staff: Staff = Depends(require(*MAY_BOOK)),
) -> Response:
    context = web(request)
    with context.db():
        try:
            done: Cancellation = _found(
                lambda: _bookings(context).cancel(
                    _site(staff), staff.username, ref, host_ref=_own(staff)
                )
            )
        except InvalidInput as err:
            raise PageRefused.said(409, _say(err, words(request, staff))) from err
    _send_soon(tasks, context, done.told)
    return _to_list(done="cancelled_told" if done.told else "cancelled")


@router.get("/appointments/series/{ref}/cancel")
def cancel_series_form(
    request: Request, ref: str, staff: Staff = Depends(require(*MAY_BOOK))
) -> Response:
    context = web(request)
    with context.db():
        site = _site(staff)
        bookings = _bookings(context)
        now = context.store.clock.now()
        rows = [
            row
            for row in bookings.listing(site, start=now, host_ref=_own(staff), series_ref=ref)
            if row.state == "expected" and row.starts_at > now
        ]
        if not rows:
            raise PageRefused(404, N_("This series has no visits left to cancel."))
        zone = str(bookings.zone(site))
    return context.page(
        request, staff, "appointment_cancel.html", appointment=None, series=ref, rows=rows,
        zone=zone,
    )  # fmt: skip


@router.post("/appointments/series/{ref}/cancel")
def cancel_series(
    request: Request,
    ref: str,
    tasks: BackgroundTasks,
    staff: Staff = Depends(require(*MAY_BOOK)),
) -> Response:
    context = web(request)
    with context.db():
        done: Cancellation = _found(
            lambda: _bookings(context).cancel_series(
                _site(staff), staff.username, ref, host_ref=_own(staff)
            )
        )
    _send_soon(tasks, context, done.told)
    if done.told:
        return _to_list(done="series_told", n=len(done.refs), told=len(done.told))
    return _to_list(done="series", n=len(done.refs))


@router.post("/appointments/{ref}/resend")
def resend(
    request: Request,
    ref: str,
    tasks: BackgroundTasks,
    staff: Staff = Depends(require(*MAY_BOOK)),
) -> Response:
    context = web(request)
    with context.db():
        bookings = _bookings(context)
        site = _site(staff)
        appointment = _found(lambda: bookings.appointment(site, ref, _own(staff)))
        try:
            bookings.resend(site, staff.username, ref, host_ref=_own(staff))
        except InvalidInput as err:
            raise PageRefused.said(409, _say(err, words(request, staff))) from err
    _send_soon(tasks, context, [appointment.id])
    return _to_list(done="resent")


def _found(work: Any) -> Any:
    """The result of `work`; a polite 404 for another site's or another host's visit."""
    try:
        return work()
    except NotFound as err:
        raise PageRefused(404, N_("There is no such appointment, or it is not yours.")) from err
