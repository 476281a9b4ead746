"""A kiosk believes only its own office: a proxy on the path between a kiosk and a real
office (uvicorn on loopback, SQLite and PostgreSQL) alters, adds, drops and replays the
office's answers, and the kiosk refuses each one, keeps working on what it had, and records
it; enrolment through a proxy that substitutes the office's key fails with a clear message.

The proxy is a small HTTP server on loopback that the kiosk takes for its office: every
byte crosses two real sockets, and the kiosk's driver and the office's are the real ones."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from conftest import SITE, KioskFactory, Office
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tests_support import MONDAY_10AM

from kiosk.doctor import Finding, run_checks
from kiosk.domain.errors import RejectReason, TokenRejected
from kiosk.domain.tokens import TokenSigner, raw_public_key
from kiosk.services.checkin import Outcome
from kiosk.storage.models import AuditEntry, KioskState, TrustedKey
from kiosk.sync.client import SyncClient, SyncError
from kiosk.sync.wire import enrolment_key, fingerprint

Alter = Callable[[httpx.Request, httpx.Response], httpx.Response]


class Proxy:
    """A small HTTP proxy on loopback in front of the office: the kiosk enrols with its URL
    and so sends it every request. It forwards each one (after `alter_request`, if set) and
    hands back what `alter` makes of the office's answer."""

    def __init__(self, office_url: str) -> None:
        self.office_url = office_url
        self.alter: Alter | None = None
        self.alter_request: Callable[[httpx.Request], httpx.Request] | None = None
        self.answers: list[httpx.Response] = []
        self.requests: list[bytes] = []
        self._http = httpx.Client(base_url=office_url, trust_env=False, timeout=60)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                proxy._forward(self)

            do_POST = do_GET

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _forward(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        self.requests.append(body)
        skipped = {"host", "content-length", "connection", "transfer-encoding"}
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in skipped}
        request = self._http.build_request(handler.command, handler.path, headers=headers,
                                           content=body)  # fmt: skip
        if self.alter_request is not None:
            request = self.alter_request(request)
        response = self._http.send(request)
        self.answers.append(response)
        if self.alter is not None:
            response = self.alter(request, response)
        handler.send_response(response.status_code)
        for name, value in response.headers.items():
            if name.lower() not in skipped | {"date", "server"}:
                handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(response.content)))
        handler.end_headers()
        handler.wfile.write(response.content)

    def close(self) -> None:
        self._server.shutdown()
        self._http.close()


def rebuilt(
    response: httpx.Response, *, content: bytes | None = None, **headers: str | None
) -> httpx.Response:
    kept = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    for name, value in headers.items():
        name = name.replace("_", "-")
        kept = {k: v for k, v in kept.items() if k.lower() != name.lower()}
        if value is not None:
            kept[name] = value
    return httpx.Response(
        response.status_code,
        headers=kept,
        content=response.content if content is None else content,
    )


ATTACKER = Ed25519PrivateKey.generate()
ATTACKER_PUBLIC = raw_public_key(ATTACKER.public_key()).hex()


