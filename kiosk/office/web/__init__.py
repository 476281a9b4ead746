"""The office web: server-rendered pages for reception, security, hosts and admins.

Each page group is a router in its own module; `mount_web` (kiosk.office.web.pages)
adds them all to the office's FastAPI app. A page handler asks for the person signed in
with `require(...)`:

    @router.get("/hosts")
    def hosts(request: Request, staff: Staff = Depends(require(Role.RECEPTION))) -> Response:
        with web(request).db():
            ...
        return web(request).page(request, staff, "hosts.html", hosts=...)

`require` sends a visitor who is not signed in to the login page, refuses a role that may
not see the page (403), and checks the CSRF token of every request that changes something
(any method but GET and HEAD): no handler can forget it.

Pages speak the reader's language (`language_of`): the signed-in person's account
language, which the header's switch changes; before sign-in, the `lang` the login page's
switch sets, else Accept-Language. Words made in Python are marked `N_` where they are
defined and translated with `words(request, staff)` where they are shown.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiosk.office.channel_policy import ChannelPolicy
from kiosk.office.invitations import InvitationMailer
from kiosk.office.settings import OfficeSettings
from kiosk.office.staff import Role, Staff, StaffDirectory
from kiosk.office.store import OfficeStore
from kiosk.office.web.templating import (
    DEFAULT_LANGUAGE,
    ENDONYMS,
    LANGUAGES,
    N_,
    Translator,
    environment,
    pick_language,
)

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
    NavItem("/onsite", N_("On site"), frozenset({Role.RECEPTION, Role.SECURITY})),
    NavItem("/appointments", N_("Appointments"), frozenset({Role.RECEPTION, Role.HOST})),
    NavItem("/hosts", N_("Hosts"), frozenset({Role.RECEPTION})),
    NavItem("/watchlist", N_("Watchlist"), frozenset({Role.SECURITY})),
    NavItem("/visits", N_("Visit log"), frozenset({Role.RECEPTION, Role.SECURITY})),
    NavItem("/reports", N_("Reports"), frozenset({Role.RECEPTION})),
    NavItem("/users", N_("Users"), frozenset()),
    NavItem("/settings", N_("Settings"), frozenset()),
    NavItem("/deliveries", N_("Deliveries"), frozenset({Role.RECEPTION, Role.SECURITY, Role.HOST})),
    NavItem("/cases", N_("Cases"), frozenset({Role.RECEPTION, Role.HOST})),
)


class LoginRequired(Exception):
    pass


class PageRefused(Exception):
    """A polite error page. `message` is English marked with N_, translated when the page
    is shown, with `values` put in; `PageRefused.said` makes one whose text is already in
    the reader's language."""

    def __init__(self, status: int, message: str, **values: object) -> None:
        self.status = status
        self.message = message
        self.values = values
        self.translated = False
        super().__init__(message)

    @classmethod
    def said(cls, status: int, text: str) -> PageRefused:
        """A refusal in words already translated, with data in them (a host's name): shown
        as they are, never looked up in the catalogue or %-formatted again."""
        refused = cls(status, text)
        refused.translated = True
        return refused


def language_of(request: Request, staff: Staff | None = None) -> str:
    """The reader's language: their account's; before sign-in the login page's `lang`
    choice, else the browser's Accept-Language (zh-TW/HK/MO read Traditional)."""
    if staff is not None and staff.language in LANGUAGES:
        return staff.language
    chosen = getattr(request.state, "language", "")  # set by require() and the login form
    if chosen in LANGUAGES:
        return str(chosen)
    chosen = request.query_params.get("lang", "")
    if chosen in LANGUAGES:
        return str(chosen)
    return pick_language(request.headers.get("accept-language", ""), DEFAULT_LANGUAGE)


def words(request: Request, staff: Staff | None = None) -> Translator:
    """`_` for what a handler says in Python, in the reader's language."""
    return Translator(language_of(request, staff))


