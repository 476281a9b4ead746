"""The watchlist (security and admin only): add, deactivate and reactivate entries, each
sent to the kiosks through the change feed, and the audit of who changed what. A document
number typed here is kept only as its salted hash (kiosk.office.directory)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from kiosk.domain.errors import InvalidInput, NotFound
from kiosk.office import directory, site_admin
from kiosk.office.staff import Role, Staff
from kiosk.office.web import N_, PageRefused, require, web, words
from kiosk.office.web.notices import done, notice

router = APIRouter()
may_see = require(Role.SECURITY)


def _page(request: Request, staff: Staff, status: int = 200, **context: object) -> Response:
    entries = directory.watchlist_of(staff.site_id)
    return web(request).page(
        request,
        staff,
        "watchlist.html",
        status,
        entries=entries,
        audit=directory.audit_of(staff.site_id, "watchlist"),
        names={entry.ref: entry.name for entry in entries},
        zone=site_admin.site_timezone(staff.site_id),
        **context,
    )


@router.get("/watchlist")
def watchlist(request: Request, staff: Staff = Depends(may_see)) -> Response:
    with web(request).db():
        names = {entry.ref: entry.name for entry in directory.watchlist_of(staff.site_id)}
        shown = notice(words(request, staff), request.query_params, names.get)
        return _page(request, staff, notice=shown, values={})


@router.post("/watchlist")
def add_entry(
    request: Request,
    staff: Staff = Depends(may_see),
    name: str = Form("", max_length=400),
    document_number: str = Form("", max_length=100),
    reason: str = Form("", max_length=2000),
) -> Response:
    context = web(request)
    _ = words(request, staff)
    with context.db():
        try:
            entry = directory.add_watchlist_entry(
                context.store, context.staff, staff.site_id, staff.username, name.strip(),
                document_number=document_number, reason=reason.strip(),
            )  # fmt: skip
        except InvalidInput as err:
            # The document number is not sent back: it should not linger in a page.
            return _page(
                request,
                staff,
                400,
                error=_.problem(str(err)),
                values={"name": name, "reason": reason},
            )
    return done("/watchlist", "added", ref=entry.ref)


@router.post("/watchlist/{ref}/active")
def set_active(
    request: Request, ref: str, staff: Staff = Depends(may_see), active: str = Form("")
) -> Response:
    context = web(request)
    with context.db():
        try:
            entry = directory.set_watchlist_active(
                context.store, context.staff, staff.site_id, staff.username, ref, active == "1"
            )
        except NotFound as err:
            raise PageRefused(404, N_("There is no such watchlist entry at this site.")) from err
    return done("/watchlist", "reactivated" if entry.active else "deactivated", ref=entry.ref)
