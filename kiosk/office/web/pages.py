"""Every router of the office web, in menu order, and `mount_web`, which adds them to the
office's app with the pages' middleware, static files and error pages."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from kiosk.office.web import (
    SAFE_METHODS,
    SESSION_COOKIE,
    LoginRequired,
    PageRefused,
    SecurityHeaders,
    WebContext,
    account,
    appointments,
    cases,
    deliveries,
    hosts,
    in_thread,
    links,
    onsite,
    reports,
    settings_page,
    users,
    visits,
    watchlist,
    words,
)
from kiosk.office.web.templating import STATIC


def routers() -> list[APIRouter]:
    return [
        module.router
        for module in (
            account, onsite, appointments, hosts, watchlist, visits, reports, users,
            settings_page, links, deliveries, cases,
        )
    ]  # fmt: skip


def mount_web(app: FastAPI, context: WebContext) -> None:
    """Add the staff's pages to the office's app, over the parts in `context`."""
    app.state.web = context
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _err: LoginRequired) -> Response:
        target = request.url.path if request.method in SAFE_METHODS else "/"
        return RedirectResponse(f"/login?next={target}", 303)

    @app.exception_handler(PageRefused)
    async def refused(request: Request, err: PageRefused) -> Response:
        if not getattr(request.state, "language", ""):
            # Refused before require() ran (a query parameter's check): whose page is it?
            token = request.cookies.get(SESSION_COOKIE, "")
            staff = await in_thread(context, lambda: context.staff.session(token))
            if staff is not None:
                request.state.language = staff.language
        message = err.message if err.translated else words(request)(err.message, **err.values)
        return context.page(request, None, "error.html", err.status, message=message)

    for router in routers():
        app.include_router(router)