class WebContext:
    """What the pages use, each built once by the office's composition root
    (kiosk.office.api.build_office)."""

    def __init__(
        self,
        store: OfficeStore,
        settings: OfficeSettings,
        staff: StaffDirectory,
        mailer: InvitationMailer,
    ) -> None:
        self.store = store
        self.staff = staff
        self.mailer = mailer
        self.settings = settings

    @property
    def settings(self) -> OfficeSettings:
        return self._settings

    @settings.setter
    def settings(self, settings: OfficeSettings) -> None:
        """New settings reach the mailer too (tests point the office at another server)."""
        self._settings = settings
        self.mailer.settings = settings

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
        language = language_of(request, staff)
        # The menu's words translated here, so templates only ever translate literals.
        say = Translator(language)
        shown = [item for item in NAV if staff.has(*item.roles)] if staff else []
        nav = [replace(item, label=say(item.label)) for item in shown]
        html = (
            environment(language)
            .get_template(template)
            .render(
                request=request,
                staff=staff,
                nav=nav,
                csrf_token=staff.csrf_token if staff else "",
                path=request.url.path,
                here=_here(request),
                languages=list(ENDONYMS.items()),
                **context,
            )
        )
        return HTMLResponse(html, status)


def _here(request: Request) -> str:
    """Where the language switch brings the reader back: this page, without a notice in
    the old language; after a form's answer (a POST), the menu section it belongs to."""
    if request.method in SAFE_METHODS:
        query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "done"])
        return request.url.path + (f"?{query}" if query else "")
    path = request.url.path
    return next((item.path for item in NAV if path.startswith(item.path)), "/")


def web(request: Request) -> WebContext:
    context: WebContext = request.app.state.web
    return context


def channel_policy(request: Request, staff: Staff) -> ChannelPolicy:
    """What channels this person may add (kiosk.office.channel_policy)."""
    return ChannelPolicy(
        webhooks=staff.role is Role.ADMIN,
        private_addresses=web(request).settings.allow_private_channels,
    )


def require(*roles: Role) -> Callable[[Request], Any]:
    """A dependency: the signed-in person, if their role is admin or one of `roles`."""

    async def dependency(request: Request) -> Staff:
        context = web(request)
        token = request.cookies.get(SESSION_COOKIE, "")
        staff = await in_thread(context, lambda: context.staff.session(token))
        if staff is None:
            raise LoginRequired()
        request.state.language = staff.language  # for a refusal's page, which has no staff
        if not staff.has(*roles):
            raise PageRefused(403, N_("Your role may not open this page."))
        if request.method not in SAFE_METHODS:
            sent = request.headers.get("x-csrf-token", "")
            if not sent and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")
            ):
                sent = str((await request.form()).get("csrf_token", ""))
            if not hmac.compare_digest(sent.encode(), staff.csrf_token.encode()):
                raise PageRefused(403, N_("The form has expired. Go back, reload and try again."))
        return staff

    # For tests/office/test_web_security.py, which checks every route against it.
    dependency.allowed_roles = frozenset({Role.ADMIN, *roles})
    return dependency


async def in_thread(context: WebContext, work: Callable[[], Any]) -> Any:
    from starlette.concurrency import run_in_threadpool

    def run() -> Any:
        with context.db():
            return work()

    return await run_in_threadpool(run)


PAGE_HEADERS = (
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; "
        b"script-src 'self'; frame-ancestors 'none'; form-action 'self'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeaders:
    """No framing, no inline scripts from elsewhere, and no Referer: a signed link's token
    must not leak to another site through it. Pages are not cached (they show personal
    data); the stylesheet is.

    A plain ASGI middleware that only touches the response's start message: the kiosks'
    API (/v1/) passes straight through, its multi-megabyte event batches never copied."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        extra = [*PAGE_HEADERS]
        if not path.startswith("/static/"):
            extra.append((b"cache-control", b"no-store"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((name, value) for name, value in extra if name not in present),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)
