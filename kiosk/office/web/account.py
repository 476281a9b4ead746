"""Signing in and out, and the home page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from kiosk.office.staff import SignInRefused, Staff
from kiosk.office.web import (
    ALL_STAFF,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    PageRefused,
    new_login_csrf,
    require,
    web,
)

router = APIRouter()


def _safe_next(target: str) -> str:
    """Only a path on this site: `next=//evil.example` must not send anyone away."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_login_csrf()
    response = web(request).page(
        request, None, "login.html", next=_safe_next(next), login_csrf=token
    )
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
) -> Response:
    context = web(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or csrf_token != expected:
        raise PageRefused(403, "The sign-in form has expired. Reload it and try again.")
    try:
        token = context.staff.sign_in(username, password)
    except SignInRefused:
        return context.page(
            request, None, "login.html", 401, next=_safe_next(next), login_csrf=expected,
            error="Wrong user name or password, or the account is locked for a while.",
            username=username,
        )  # fmt: skip
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


@router.get("/")
def home(request: Request, staff: Staff = Depends(require(*ALL_STAFF))) -> Response:
    return web(request).page(request, staff, "home.html")
