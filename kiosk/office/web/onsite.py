"""Who is on site now, at every kiosk of the site, and the evacuation roll call as a page
to print (reception, security and admins). The list refreshes itself every 30 seconds with
a meta refresh, which the pages' CSP allows, so it needs no script."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from kiosk.domain.values import ATTENDED_WITHIN
from kiosk.office import reporting
from kiosk.office.models import Site
from kiosk.office.settings import load_site_settings
from kiosk.office.staff import Role, Staff
from kiosk.office.web import require, web

router = APIRouter()
may_see = require(Role.RECEPTION, Role.SECURITY)
REFRESH_SECONDS = 30


def site_zone(site_id: int) -> ZoneInfo:
    return ZoneInfo(load_site_settings(Site.get_by_id(site_id)).timezone)


@router.get("/onsite")
def onsite(request: Request, staff: Staff = Depends(may_see)) -> Response:
    context = web(request)
    with context.db():
        rows = reporting.on_site(staff.site_id)
        zone = site_zone(staff.site_id)
    return context.page(
        request,
        staff,
        "onsite.html",
        rows=rows,
        now=context.store.clock.now(),
        zone=str(zone),
        refresh=REFRESH_SECONDS,
        standard=ATTENDED_WITHIN.total_seconds(),
    )


@router.get("/onsite/rollcall")
def rollcall(request: Request, staff: Staff = Depends(may_see)) -> Response:
    context = web(request)
    with context.db():
        rows = reporting.roll_call(staff.site_id)
        zone = site_zone(staff.site_id)
    return context.page(
        request,
        staff,
        "rollcall.html",
        rows=rows,
        printed_at=context.store.clock.now(),
        zone=str(zone),
    )
