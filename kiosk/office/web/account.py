"""Signing in and out, the reader's language, and the home page.

The language switch of the login page is a link (`?lang=`), carried through the sign-in
form and kept on the account when the person signs in; once signed in, the header's
switch posts to /account/language (with the CSRF token, as every change) and saves it on
the account."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from kiosk.office.models import StaffUser
from kiosk.office.staff import SignInRefused, Staff
from kiosk.office.web import (
    ALL_STAFF,
    LANGUAGES,
    LOGIN_CSRF_COOKIE,
    N_,
    SESSION_COOKIE,
    PageRefused,
    language_of,
    new_login_csrf,
    require,
    web,
    words,
)

router = APIRouter()


def _safe_next(target: str) -> str:
    """Only a path on this site: `next=//evil.example` must not send anyone away."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _save_language(user_id: int, language: str) -> None:
    StaffUser.update(language=language).where(StaffUser.id == user_id).execute()


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_login_csrf()
    chosen = request.query_params.get("lang", "")
    response = web(request).page(
        request, None, "login.html", next=_safe_next(next), login_csrf=token,
        chosen_language=chosen if chosen in LANGUAGES else "",
        current_language=language_of(request),
    )  # fmt: skip
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
        secure=web(request).settings.cookie_secure,
    )  # fmt: skip
    return response


@router.post("/login")
def login(
    request: Request,
    username: str = Form(max_length=64),
    password: str = Form(max_length=256),
    csrf_token: str = Form(default="", max_length=64),
    next: str = Form(default="/", max_length=500),
    lang: str = Form(default="", max_length=10),
) -> Response:
    context = web(request)
    chosen = lang if lang in LANGUAGES else ""
    if chosen:
        request.state.language = chosen
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or csrf_token != expected:
        raise PageRefused(403, N_("The sign-in form has expired. Reload it and try again."))
    try:
        address = request.client.host if request.client else ""
        token = context.staff.sign_in(username, password, address)
    except SignInRefused:
        _ = words(request)
        return context.page(
            request, None, "login.html", 401, next=_safe_next(next), login_csrf=expected,
            error=_("Wrong user name or password, or the account is locked for a while."),
            username=username, chosen_language=chosen, current_language=language_of(request),
        )  # fmt: skip
    if chosen:
        # A language picked on the sign-in page is the one the person wants from now on.
        with context.db():
            staff = context.staff.session(token)
            if staff is not None:
                _save_language(staff.user_id, chosen)
    response = RedirectResponse(_safe_next(next), 303)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax",
        secure=context.settings.cookie_secure,
        max_age=int(context.settings.session_hours * 3600),
    )  # fmt: skip
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, staff: Staff = Depends(require(*ALL_STAFF))) -> Response:
    web(request).staff.sign_out(request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/account/language")
def set_language(
    request: Request,
    staff: Staff = Depends(require(*ALL_STAFF)),
    language: str = Form(max_length=10),
    next: str = Form(default="/", max_length=500),
) -> Response:
    if language not in LANGUAGES:
        raise PageRefused(400, N_("There is no such language."))
    with web(request).db():
        _save_language(staff.user_id, language)
    return RedirectResponse(_safe_next(next), 303)


@router.get("/")
def home(request: Request, staff: Staff = Depends(require(*ALL_STAFF))) -> Response:
    return web(request).page(request, staff, "home.html")
