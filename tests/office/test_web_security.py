"""Every page of the office web, found by walking the app's routes (so a page added later is
covered without anyone remembering to): a stranger is sent to sign in, a role the page does
not name is refused, and a change without the session's CSRF token is refused."""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import WebOffice
from fastapi.routing import APIRoute

from kiosk.office.staff import Role

#: Pages anyone may open: signing in, and the links in hosts' messages (the token is the proof).
# A link's page: the signed token in the link (or, for a text message's short link, the
# 59-bit random code that names one) is the capability; the token is verified as ever.
# A case receipt's status page: the kiosk-signed token is the proof (times only, no names).
PUBLIC = {"/login", "/l/{token}", "/s/{code}", "/c/{token}"}


def all_routes(routes: list[Any]) -> list[Any]:
    """The app's routes, those of included routers too (FastAPI keeps an included router
    as one entry holding the original)."""
    found = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        found.extend(all_routes(inner.routes) if inner is not None else [route])
    return found


def protected_routes(app: Any) -> list[tuple[str, str, frozenset[Role]]]:
    found = []
    for route in all_routes(app.routes):
        if not isinstance(route, APIRoute) or route.path.startswith("/v1/"):
            continue
        if route.path in PUBLIC:
            continue
        allowed = [
            dep.call.allowed_roles
            for dep in route.dependant.dependencies
            if hasattr(dep.call, "allowed_roles")
        ]
        assert allowed, f"{route.path} does not ask require() who may open it"
        for method in route.methods:
            found.append((method, route.path, allowed[0]))
    return found


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "0123456789abcdef", path)


def test_every_page_is_behind_require(web_office: WebOffice) -> None:
    routes = protected_routes(web_office.app)
    assert len(routes) >= 20  # the walk found the pages, not an empty app


def test_a_stranger_is_sent_to_sign_in_from_every_page(web_office: WebOffice) -> None:
    client = web_office.client()
    for method, path, _roles in protected_routes(web_office.app):
        answer = client.request(method, concrete(path))
        assert answer.status_code == 303, (method, path, answer.status_code)
        assert answer.headers["location"].startswith("/login")


@pytest.mark.parametrize("role", [Role.RECEPTION, Role.SECURITY, Role.HOST])
def test_every_page_refuses_a_role_it_does_not_name(web_office: WebOffice, role: Role) -> None:
    client = web_office.as_role(role.value)
    token = web_office.csrf(client)
    for method, path, allowed in protected_routes(web_office.app):
        if role in allowed:
            continue
        answer = client.request(method, concrete(path), data={"csrf_token": token})
        assert answer.status_code == 403, (role, method, path, answer.status_code)


def test_every_change_without_the_csrf_token_is_refused(web_office: WebOffice) -> None:
    client = web_office.as_role("admin")
    for method, path, _roles in protected_routes(web_office.app):
        if method in ("GET", "HEAD"):
            continue
        for data in ({}, {"csrf_token": "forged"}):
            answer = client.request(method, concrete(path), data=data)
            assert answer.status_code == 403, (method, path, data, answer.status_code)
    assert client.get("/").status_code == 200  # still signed in: nothing was done


@pytest.mark.parametrize("page", ["/hosts", "/watchlist", "/users", "/settings"])
def test_a_notice_shows_only_the_offices_own_sentences(web_office: WebOffice, page: str) -> None:
    client = web_office.as_role("admin")
    elsewhere = web_office.store.add_host("Other Tower", "Someone Elsewhere")

    for query in (
        "done=Your+account+is+locked%2C+call+555-0100",
        "done=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        f"done=reactivated&ref={elsewhere.ref}",  # a name of another site
        "done=hosts_imported&created=%3Cb%3E&updated=9999999999999",
    ):
        answer = client.get(f"{page}?{query}")
        assert answer.status_code == 200
        assert "555-0100" not in answer.text and "<script>alert" not in answer.text
        assert "Someone Elsewhere" not in answer.text
        assert "<b>" not in answer.text


def test_a_notice_names_what_was_changed(web_office: WebOffice) -> None:
    client = web_office.as_role("admin")
    host = web_office.store.add_host("Riverside Tower", "Maria Schmidt")

    answer = client.get(f"/hosts?done=deactivated&ref={host.ref}")

    assert "Maria Schmidt deactivated." in answer.text
