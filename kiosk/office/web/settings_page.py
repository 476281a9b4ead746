"""The site's settings and its kiosks (admin only). Channel URLs are shown masked; a list
sent back empty keeps its URLs. An enrolment code is shown once; revoking a kiosk asks for
confirmation first."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from kiosk.domain.errors import InvalidInput, NotFound
from kiosk.office import site_admin
from kiosk.office.models import Kiosk, Site
from kiosk.office.settings import SiteSettings, load_site_settings
from kiosk.office.staff import Staff
from kiosk.office.web import N_, PageRefused, channel_policy, require, web, words
from kiosk.office.web.notices import done, notice

router = APIRouter()
admin_only = require()


def _skew(milliseconds: int) -> str:
    return f"{milliseconds / 1000:+.1f} s"


def _page(
    request: Request,
    staff: Staff,
    status: int = 200,
    settings: SiteSettings | None = None,
    **context: object,
) -> Response:
    current = load_site_settings(Site.get_by_id(staff.site_id))
    shown = settings or current
    return web(request).page(
        request,
        staff,
        "settings.html",
        status,
        settings=shown,
        masked={
            name: "\n".join(urls) for name, urls in site_admin.masked_settings(current).items()
        },
        kiosks=site_admin.kiosks_of(staff.site_id),
        zone=current.timezone,
        skew=_skew,
        **context,
    )


@router.get("/settings")
def settings_page(request: Request, staff: Staff = Depends(admin_only)) -> Response:
    with web(request).db():
        names = {k.kiosk_id: k.name or k.kiosk_id for k in site_admin.kiosks_of(staff.site_id)}
        shown = notice(words(request, staff), request.query_params, names.get)
        return _page(request, staff, notice=shown)


@router.post("/settings")
def save_settings(
    request: Request,
    staff: Staff = Depends(admin_only),
    timezone: str = Form("", max_length=100),
    address: str = Form("", max_length=1000),
    what_to_bring: str = Form("", max_length=2000),
    reception: str = Form("", max_length=20_000),
    security: str = Form("", max_length=20_000),
    vip: str = Form("", max_length=20_000),
    clear: list[str] = Form(default=[]),
    visitor_details_days: int = Form(90),
    events_days: int = Form(365),
    audit_days: int = Form(730),
) -> Response:
    context = web(request)
    values = {
        "timezone": timezone, "address": address, "what_to_bring": what_to_bring,
        "visitor_details_days": visitor_details_days, "events_days": events_days,
        "audit_days": audit_days,
    }  # fmt: skip
    lines = {
        "reception": reception.splitlines(),
        "security": security.splitlines(),
        "vip": vip.splitlines(),
    }
    with context.db():
        try:
            site_admin.update_site_settings(
                context.staff, staff.site_id, staff.username, values, lines, clear,
                channel_policy(request, staff),
            )  # fmt: skip
        except InvalidInput as err:
            return _page(request, staff, 400, error=words(request, staff).problem(str(err)))
    return done("/settings", "settings_saved")


@router.post("/settings/kiosks/code")
def enrolment_code(request: Request, staff: Staff = Depends(admin_only)) -> Response:
    context = web(request)
    with context.db():
        code = site_admin.new_enrolment_code(
            context.store, context.staff, staff.site_id, staff.username
        )
        # Shown on this answer only, never in a URL or a log.
        return _page(request, staff, enrolment_code=code)


def _kiosk(staff: Staff, kiosk_id: str) -> Kiosk:
    try:
        return site_admin.kiosk_of(staff.site_id, kiosk_id)
    except NotFound as err:
        raise PageRefused(404, N_("There is no such kiosk at this site.")) from err


@router.get("/settings/kiosks/{kiosk_id}/revoke")
def confirm_revoke(request: Request, kiosk_id: str, staff: Staff = Depends(admin_only)) -> Response:
    with web(request).db():
        kiosk = _kiosk(staff, kiosk_id)
        return web(request).page(
            request,
            staff,
            "kiosks_revoke.html",
            kiosk=kiosk,
            zone=site_admin.site_timezone(staff.site_id),
        )


@router.post("/settings/kiosks/{kiosk_id}/revoke")
def revoke(request: Request, kiosk_id: str, staff: Staff = Depends(admin_only)) -> Response:
    context = web(request)
    with context.db():
        kiosk = _kiosk(staff, kiosk_id)
        try:
            site_admin.revoke_kiosk(
                context.store, context.staff, staff.site_id, staff.username, kiosk.kiosk_id
            )
        except InvalidInput as err:
            return _page(request, staff, 400, error=words(request, staff).problem(str(err)))
    return done("/settings", "kiosk_revoked", ref=kiosk.kiosk_id, fragment="kiosks")
