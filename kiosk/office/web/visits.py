"""The visit log (reception, security and admins): search by name (as typed, in pinyin or by
initials), filters, keyset pages and a CSV export of the filtered log; and, for security
and admins, the check of each kiosk's hash-chained event log."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from kiosk.office import reporting
from kiosk.office.staff import Role, Staff
from kiosk.office.typed_dates import typed_date
from kiosk.office.web import N_, PageRefused, require, web
from kiosk.office.web.labels import codes
from kiosk.office.web.onsite import site_zone

router = APIRouter()
may_see = require(Role.RECEPTION, Role.SECURITY)
may_verify = require(Role.SECURITY)


#: What a filter's date that is not one is told, by the filter's name.
BAD_DATE = {
    "from": N_("The from date is not a date (YYYY-MM-DD)."),
    "to": N_("The to date is not a date (YYYY-MM-DD)."),
}


def _day(value: str, label: str) -> date | None:
    if not value:
        return None
    try:
        return typed_date(value)
    except ValueError as err:
        raise PageRefused(400, BAD_DATE[label]) from err


def _filter(
    q: str = Query("", max_length=100),
    date_from: str = Query("", alias="from", max_length=20),
    date_to: str = Query("", alias="to", max_length=20),
    host: str = Query("", max_length=64),
    kiosk: str = Query("", max_length=64),
    state: str = Query("", max_length=32),
    purpose: str = Query("", max_length=32),
) -> reporting.VisitFilter:
    return reporting.VisitFilter(
        query=q.strip(),
        date_from=_day(date_from, "from"),
        date_to=_day(date_to, "to"),
        host_ref=host,
        kiosk_id=kiosk,
        state=state,
        purpose=purpose,
    )


@router.get("/visits")
def visits(
    request: Request,
    after: str = Query("", max_length=40),
    wanted: reporting.VisitFilter = Depends(_filter),
    staff: Staff = Depends(may_see),
) -> Response:
    context = web(request)
    with context.db():
        zone = site_zone(staff.site_id)
        rows, next_cursor = reporting.visit_log_page(staff.site_id, wanted, zone, after)
        total = reporting.visit_log_count(staff.site_id, wanted, zone, reporting.LOG_COUNT_CAP)
        choices = reporting.log_choices(staff.site_id)
    params = wanted.as_params()
    return context.page(
        request,
        staff,
        "visits.html",
        rows=rows,
        total=total,
        count_cap=reporting.LOG_COUNT_CAP,
        wanted=wanted,
        choices=choices,
        states=codes("state"),
        purposes=codes("purpose"),
        zone=str(zone),
        first_page=not after,
        next_url="/visits?" + urlencode({**params, "after": next_cursor}) if next_cursor else "",
        first_url="/visits?" + urlencode(params),
        export_url="/visits/export.csv?" + urlencode(params),
        may_verify=staff.has(Role.SECURITY),
    )


@router.get("/visits/export.csv")
def export(
    request: Request,
    wanted: reporting.VisitFilter = Depends(_filter),
    staff: Staff = Depends(may_see),
) -> Response:
    context = web(request)
    with context.db():
        zone = site_zone(staff.site_id)
        # Personal data leaving the office: who took which part of the log is recorded.
        context.staff.audit(
            staff.site_id, staff.username, "visits.export", detail=wanted.as_params()
        )
    stamp = context.store.clock.now().astimezone(zone).strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        (
            chunk.encode("utf-8")
            for chunk in reporting.visit_log_csv(context.store.db, staff.site_id, wanted, zone)
        ),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="visits-{stamp}.csv"'},
    )


@router.get("/visits/verify")
def verify(request: Request, staff: Staff = Depends(may_verify)) -> Response:
    context = web(request)
    with context.db():
        checks = reporting.verify_site_chains(staff.site_id)
    return context.page(request, staff, "visits_verify.html", checks=checks)