def feed_altered(change_page: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> Alter:
    """An Alter that rewrites the changes of each pulled page and leaves the rest alone."""

    def alter(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if not request.url.path.startswith("/v1/changes"):
            return response
        answer = json.loads(response.content)
        answer["changes"] = change_page(answer["changes"])
        return rebuilt(response, content=json.dumps(answer).encode())

    alter.__name__ = change_page.__name__  # the test's id
    return alter


@feed_altered
def with_attackers_key(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [*changes, {
        "id": 10**9, "entity": "key", "ref": f"invitation:{ATTACKER_PUBLIC}",
        "data": {"kind": "invitation", "public_key": ATTACKER_PUBLIC, "owner": "site",
                 "revoked": False},
    }]  # fmt: skip


@feed_altered
def emptied_feed(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cancels every appointment."""
    for change in changes:
        if change["entity"] == "appointment":
            change["data"]["cancelled"] = True
    return changes


@feed_altered
def revoking_the_site_key(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Revokes every key the feed names (the site's invitation key with them)."""
    for change in changes:
        if change["entity"] == "key":
            change["data"]["revoked"] = True
    return [*changes, {
        "id": 10**9, "entity": "revoked_token", "ref": "ab" * 8, "data": {"kind": "invitation"},
    }]  # fmt: skip


@feed_altered
def dropping_a_change(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Takes the newest change out of the page (a revocation, say, that should arrive)."""
    return changes[:-1]


def unsigned(_request: httpx.Request, response: httpx.Response) -> httpx.Response:
    return rebuilt(response, x_office_signature=None, x_office_keys=None)


def signed_by_attacker(_request: httpx.Request, response: httpx.Response) -> httpx.Response:
    from kiosk.sync.wire import sign_answer

    nonce = _request.headers.get("x-kiosk-nonce", "")
    office_time = response.headers.get("x-office-time", "")
    headers = sign_answer([ATTACKER], 200, nonce, office_time, response.content)
    return rebuilt(response, **{k.replace("-", "_"): v for k, v in headers.items()})


def time_shifted(_request: httpx.Request, response: httpx.Response) -> httpx.Response:
    return rebuilt(response, x_office_time=(MONDAY_10AM + timedelta(days=30)).isoformat())


@pytest.fixture
def proxied(
    request: pytest.FixtureRequest, office: Office, kiosks: KioskFactory
) -> tuple[Proxy, object, SyncClient, str]:
    """An enrolled kiosk whose every request goes through the proxy, synced once, and an
    invitation booked at the office."""
    proxy = Proxy(office.url)
    request.addfinalizer(proxy.close)
    kiosk, client = kiosks.new(enrol=False)
    client.enroll(proxy.url, office.store.enrolment_code(SITE))
    host = office.store.add_host(SITE, "Maria Schmidt", email="maria@example.com")
    appointment = office.store.add_appointment(
        SITE, visitor_name="Anna Eriksson", host_ref=host.ref, starts_at=MONDAY_10AM
    )
    token = office.store.invite(appointment.ref)
    client.run_once()
    return proxy, kiosk, client, token


def audit_actions(kiosk: object) -> list[str]:
    with kiosk.using():  # type: ignore[attr-defined]
        return [row.action for row in AuditEntry.select().order_by(AuditEntry.id)]


#: What the kiosk checks does not depend on the office's database: the many ways of altering
#: an answer run against an office on SQLite; enrolment, replay and rotation on both.
sqlite_only = pytest.mark.parametrize("office_db_url", ["sqlite"], indirect=True)


@sqlite_only
@pytest.mark.parametrize(
    "alter",
    [
        with_attackers_key,
        revoking_the_site_key,
        dropping_a_change,
        emptied_feed,
        unsigned,
        signed_by_attacker,
        time_shifted,
    ],
)
def test_an_altered_answer_is_refused_and_the_kiosk_keeps_what_it_had(
    office: Office, proxied: tuple[Proxy, object, SyncClient, str], alter: Alter
) -> None:
    proxy, kiosk, client, token = proxied
    office.store.add_host(SITE, "Li Na", email="li.na@example.com")  # something to pull
    proxy.alter = alter

    with pytest.raises(SyncError, match="not signed by its key"):
        client.run_once(force=True)

    assert "office.answer_forged" in audit_actions(kiosk)
    with kiosk.using():  # type: ignore[attr-defined]
        alerts = kiosk.engine.recent_alerts(MONDAY_10AM - timedelta(days=1))  # type: ignore[attr-defined]
    assert [a["reason"] for a in alerts] == ["office_answer_forged"]  # the guard sees it
    assert "not signed by its key" in (client.status().last_error or "")
    with kiosk.using():  # type: ignore[attr-defined]
        assert not TrustedKey.select().where(TrustedKey.public_key == ATTACKER_PUBLIC).exists()
        forged = TokenSigner(ATTACKER).sign_invitation(
            appointment_ref="ab" * 8, host_ref="cd" * 8, visitor_name="Mallory",
            not_before=MONDAY_10AM - timedelta(hours=1), not_after=MONDAY_10AM + timedelta(hours=4),
        )[0]  # fmt: skip
        with pytest.raises(TokenRejected) as caught:
            kiosk.engine.check_in_with_invitation(forged)  # type: ignore[attr-defined]
        assert caught.value.reason is RejectReason.UNKNOWN_KEY
        # What it had still works: the genuine invitation pulled before.
        result = kiosk.engine.check_in_with_invitation(token)  # type: ignore[attr-defined]
        assert result.outcome is Outcome.CHECKED_IN

    proxy.alter = None  # the path is clean again: sync goes on
    client.run_once(force=True)


def test_a_replayed_answer_is_refused(
    office: Office, proxied: tuple[Proxy, object, SyncClient, str]
) -> None:
    proxy, _kiosk, client, _token = proxied
    earlier = next(
        r for r in proxy.answers if r.request.url.path == "/v1/changes" and r.status_code == 200
    )
    proxy.alter = lambda request, response: (
        rebuilt(earlier) if request.url.path == "/v1/changes" else response
    )

    with pytest.raises(SyncError, match="not signed by its key"):
        client.run_once(force=True, push=False)


def test_enrolment_through_a_proxy_that_substitutes_the_offices_key_fails(
    office: Office, kiosks: KioskFactory
) -> None:
    proxy = Proxy(office.url)

    def substitute(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        answer = json.loads(response.content)
        answer["office_keys"] = [ATTACKER_PUBLIC]
        return rebuilt(response, content=json.dumps(answer).encode())

    proxy.alter = substitute
    kiosk, client = kiosks.new(enrol=False)

    with pytest.raises(SyncError, match="does not prove it comes from the office"):
        client.enroll(proxy.url, office.store.enrolment_code(SITE))
    proxy.close()

    assert client.office_url == ""
    with kiosk.using():  # type: ignore[attr-defined]
        assert not KioskState.select().where(KioskState.key == "sync_office_keys").exists()


def test_the_code_never_crosses_and_an_altered_request_is_refused(
    office: Office, kiosks: KioskFactory
) -> None:
    proxy = Proxy(office.url)

    def swap(request: httpx.Request) -> httpx.Request:
        body = json.loads(request.content)
        body["auth_public_key"] = ATTACKER_PUBLIC  # the proxy's own sync key
        return httpx.Request(request.method, request.url, json=body)

    proxy.alter_request = swap
    code = office.store.enrolment_code(SITE)
    _kiosk, client = kiosks.new(enrol=False)

    with pytest.raises(SyncError, match="refused enrolment"):
        client.enroll(proxy.url, code)

    proxy.close()
    seen = proxy.requests
    assert code.encode() not in seen[0] and enrolment_key(code).hex().encode() not in seen[0]
    kiosks.new(enrol=False)[1].enroll(office.url, code)  # the code is still good


@sqlite_only
def test_plain_http_to_another_machine_needs_to_be_asked_for(kiosks: KioskFactory) -> None:
    _kiosk, client = kiosks.new(enrol=False)

    with pytest.raises(SyncError, match="--insecure-http"):
        client.enroll("http://192.0.2.10:8470", "ABC-DEF-123")


def test_a_kiosk_enrolled_before_answers_were_signed_is_told_what_to_do(
    office: Office, kiosks: KioskFactory
) -> None:
    kiosk, client = kiosks.new()
    with kiosk.using():  # type: ignore[attr-defined]
        KioskState.delete().where(KioskState.key == "sync_office_keys").execute()

    with pytest.raises(SyncError, match="enrolled before they were signed"):
        client.run_once(force=True)


def test_the_offices_key_is_rotated_through_the_feed(office: Office, kiosks: KioskFactory) -> None:
    kiosk, client = kiosks.new()
    client.run_once()
    [first] = office.store.office_keys.public(office.store.clock.now())

    second = office.store.rotate_office_key()
    client.run_once(force=True)  # the answer bringing the new key is signed by the old one
    assert client.status().office_keys == sorted([fingerprint(first), fingerprint(second)])

    office.store.retire_office_key(first)
    client.run_once(force=True)
    assert client.status().office_keys == [fingerprint(second)]
    assert office.store.office_keys.public(office.store.clock.now()) == [second]
    office.store.add_host(SITE, "Li Na", email="li.na@example.com")
    assert client.run_once(force=True).pulled >= 1  # answers signed by the new key alone
    assert "office.keys_changed" in audit_actions(kiosk)
    learnt = audit_actions(kiosk).count("office.keys_changed")
    client.run_once(force=True)  # the cursor moved past the key rows: nothing learnt again
    assert audit_actions(kiosk).count("office.keys_changed") == learnt


def test_kiosk_doctor_shows_the_pinned_key_and_a_forged_answer(
    office: Office, kiosks: KioskFactory, proxied: tuple[Proxy, object, SyncClient, str]
) -> None:
    proxy, _kiosk, client, _token = proxied
    config = kiosks.root / "kiosk1" / "kiosk.toml"
    [office_key] = office.store.office_keys.public(office.store.clock.now())

    def office_key_line() -> Finding:
        return next(f for f in run_checks(str(config)) if f.name == "office key")

    clean = office_key_line()
    assert clean.status == "ok" and fingerprint(office_key) in clean.detail

    proxy.alter = unsigned
    with pytest.raises(SyncError):
        client.run_once(force=True)
    forged = office_key_line()
    assert forged.status == "fail" and "not signed by it was refused" in forged.detail

    proxy.alter = None
    _kiosk.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
    client.run_once(force=True)
    assert office_key_line().status == "warn"  # it happened; the path is clean since
