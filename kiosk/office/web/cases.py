"""The cases' pages (issue 19): the case list with its filters, a case's page with its
history and the actions the reader's role allows, the desk's call log (a call that is a
complaint or repair becomes a case in one step; a message for an absent host is sent to
their channels), the reports (weekly, monthly, CSV, the follow-up rate by week), and the
public status page `/c/<token>` that a receipt's QR opens.

Reception and admins see every case of their site; a host account sees only the cases
assigned to a department it belongs to (kiosk.office.cases.desk.visible); security has
no case pages. Forms carry the session's CSRF token (require() checks it)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from peewee import JOIN

from kiosk.domain.errors import InvalidInput, NotFound
from kiosk.office import charts
from kiosk.office.cases.calls import CallDetails
from kiosk.office.cases.desk import Actor, visible
from kiosk.office.cases.escalation import is_overdue, overdue
from kiosk.office.cases.models import CallLogEntry, Case, Department
from kiosk.office.cases.parts import CaseParts
from kiosk.office.cases.receipts import case_of_receipt
from kiosk.office.cases.reports import month_bounds, report_csv
from kiosk.office.cases.rules import KINDS, REPAIR_CATEGORIES, STATES
from kiosk.office.cases.site_settings import SETTING_NAMES, load_deadlines, save_deadlines
from kiosk.office.models import OfficeHost, Site, StaffUser
from kiosk.office.staff import Role, Staff
from kiosk.office.web import N_, PageRefused, require, web, words
from kiosk.office.web.onsite import site_zone

router = APIRouter()
may_see = require(Role.RECEPTION, Role.HOST)
desk_only = require(Role.RECEPTION)
admin_only = require()
PAGE_SIZE = 50


def _parts(request: Request) -> CaseParts:
    parts: CaseParts = request.app.state.office.cases
    return parts


def _actor(staff: Staff) -> Actor:
    return Actor.of(StaffUser.get_by_id(staff.user_id))


@router.get("/cases")
def case_list(
    request: Request,
    state: str = Query("", max_length=20),
    kind: str = Query("", max_length=20),
    place: str = Query("", max_length=100),
    department: str = Query("", max_length=20),
    late: str = Query("", max_length=1),
    page: int = Query(1, ge=1, le=10_000),
    staff: Staff = Depends(may_see),
) -> Response:
    if (state and state not in STATES) or (kind and kind not in KINDS):
        raise PageRefused(400, N_("There is no such state or kind."))
    context = web(request)
    now = context.store.clock.now()
    with context.db():
        actor = _actor(staff)
        query = (
            Case.select(Case, Department)
            .join(Department, JOIN.LEFT_OUTER, on=Case.department == Department.id)
            .where(visible(actor))
        )
        if state:
            query = query.where(Case.state == state)
        if kind:
            query = query.where(Case.kind == kind)
        if place.strip():
            text = place.strip()
            query = query.where(
                Case.building.contains(text) | Case.unit.contains(text)
                | Case.place_text.contains(text)
            )  # fmt: skip
        if department.isdigit():
            query = query.where(Case.department == int(department))
        if late:
            query = query.where(overdue(now))
        rows = list(
            query.order_by(Case.opened_at.desc(), Case.id.desc())
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE + 1)
        )
        departments = list(Department.select().where(Department.site == staff.site_id))
        zone = str(site_zone(staff.site_id))
    filters = {"state": state, "kind": kind, "place": place, "department": department,
               "late": late}  # fmt: skip
    return context.page(
        request, staff, "cases.html", cases=rows[:PAGE_SIZE], now=now, is_overdue=is_overdue,
        filters=filters, departments=departments, states=STATES, kinds=KINDS, zone=zone,
        page=page, more=len(rows) > PAGE_SIZE,
        query=lambda **changed: urlencode({**filters, **changed}),
    )  # fmt: skip


@router.get("/cases/report")
def case_report(
    request: Request,
    period: str = Query("month", max_length=8),
    month: str = Query("", max_length=7),
    day: str = Query("", max_length=10),
    fmt: str = Query("", max_length=4, alias="format"),
    staff: Staff = Depends(desk_only),
) -> Response:
    context = web(request)
    now = context.store.clock.now()
    parts = _parts(request)
    with context.db():
        site = Site.get_by_id(staff.site_id)
        zone = site_zone(staff.site_id)
        today = now.astimezone(zone).date()
        try:
            if period == "week":
                chosen = date.fromisoformat(day) if day else today
                report = parts.reports.week(site, chosen, now)
            else:
                month = month or today.strftime("%Y-%m")
                report = parts.reports.month(site, month, now)
        except (InvalidInput, ValueError) as err:
            raise PageRefused(400, N_("The period is not a month (YYYY-MM) or a day.")) from err
        if fmt != "csv":
            start, end = month_bounds(report.start[:7], zone)
            weekly = parts.reports.weekly_followup_rates(site, start, end)
    if fmt == "csv":
        return Response(
            report_csv(report), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="cases-report.csv"'},
        )  # fmt: skip
    _ = words(request, staff)
    chart = charts.column_chart(_("Followed up within 24 h, % by week"), weekly)
    return context.page(request, staff, "cases_report.html", report=report, chart=chart,
                        weekly=weekly, period=period, month=month, day=day)  # fmt: skip


def _settings_page(request: Request, staff: Staff, status: int = 200, **context: Any) -> Response:
    return web(request).page(
        request, staff, "cases_settings.html", status, kinds=KINDS,
        done=request.query_params.get("done", ""), **context,
    )  # fmt: skip


@router.get("/cases/settings")
def case_settings(request: Request, staff: Staff = Depends(admin_only)) -> Response:
    with web(request).db():
        deadlines = load_deadlines(staff.site_id)
    return _settings_page(request, staff, values=deadlines.model_dump())


@router.post("/cases/settings")
async def save_case_settings(request: Request, staff: Staff = Depends(admin_only)) -> Response:
    """The deadlines form: `response_minutes.<kind>`, `urgent_response_minutes.<kind>`,
    `followup_hours.<kind>` and `supervisor_after_minutes`; refused with the setting named."""
    form = await request.form()
    changes: dict[str, Any] = {}
    for name in SETTING_NAMES:
        if name == "supervisor_after_minutes":
            changes[name] = str(form.get(name, "")).strip()[:10]
        else:
            changes[name] = {k: str(form.get(f"{name}.{k}", "")).strip()[:10] for k in KINDS}
    context = web(request)
    _ = words(request, staff)

    def save() -> Response:
        with context.db():
            try:
                save_deadlines(context.staff, context.store.feed, Site.get_by_id(staff.site_id),
                               staff.username, changes)  # fmt: skip
            except InvalidInput as err:
                return _settings_page(request, staff, 400, values=changes,
                                      error=f"{err.field}: {_.problem(err.message)}")  # fmt: skip
        return RedirectResponse("/cases/settings?done=saved", 303)

    return await run_in_threadpool(save)


@router.get("/cases/{ref}")
def case_page(request: Request, ref: str, staff: Staff = Depends(may_see)) -> Response:
    context = web(request)
    parts = _parts(request)
    now = context.store.clock.now()
    with context.db():
        actor = _actor(staff)
        try:
            case = parts.desk.get(actor, ref[:40])
        except NotFound as err:
            raise PageRefused(404, N_("There is no such case at this site.")) from err
        history = parts.desk.history(case)
        actions = parts.desk.allowed_actions(actor, case)
        departments = list(Department.select().where(Department.site == staff.site_id))
        zone = str(site_zone(staff.site_id))
    return context.page(
        request, staff, "case.html", case=case, history=history, actions=actions,
        departments=departments, overdue=is_overdue(case, now), zone=zone,
        done=request.query_params.get("done", ""),
    )  # fmt: skip


@router.post("/cases/{ref}/act")
def case_act(
    request: Request,
    ref: str,
    action: str = Form("", max_length=20),
    note: str = Form("", max_length=4000),
    department: str = Form("", max_length=100),
    outcome: str = Form("", max_length=20),
    staff: Staff = Depends(may_see),
) -> Response:
    context = web(request)
    _ = words(request, staff)
    with context.db():
        try:
            case = _parts(request).desk.act(
                _actor(staff), ref[:40], action, note=note.strip(), department=department,
                outcome=outcome,
            )  # fmt: skip
        except NotFound as err:
            raise PageRefused(404, N_("There is no such case at this site.")) from err
        except InvalidInput as err:
            raise PageRefused.said(400, _.problem(str(err))) from err
    return RedirectResponse(f"/cases/{case.ref}?done={action}", 303)


@router.get("/calls")
def call_log(request: Request, staff: Staff = Depends(desk_only)) -> Response:
    context = web(request)
    with context.db():
        calls = list(
            CallLogEntry.select()
            .where(CallLogEntry.site == staff.site_id)
            .order_by(CallLogEntry.at.desc())
            .limit(100)
        )
        hosts = list(
            OfficeHost.select(OfficeHost.ref, OfficeHost.name)
            .where((OfficeHost.site == staff.site_id) & OfficeHost.active)
            .order_by(OfficeHost.name)
        )
        zone = str(site_zone(staff.site_id))
    return context.page(request, staff, "calls.html", calls=calls, hosts=hosts, zone=zone,
                        categories=REPAIR_CATEGORIES, done=request.query_params.get("done", ""),
                        values={})  # fmt: skip


@router.post("/calls")
def record_call(
    request: Request,
    caller: str = Form("", max_length=200),
    unit: str = Form("", max_length=200),
    subject: str = Form("", max_length=4000),
    phone: str = Form("", max_length=60),
    for_host: str = Form("", max_length=40),
    message: str = Form("", max_length=2000),
    becomes: str = Form("", max_length=20),
    category: str = Form("", max_length=40),
    staff: Staff = Depends(desk_only),
) -> Response:
    """One call; `becomes` complaint or repair opens a case from it in the same step."""
    context = web(request)
    _ = words(request, staff)
    call = CallDetails(caller=caller, unit=unit, phone=phone, subject=subject,
                       for_host=for_host, message=message)  # fmt: skip
    with context.db():
        try:
            recorded = _parts(request).calls.record(
                _actor(staff), call, becomes=becomes, category=category
            )
        except InvalidInput as err:
            if err.field == "for_host":
                raise PageRefused(400, N_("There is no such host at this site.")) from err
            raise PageRefused.said(400, _.problem(str(err))) from err
    if recorded.case is not None:
        return RedirectResponse(f"/cases/{recorded.case.ref}?done=open", 303)
    return RedirectResponse(f"/calls?done={'sent' if recorded.message_sent else 'logged'}", 303)


@router.get("/c/{token}")
def public_status(request: Request, token: str) -> Response:
    """The receipt's page: kind, number, state and times only. Forged: a plain 404."""
    context = web(request)
    now = context.store.clock.now()
    with context.db():
        case = case_of_receipt(token, now)
        if case is None:
            return Response("Not found", status_code=404, media_type="text/plain")
        zone = str(site_zone(case.site_id))
    return context.page(
        request, None, "case_status.html", case=case, zone=zone, overdue=is_overdue(case, now)
    )
