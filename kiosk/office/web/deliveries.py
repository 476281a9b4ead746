"""The deliveries pages: the list of a site's parcels (waiting, collected, returned; by
recipient, company, carrier and age; in keyset pages), one parcel with its history,
"returned to sender", the reports (per day, per carrier, median time to pickup) and the
CSV of what is uncollected.

Reception, security and admins see every parcel of their site, a host only their own
(kiosk.office.deliveries.ledger decides: a parcel out of sight is a 404, as if it did not
exist); only reception and admins mark a parcel returned. Forms carry the CSRF token,
checked by `require` as on every page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from markupsafe import Markup

from kiosk.domain.errors import InvalidInput, NotFound
from kiosk.office import charts
from kiosk.office.deliveries import ledger, reports
from kiosk.office.deliveries.rules import (
    DEFAULT_CARRIERS,
    ParcelKind,
    ParcelState,
    load_rules,
    save_rules,
)
from kiosk.office.staff import Role, Staff
from kiosk.office.typed_dates import typed_date
from kiosk.office.web import N_, PageRefused, require, web, words
from kiosk.office.web.onsite import site_zone
from kiosk.office.web.templating import Translator

router = APIRouter()
may_see = require(Role.RECEPTION, Role.SECURITY, Role.HOST)
may_return = require(Role.RECEPTION)
may_configure = require()  # admins only

#: The words for the codes a parcel keeps (as kiosk.office.web.labels does for visits).
PARCEL_LABELS: dict[str, dict[str, str]] = {
    "parcel_state": {
        ParcelState.WAITING: N_("waiting for pickup"),
        ParcelState.COLLECTED: N_("collected"),
        ParcelState.RETURNED: N_("returned to sender"),
    },
    "parcel_kind": {
        ParcelKind.PARCEL: N_("parcel"),
        ParcelKind.DOCUMENTS: N_("documents"),
        ParcelKind.FOOD: N_("food"),
        ParcelKind.FLOWERS: N_("flowers"),
        ParcelKind.OTHER: N_("other"),
    },
    "carrier": {
        "sf": N_("SF Express"),
        "jd": N_("JD Logistics"),
        "zto": N_("ZTO"),
        "yto": N_("YTO"),
        "sto": N_("STO"),
        "yunda": N_("Yunda"),
        "meituan": N_("Meituan"),
        "eleme": N_("Ele.me"),
        "fedex": N_("FedEx"),
        "other": N_("other carrier"),
    },
    "pickup_method": {
        "qr": N_("QR code"),
        "code": N_("pickup code"),
        "guard": N_("by a guard"),
    },
    "history": {
        "logged": N_("Logged at the kiosk"),
        "collected": N_("Collected"),
        "second_collection": N_("Collected again (a duplicate: nothing changed)"),
        "returned": N_("Returned to sender"),
        "reminded": N_("Recipient reminded"),
    },
}
#: The same words by (kind, code), for the look-up.
PARCEL_WORDS = {
    (kind, str(code)): words
    for kind, table in PARCEL_LABELS.items()
    for code, words in table.items()
}
#: Carriers whose name is the same in every language: shown as they are, never looked up.
CARRIER_NAMES = {"ems": "EMS", "dhl": "DHL", "ups": "UPS"}
#: The age filter's choices, in days.
AGES = (1, 3, 7, 14, 30)
#: The notices after a form, by code (only the office's own sentences, see web.notices).
NOTICES = {
    "returned": N_("Marked returned to sender. Kiosks refuse its pickup from their next sync."),
    "settings_saved": N_("Settings saved."),
}
#: The delivery settings as the settings form names them.
SETTINGS = {
    "remind_after_hours": N_("Remind after (hours waiting)"),
    "remind_every_days": N_("Remind again every (days)"),
    "send_from_hour": N_("Send from (hour of the day)"),
    "language": N_("Language of messages"),
    "carriers": N_("Carriers"),
}


def _notice(request: Request, _: Translator) -> str:
    code = request.query_params.get("done", "")
    return _(NOTICES[code]) if code in NOTICES else ""


def labeller(_: Translator) -> Callable[[str, object], str]:
    """`plabel(kind, code)` for the templates: the words, or the code as it is."""

    def plabel(kind: str, code: object) -> str:
        text = "" if code is None else str(code)
        if kind == "carrier" and text in CARRIER_NAMES:
            return CARRIER_NAMES[text]
        return _(PARCEL_WORDS[kind, text]) if (kind, text) in PARCEL_WORDS else text

    return plabel


def viewer_of(staff: Staff) -> ledger.Viewer:
    if staff.role is Role.HOST:
        return ledger.Viewer(staff.site_id, staff.host_ref or "-")
    return ledger.Viewer(staff.site_id)


def _filter(
    state: str = Query("", max_length=16),
    host: str = Query("", max_length=64),
    company: str = Query("", max_length=120),
    carrier: str = Query("", max_length=32),
    age: str = Query("", max_length=4),
) -> ledger.ParcelFilter:
    if state and state not in set(ParcelState):
        raise PageRefused(400, N_("There is no such state of a parcel."))
    if age and (not age.isdigit() or int(age) not in AGES):
        raise PageRefused(400, N_("The age is one of the list's choices."))
    return ledger.ParcelFilter(
        state=state,
        host_ref=host,
        company=company.strip(),
        carrier=carrier,
        older_than_days=int(age) if age else 0,
    )


@router.get("/deliveries")
def deliveries(
    request: Request,
    after: str = Query("", max_length=40),
    wanted: ledger.ParcelFilter = Depends(_filter),
    staff: Staff = Depends(may_see),
) -> Response:
    context = web(request)
    _ = words(request, staff)
    now = context.store.clock.now()
    viewer = viewer_of(staff)
    with context.db():
        zone = site_zone(staff.site_id)
        try:
            rows, next_cursor = ledger.parcel_page(viewer, wanted, now, after)
        except InvalidInput as err:
            raise PageRefused(400, N_("That page of the list does not exist.")) from err
        # The tabs count within the other filters, so the total is one of them: one scan.
        counts = ledger.state_counts(viewer, now, wanted)
        total = counts[wanted.state] if wanted.state else sum(counts.values())
        hosts = [] if viewer.host_ref else ledger.host_choices(staff.site_id)
        carriers = load_rules(staff.site_id).carriers
    params = wanted.as_params()
    next_url = "/deliveries?" + urlencode({**params, "after": next_cursor}) if next_cursor else ""
    others = {name: value for name, value in params.items() if name != "state"}
    tabs = [("", _("All"), sum(counts.values()), "/deliveries?" + urlencode(others))] + [
        (
            state.value,
            labeller(_)("parcel_state", state.value),
            counts[state.value],
            "/deliveries?" + urlencode({**others, "state": state.value}),
        )
        for state in ParcelState
    ]
    return context.page(
        request,
        staff,
        "deliveries.html",
        rows=rows,
        total=total,
        wanted=wanted,
        tabs=tabs,
        hosts=hosts,
        carriers=carriers or list(DEFAULT_CARRIERS),
        ages=AGES,
        zone=str(zone),
        now=now,
        plabel=labeller(_),
        first_page=not after,
        next_url=next_url,
        first_url="/deliveries?" + urlencode(params),
        may_export=not viewer.host_ref,
        notice=_notice(request, _),
        may_configure=staff.role is Role.ADMIN,
    )


@router.get("/deliveries/uncollected.csv")
def uncollected_csv(request: Request, staff: Staff = Depends(may_see)) -> Response:
    context = web(request)
    now = context.store.clock.now()
    viewer = viewer_of(staff)
    with context.db():
        zone = site_zone(staff.site_id)
        # Recipients' names leaving the office: who took the list is recorded.
        context.staff.audit(staff.site_id, staff.username, "deliveries.export")

    def chunks() -> Iterator[bytes]:
        with context.db():
            for chunk in reports.uncollected_csv(viewer, now, zone):
                yield chunk.encode("utf-8")

    stamp = now.astimezone(zone).strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="uncollected-{stamp}.csv"'},
    )


def _day(value: str, fallback: date) -> date:
    if not value:
        return fallback
    try:
        return typed_date(value)
    except ValueError as err:
        raise PageRefused(400, N_("The day is not a date (YYYY-MM-DD).")) from err


@router.get("/deliveries/report")
def report(
    request: Request,
    date_from: str = Query("", alias="from", max_length=20),
    date_to: str = Query("", alias="to", max_length=20),
    staff: Staff = Depends(may_see),
) -> Response:
    context = web(request)
    _ = words(request, staff)
    plabel = labeller(_)
    now = context.store.clock.now()
    with context.db():
        zone = site_zone(staff.site_id)
        today = now.astimezone(zone).date()
        last = _day(date_to, today)
        try:
            first = _day(date_from, last - timedelta(days=29))
            built = reports.delivery_report(viewer_of(staff), first, last, zone)
        except (InvalidInput, OverflowError) as err:
            raise PageRefused(400, N_("The day is not a date (YYYY-MM-DD).")) from err
        on_shelf = ledger.state_counts(viewer_of(staff), now)[ParcelState.WAITING]
    figures: dict[str, Markup] = {
        "per_day": charts.column_chart(
            _("Deliveries per day"), [(d.strftime("%d"), n) for d, n in built.per_day]
        ),
        "per_carrier": charts.bar_chart(
            _("Deliveries per carrier"), [(plabel("carrier", c), n) for c, n in built.per_carrier]
        ),
    }
    return context.page(
        request,
        staff,
        "deliveries_report.html",
        report=built,
        charts=figures,
        plabel=plabel,
        may_export=not viewer_of(staff).host_ref,
        on_shelf=on_shelf,
    )


def _settings_page(
    request: Request, staff: Staff, status: int = 200, **context: object
) -> Response:
    _ = words(request, staff)
    return web(request).page(
        request, staff, "deliveries_settings.html", status,
        labels={name: _(SETTINGS[name]) for name in SETTINGS}, plabel=labeller(_),
        notice=_notice(request, _), **context,
    )  # fmt: skip


@router.get("/deliveries/settings")
def settings(request: Request, staff: Staff = Depends(may_configure)) -> Response:
    with web(request).db():
        rules = load_rules(staff.site_id)
    return _settings_page(request, staff, values=rules.model_dump())


@router.post("/deliveries/settings")
def save_settings(
    request: Request,
    staff: Staff = Depends(may_configure),
    remind_after_hours: str = Form("", max_length=10),
    remind_every_days: str = Form("", max_length=10),
    send_from_hour: str = Form("", max_length=10),
    language: str = Form("", max_length=10),
    carriers: str = Form("", max_length=2000),
) -> Response:
    context = web(request)
    _ = words(request, staff)
    values = {
        "remind_after_hours": remind_after_hours.strip(),
        "remind_every_days": remind_every_days.strip(),
        "send_from_hour": send_from_hour.strip(),
        "language": language.strip(),
        "carriers": [key for key in carriers.replace(",", "\n").split() if key],
    }
    with context.db(), context.store.db.atomic():
        try:
            save_rules(staff.site_id, values, context.store.clock.now())
        except InvalidInput as err:
            shown = {**values, "carriers": values["carriers"]}
            label = _(SETTINGS[err.field]) if err.field in SETTINGS else err.field
            return _settings_page(
                request, staff, 400, values=shown, error=f"{label}: {_.problem(err.message)}"
            )
        context.staff.audit(
            staff.site_id, staff.username, "deliveries.settings", entity="settings", detail=values
        )
    return RedirectResponse("/deliveries/settings?done=settings_saved", 303)


def _ref(ref: str) -> str:
    if len(ref) != 16 or any(c not in "0123456789abcdef" for c in ref):
        raise PageRefused(404, N_("There is no such parcel at this site."))
    return ref


@router.get("/deliveries/{ref}")
def parcel(request: Request, ref: str, staff: Staff = Depends(may_see)) -> Response:
    context = web(request)
    _ = words(request, staff)
    with context.db():
        zone = site_zone(staff.site_id)
        try:
            detail = ledger.parcel_detail(viewer_of(staff), _ref(ref))
        except NotFound as err:
            raise PageRefused(404, N_("There is no such parcel at this site.")) from err
    return context.page(
        request,
        staff,
        "parcel.html",
        parcel=detail.row,
        history=detail.history,
        kiosk_names=detail.kiosk_names,
        zone=str(zone),
        plabel=labeller(_),
        now=context.store.clock.now(),
        notice=_notice(request, _),
        may_return=staff.has(Role.RECEPTION) and detail.row.state == ParcelState.WAITING,
    )


@router.post("/deliveries/{ref}/return")
def mark_returned(request: Request, ref: str, staff: Staff = Depends(may_return)) -> Response:
    context = web(request)
    with context.db():
        try:
            ledger.mark_returned(
                context.store.feed,
                viewer_of(staff),
                _ref(ref),
                staff.username,
                context.store.clock.now(),
            )
        except NotFound as err:
            raise PageRefused(404, N_("There is no such parcel at this site.")) from err
        except InvalidInput as err:
            raise PageRefused(409, N_("Only a waiting parcel can be returned to sender.")) from err
    return RedirectResponse(f"/deliveries/{ref}?done=returned", 303)
