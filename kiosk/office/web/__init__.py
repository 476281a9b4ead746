"""The office web: server-rendered pages for reception, security, hosts and admins.

Each page group is a router in its own module; `mount_web` adds them all to the office's
FastAPI app. A page handler asks for the person signed in with `require(...)`:

    @router.get("/hosts")
    def hosts(request: Request, staff: Staff = Depends(require(Role.RECEPTION))) -> Response:
        with web(request).db():
            ...
        return web(request).page(request, staff, "hosts.html", hosts=...)

`require` sends a visitor who is not signed in to the login page, refuses a role that may
not see the page (403), and checks the CSRF token of every request that changes something
(any method but GET and HEAD): no handler can forget it.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from kiosk.office.settings import OfficeSettings
from kiosk.office.staff import Role, Staff, StaffDirectory
from kiosk.office.store import OfficeStore
from kiosk.office.web.templating import STATIC, build_environment

SESSION_COOKIE = "office_session"
LOGIN_CSRF_COOKIE = "office_login_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str
    roles: frozenset[Role]


ALL_STAFF = frozenset(Role)
#: The menu. A page's own `require(...)` is what protects it; this only hides links.
NAV = (
    NavItem("/onsite", "On site", frozenset({Role.RECEPTION, Role.SECURITY})),
    NavItem("/appointments", "Appointments", frozenset({Role.RECEPTION, Role.HOST})),
    NavItem("/hosts", "Hosts", frozenset({Role.RECEPTION})),
    NavItem("/watchlist", "Watchlist", frozenset({Role.SECURITY})),
    NavItem("/visits", "Visit log", frozenset({Role.RECEPTION, Role.SECURITY})),
    NavItem("/reports", "Reports", frozenset({Role.RECEPTION})),
    NavItem("/users", "Users", frozenset()),
    NavItem("/settings", "Settings", frozenset()),
)


class LoginRequired(Exception):
    pass


class PageRefused(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


@dataclass
class WebContext:
    store: OfficeStore
    settings: OfficeSettings
    staff: StaffDirectory
    templates: Environment = field(default_factory=build_environment)

    @contextmanager
    def db(self) -> Iterator[None]:
        """A connection for one request's database work (handlers run in a thread pool)."""
        with self.store.db.connection_context():
            yield

    def page(
        self,
        request: Request,
        staff: Staff | None,
        template: str,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        nav = [item for item in NAV if staff and (staff.has(*item.roles))] if staff else []
        html = self.templates.get_template(template).render(
            request=request,
            staff=staff,
            nav=nav,
            csrf_token=staff.csrf_token if staff else "",
            path=request.url.path,
            **context,
        )
        return HTMLResponse(html, status)


def web(request: Request) -> WebContext:
    context: WebContext = request.app.state.web
    return context


def require(*roles: Role) -> Callable[[Request], Any]:
    """A dependency: the signed-in person, if their role is admin or one of `roles`."""

    async def dependency(request: Request) -> Staff:
        context = web(request)
        token = request.cookies.get(SESSION_COOKIE, "")
        staff = await _in_thread(context, lambda: context.staff.session(token))
        if staff is None:
            raise LoginRequired()
        if not staff.has(*roles):
            raise PageRefused(403, "Your role may not open this page.")
        if request.method not in SAFE_METHODS:
            sent = request.headers.get("x-csrf-token", "")
            if not sent and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")
            ):
                sent = str((await request.form()).get("csrf_token", ""))
            if not hmac.compare_digest(sent.encode(), staff.csrf_token.encode()):
                raise PageRefused(403, "The form has expired. Go back, reload and try again.")
        return staff

    # For tests/office/test_web_security.py, which checks every route against it.
    dependency.allowed_roles = frozenset({Role.ADMIN, *roles})
    return dependency


async def _in_thread(context: WebContext, work: Callable[[], Any]) -> Any:
    from starlette.concurrency import run_in_threadpool

    def run() -> Any:
        with context.db():
            return work()

    return await run_in_threadpool(run)


class SecurityHeaders(BaseHTTPMiddleware):
    """No framing, no inline scripts from elsewhere, and no Referer: a signed link's token
    must not leak to another site through it."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        if request.url.path.startswith("/v1/"):
            return response
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; "
            "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        )
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.url.path not in ("/static/office.css",):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def mount_web(app: FastAPI, store: OfficeStore, settings: OfficeSettings) -> None:
    from kiosk.office.web import pages

    context = WebContext(
        store, settings, StaffDirectory(store.db, store.clock, session_hours=settings.session_hours)
    )
    app.state.web = context
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _err: LoginRequired) -> Response:
        target = request.url.path if request.method in SAFE_METHODS else "/"
        return RedirectResponse(f"/login?next={target}", 303)

    @app.exception_handler(PageRefused)
    async def refused(request: Request, err: PageRefused) -> Response:
        return context.page(request, None, "error.html", err.status, message=err.message)

    for router in pages.routers():
        app.include_router(router)


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)
