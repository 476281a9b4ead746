"""Signing in to the office web: slow password hashes, sessions, lockout, roles and CSRF."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import WebOffice

from kiosk.office.models import StaffSession, StaffUser
from kiosk.office.throttle import LOCKOUT, MAX_FAILURES


def test_a_page_sends_a_stranger_to_the_login_page_and_back_after(web_office: WebOffice) -> None:
    client = web_office.client()
    answer = client.get("/")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/"
    username = web_office.add_user("reception")
    signed_in = web_office.sign_in(client, username)
    assert signed_in.status_code == 303
    home = client.get("/")
    assert home.status_code == 200
    assert "reception" in home.text and 'href="/appointments"' in home.text


def test_passwords_are_kept_as_argon2id_hashes_and_sessions_as_token_hashes(
    web_office: WebOffice,
) -> None:
    client = web_office.client()
    web_office.sign_in(client, web_office.add_user("admin"))
    cookie = client.cookies.get("office_session")
    with web_office.store.db.connection_context():
        user = StaffUser.get()
        assert user.password_hash.startswith("$argon2id$")
        assert web_office.password not in user.password_hash
        session = StaffSession.get()
        assert cookie and cookie not in session.token_hash


def test_a_wrong_password_is_refused_without_saying_which_half_was_wrong(
    web_office: WebOffice,
) -> None:
    username = web_office.add_user("security")
    client = web_office.client()
    wrong_password = web_office.sign_in(client, username, "not the password")
    unknown_user = web_office.sign_in(client, "nobody", web_office.password)
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert "Wrong user name or password" in wrong_password.text
    assert client.get("/").status_code == 303


def test_an_account_locks_after_repeated_failures_and_opens_again_later(
    web_office: WebOffice,
) -> None:
    username = web_office.add_user("reception")
    client = web_office.client()
    for _ in range(MAX_FAILURES):
        assert web_office.sign_in(client, username, "guessing-wrong").status_code == 401
    assert web_office.sign_in(client, username).status_code == 401  # right password, locked
    web_office.clock.advance(LOCKOUT + timedelta(seconds=1))
    assert web_office.sign_in(client, username).status_code == 303


def test_a_session_ends_at_sign_out_and_at_expiry(web_office: WebOffice) -> None:
    client = web_office.as_role("reception")
    token = web_office.csrf(client)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/").status_code == 303
    client = web_office.as_role("reception")
    web_office.clock.advance(timedelta(hours=13))
    assert client.get("/").status_code == 303


def test_a_change_without_the_session_csrf_token_is_refused(web_office: WebOffice) -> None:
    client = web_office.as_role("reception")
    assert client.post("/logout", data={}).status_code == 403
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert client.get("/").status_code == 200  # still signed in: nothing happened
    other = web_office.as_role("reception")
    assert client.post("/logout", data={"csrf_token": web_office.csrf(other)}).status_code == 403


def test_login_form_needs_its_own_csrf_cookie(web_office: WebOffice) -> None:
    username = web_office.add_user("admin")
    client = web_office.client()
    answer = client.post(
        "/login", data={"username": username, "password": web_office.password, "csrf_token": "x"}
    )
    assert answer.status_code == 403


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/"])
def test_the_next_page_after_login_stays_on_this_site(web_office: WebOffice, target: str) -> None:
    username = web_office.add_user("admin")
    client = web_office.client()
    page = client.get("/login", params={"next": target})
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post(
        "/login",
        data={"username": username, "password": web_office.password, "csrf_token": token,
              "next": target},
    )  # fmt: skip
    assert answer.headers["location"] == "/"


def test_pages_carry_headers_that_keep_link_tokens_and_frames_safe(web_office: WebOffice) -> None:
    answer = web_office.client().get("/login")
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
