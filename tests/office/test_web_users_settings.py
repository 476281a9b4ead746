"""Users and settings in the office web (admin only): accounts with one-time passwords,
deactivation, password resets, the site's settings with masked channels, and the kiosks:
enrolment codes shown once and revocation after a confirmation. Everything audited."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from conftest import SITE, WebOffice

from kiosk.office.models import AuditEntry, ChangeLog, Kiosk, StaffSession, StaffUser
from kiosk.office.settings import load_site_settings
from kiosk.office.store import Forbidden

SECRET = "mailtos://desk:Rec3ption-pw@mail.example.com?to=desk@example.com"
ADMIN_PAGES = ["/users", "/settings"]


def _actions(web_office: WebOffice, entity: str) -> list[str]:
    with web_office.store.db.connection_context():
        return [
            entry.action
            for entry in AuditEntry.select()
            .where(AuditEntry.entity == entity)
            .order_by(AuditEntry.id)
        ]


def _one_time_password(page: str) -> str:
    found = re.search(r'<code class="one-time">([^<]+)</code>', page)
    assert found, page
    return found.group(1)


# ---------------------------------------------------------------- roles and CSRF


@pytest.mark.parametrize("role", ["reception", "security", "host"])
def test_only_admins_open_users_and_settings(web_office: WebOffice, role: str) -> None:
    client = web_office.as_role(role)
    for path in ADMIN_PAGES:
        assert client.get(path).status_code == 403, path
    token = web_office.csrf(client)
    for path in ("/users", "/settings", "/settings/kiosks/code"):
        assert client.post(path, data={"csrf_token": token}).status_code == 403, path
    admin = web_office.as_role("admin")
    for path in ADMIN_PAGES:
        assert admin.get(path).status_code == 200, path
    stranger = web_office.client()
    for path in ADMIN_PAGES:
        assert stranger.get(path).headers["location"] == f"/login?next={path}"


def test_admin_changes_without_the_csrf_token_are_refused(web_office: WebOffice) -> None:
    client = web_office.as_role("admin")
    form = {"username": "eve", "display_name": "Eve", "role": "admin"}
    assert client.post("/users", data=form).status_code == 403
    assert client.post("/settings", data={"timezone": "Asia/Shanghai"}).status_code == 403
    assert client.post("/settings/kiosks/code").status_code == 403
    with web_office.store.db.connection_context():
        assert not StaffUser.select().where(StaffUser.username == "eve").exists()
    assert _actions(web_office, "kiosk") == []


# ---------------------------------------------------------------- users


def test_an_admin_adds_a_host_account_whose_password_is_shown_once(web_office: WebOffice) -> None:
    host = web_office.store.add_host(SITE, "李娜", email="li.na@example.com")
    admin = web_office.as_role("admin")
    answer = admin.post(
        "/users",
        data={"username": "Li.Na", "display_name": "李娜", "role": "host", "host_ref": host.ref,
              "csrf_token": web_office.csrf(admin)},
    )  # fmt: skip
    assert answer.status_code == 200
    password = _one_time_password(answer.text)
    assert password not in admin.get("/users").text  # only on that answer
    with web_office.store.db.connection_context():
        user = StaffUser.get(StaffUser.username == "li.na")
        assert (user.role, user.host_ref, user.display_name) == ("host", host.ref, "李娜")
        assert password not in user.password_hash
    signed_in = web_office.client()
    assert web_office.sign_in(signed_in, "li.na", password).status_code == 303
    assert _actions(web_office, "user") == ["user.add"]


def test_a_refused_account_says_why(web_office: WebOffice) -> None:
    admin = web_office.as_role("admin")
    token = web_office.csrf(admin)
    cases = [
        ({"username": "bad name!", "role": "reception"}, "letters, digits"),
        ({"username": "eve", "role": "wizard"}, "must be admin, reception"),
        ({"username": "eve", "role": "host"}, "choose the host"),
    ]
    for form, message in cases:
        answer = admin.post("/users", data={**form, "csrf_token": token})
        assert answer.status_code == 400 and message in answer.text, form
    taken = admin.post("/users", data={"username": "eve", "role": "reception", "csrf_token": token})
    assert taken.status_code == 200
    again = admin.post("/users", data={"username": "eve", "role": "security", "csrf_token": token})
    assert again.status_code == 400 and "is taken" in again.text


def test_deactivation_ends_sessions_and_a_reset_password_replaces_the_old(
    web_office: WebOffice,
) -> None:
    reception = web_office.as_role("reception")
    admin = web_office.as_role("admin")
    token = web_office.csrf(admin)
    with web_office.store.db.connection_context():
        user = StaffUser.get(StaffUser.role == "reception")
        me = StaffUser.get(StaffUser.role == "admin")
    answer = admin.post(f"/users/{user.id}/active", data={"active": "0", "csrf_token": token})
    assert answer.status_code == 303
    assert reception.get("/hosts").status_code == 303  # signed out at once
    assert web_office.sign_in(web_office.client(), user.username).status_code == 401
    admin.post(f"/users/{user.id}/active", data={"active": "1", "csrf_token": token})

    answer = admin.post(f"/users/{user.id}/password", data={"csrf_token": token})
    password = _one_time_password(answer.text)
    assert web_office.sign_in(web_office.client(), user.username).status_code == 401
    assert web_office.sign_in(web_office.client(), user.username, password).status_code == 303

    mine = admin.post(f"/users/{me.id}/active", data={"active": "0", "csrf_token": token})
    assert mine.status_code == 400 and "your own account" in mine.text
    with web_office.store.db.connection_context():
        assert StaffUser.get_by_id(me.id).active
        assert StaffSession.select().where(StaffSession.user == me.id).exists()
    assert _actions(web_office, "user") == [
        "user.deactivate",
        "user.reactivate",
        "user.reset_password",
    ]


# ---------------------------------------------------------------- settings


def _settings_form(**values: Any) -> dict[str, Any]:
    form = {"timezone": "Asia/Shanghai", "address": "88 Century Avenue, Pudong",
            "what_to_bring": "身份证或护照", "reception": "", "security": "", "vip": "",
            "visitor_details_days": "60", "events_days": "365", "audit_days": "730"}  # fmt: skip
    form.update(values)
    return form


def test_settings_are_saved_with_channels_masked_and_kept_when_sent_back_empty(
    web_office: WebOffice,
) -> None:
    admin = web_office.as_role("admin")
    token = web_office.csrf(admin)
    webhook = "json://hooks.example.com/security"
    answer = admin.post(
        "/settings",
        data={**_settings_form(reception=SECRET, security=webhook), "csrf_token": token},
    )
    assert answer.status_code == 303
    with web_office.store.db.connection_context():
        saved = load_site_settings(web_office.site)
    assert saved.timezone == "Asia/Shanghai" and saved.visitor_details_days == 60
    assert [s.get_secret_value() for s in saved.reception] == [SECRET]
    page = admin.get("/settings").text
    assert "Rec3ption-pw" not in page and "desk:***@mail.example.com" in page

    # Sent back empty: kept. Sent back masked plus a new line: the secret stays.
    admin.post("/settings", data={**_settings_form(address="New address"), "csrf_token": token})
    masked = re.search(r'<textarea [^>]*name="reception"[^>]*>([^<]*)</textarea>', page)
    assert masked
    vip = "json://hooks.example.com/vip"
    admin.post(
        "/settings",
        data={**_settings_form(reception=f"{masked.group(1)}\n{vip}"), "csrf_token": token},
    )
    with web_office.store.db.connection_context():
        saved = load_site_settings(web_office.site)
    assert [s.get_secret_value() for s in saved.reception] == [SECRET, vip]
    assert [s.get_secret_value() for s in saved.security] == [webhook]

    admin.post("/settings", data={**_settings_form(), "clear": ["security"], "csrf_token": token})
    with web_office.store.db.connection_context():
        saved = load_site_settings(web_office.site)
        details = [
            entry.detail
            for entry in AuditEntry.select().where(AuditEntry.action == "settings.update")
        ]
    assert saved.security == [] and len(saved.reception) == 2
    assert len(details) == 4 and not any("Rec3ption-pw" in detail for detail in details)
    assert json.loads(details[1])["address"]["to"] == "New address"


def test_wrong_settings_are_refused_and_nothing_is_saved(web_office: WebOffice) -> None:
    admin = web_office.as_role("admin")
    token = web_office.csrf(admin)
    cases = [
        ({"timezone": "Mars/Olympus"}, "is not a time zone name"),
        ({"audit_days": "5"}, "audit_days"),
        ({"vip": "not a url"}, "is not a channel URL"),
    ]
    for values, message in cases:
        answer = admin.post("/settings", data={**_settings_form(**values), "csrf_token": token})
        assert answer.status_code == 400 and message in answer.text, values
    with web_office.store.db.connection_context():
        assert load_site_settings(web_office.site).timezone == "UTC"
    assert _actions(web_office, "settings") == []


# ---------------------------------------------------------------- kiosks


def _enrol(web_office: WebOffice, code: str, kiosk_id: str) -> Kiosk:
    return web_office.store.enrol(
        code, kiosk_id=kiosk_id, name=f"Lobby {kiosk_id[-1]}",
        auth_public_key="a" * 64, badge_public_key=(kiosk_id[-1] * 64),
    )  # fmt: skip


def test_an_enrolment_code_is_shown_once_and_enrols_one_kiosk(web_office: WebOffice) -> None:
    admin = web_office.as_role("admin")
    answer = admin.post("/settings/kiosks/code", data={"csrf_token": web_office.csrf(admin)})
    assert answer.status_code == 200
    code = _one_time_password(answer.text)
    assert code not in admin.get("/settings").text
    _enrol(web_office, code, "kiosk-1")
    with pytest.raises(Forbidden):
        _enrol(web_office, code, "kiosk-2")
    page = admin.get("/settings").text
    assert "Lobby 1" in page and "kiosk-1" in page and "+0.0 s" in page
    assert _actions(web_office, "kiosk") == ["kiosk.enrolment_code"]
    with web_office.store.db.connection_context():
        assert not any(code in entry.detail for entry in AuditEntry.select())


def test_revoking_a_kiosk_asks_first_then_tells_the_other_kiosks(web_office: WebOffice) -> None:
    _enrol(web_office, web_office.store.enrolment_code(SITE), "kiosk-1")
    admin = web_office.as_role("admin")
    confirm = admin.get("/settings/kiosks/kiosk-1/revoke")
    assert confirm.status_code == 200 and "Revoke Lobby 1?" in confirm.text
    with web_office.store.db.connection_context():
        assert Kiosk.get().revoked_at is None  # asking changed nothing
    token = web_office.csrf(admin)
    assert admin.post("/settings/kiosks/kiosk-1/revoke").status_code == 403
    answer = admin.post("/settings/kiosks/kiosk-1/revoke", data={"csrf_token": token})
    assert answer.status_code == 303
    with web_office.store.db.connection_context():
        assert Kiosk.get().revoked_at == web_office.clock.now()
        keys = [json.loads(row.data) for row in ChangeLog.select().where(ChangeLog.entity == "key")]
    assert {"kind": "badge", "public_key": "1" * 64, "owner": "kiosk-1", "revoked": True} in keys
    assert "revoked" in admin.get("/settings").text
    again = admin.post("/settings/kiosks/kiosk-1/revoke", data={"csrf_token": token})
    assert again.status_code == 400 and "already revoked" in again.text
    assert admin.get("/settings/kiosks/nope/revoke").status_code == 404
    assert _actions(web_office, "kiosk") == ["kiosk.revoke"]
