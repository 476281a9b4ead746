"""Kiosks and the office, end to end over HTTP on loopback, on both storage backends:
enrolment, push and pull, single use across kiosks, badges verified at any kiosk, faults
that lose nothing and duplicate nothing, and the security rules."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import httpx
import pytest
from conftest import SITE, KioskFactory, Office
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from peewee import fn
from tests_support import MONDAY_10AM

from kiosk.domain.errors import RejectReason, TokenRejected
from kiosk.domain.tokens import raw_public_key
from kiosk.office.models import ChangeLog, Event, OfficeVisit, SiteKey
from kiosk.office.models import Kiosk as OfficeKiosk
from kiosk.services.checkin import Outcome, VisitorDetails, WalkIn
from kiosk.storage.models import Host, OutboxEvent, TrustedKey, Visit
from kiosk.sync.apply import current_cursor
from kiosk.sync.client import SyncError
from kiosk.sync.wire import sign_request


def book_with_invitation(office: Office, visitor: str = "Anna Eriksson") -> tuple[str, str]:
    host = office.store.add_host(
        SITE, "Maria Schmidt", email="maria@example.com", department="Engineering"
    )
    appointment = office.store.add_appointment(
        SITE, visitor_name=visitor, host_ref=host.ref, starts_at=MONDAY_10AM
    )
    return host.ref, office.store.invite(appointment.ref)


def walk_in(kiosk, host_ref: str, name: str = "Carol White") -> str:
    with kiosk.using():
        result = kiosk.engine.check_in_walk_in(WalkIn(VisitorDetails(name), host_ref))
    assert result.outcome is Outcome.CHECKED_IN and result.visit_ref
    return result.visit_ref


def office_events(store, kiosk_id: str) -> list[str]:
    with store.db.connection_context():
        return [
            e.event_id
            for e in Event.select(Event.event_id)
            .join(OfficeKiosk)
            .where(OfficeKiosk.kiosk_id == kiosk_id)
        ]


def local_events(kiosk) -> list[str]:
    with kiosk.using():
        return [e.event_id for e in OutboxEvent.select(OutboxEvent.event_id)]


def assert_exactly_once(office: Office, kiosk) -> None:
    sent = local_events(kiosk)
    received = office_events(office.store, kiosk.kiosk_id)
    assert sorted(received) == sorted(sent)  # none lost, none twice
    with kiosk.using():
        assert not OutboxEvent.select().where(OutboxEvent.sent_at.is_null()).exists()


def test_enrolment_push_and_pull(office: Office, kiosks: KioskFactory) -> None:
    _host_ref, token = book_with_invitation(office)
    kiosk, client = kiosks.new()
    assert not (kiosk.keys.directory / "invitation.key").exists()  # signed at the office now

    first = client.run_once()
    assert first.pulled >= 4  # the site key, this kiosk's badge key, the host, the appointment
    with kiosk.using():
        preview = kiosk.engine.preview_invitation(token)
        assert (preview.visitor_name, preview.host_name) == ("Anna Eriksson", "Maria Schmidt")
        result = kiosk.engine.check_in_with_invitation(token)
    assert result.outcome is Outcome.CHECKED_IN

    report = client.run_once()
    assert report.pushed >= 3
    assert_exactly_once(office, kiosk)
    [visit] = office.store.visits(MONDAY_10AM - timedelta(days=1))
    assert (visit["visitor_name"], visit["state"], visit["kiosk"]) == (
        "Anna Eriksson",
        "awaiting_host",
        kiosk.kiosk_id,
    )
    status = client.status()
    assert status.backlog == 0 and status.last_error is None and status.site == SITE


def test_an_invitation_used_at_one_kiosk_is_refused_at_another(
    office: Office, kiosks: KioskFactory
) -> None:
    _, token = book_with_invitation(office)
    first, first_sync = kiosks.new()
    second, second_sync = kiosks.new()
    first_sync.run_once()
    second_sync.run_once()
    with first.using():
        first.engine.check_in_with_invitation(token)
    first_sync.run_once()
    second_sync.run_once()
    with second.using(), pytest.raises(TokenRejected) as caught:
        second.engine.check_in_with_invitation(token)
    assert caught.value.reason is RejectReason.REPLAYED


def test_offline_the_same_invitation_twice_is_admitted_then_flagged(
    office: Office, kiosks: KioskFactory
) -> None:
    """Two kiosks that cannot reach the office cannot know of each other: both admit the
    visitor (nobody is left at the door), and the office raises a security alert as soon as
    both have synced."""
    _, token = book_with_invitation(office)
    first, first_sync = kiosks.new()
    second, second_sync = kiosks.new()
    first_sync.run_once()
    second_sync.run_once()
    for kiosk in (first, second):
        with kiosk.using():
            assert kiosk.engine.check_in_with_invitation(token).outcome is Outcome.CHECKED_IN
    first_sync.run_once()
    second_sync.run_once()
    with office.store.db.connection_context():
        alerts = [
            json.loads(e.payload) for e in Event.select().where(Event.kind == "security.alert")
        ]
    assert [a["reason"] for a in alerts] == ["invitation_used_twice"]


def test_a_guard_at_any_kiosk_verifies_any_badge_of_the_site(
    office: Office, kiosks: KioskFactory
) -> None:
    host_ref, _ = book_with_invitation(office)
    lobby, lobby_sync = kiosks.new()
    garage, garage_sync = kiosks.new()
    lobby_sync.run_once()
    visit_ref = walk_in(lobby, host_ref)
    with lobby.using():
        badge = lobby.engine.badge_content(visit_ref).token
    with garage.using(), pytest.raises(TokenRejected):
        garage.engine.verify_badge(badge)  # not synced yet: this kiosk does not know it
    lobby_sync.run_once()
    garage_sync.run_once()
    with garage.using():
        check = garage.engine.verify_badge(badge)
        assert (check.visitor_name, check.host_name) == ("Carol White", "Maria Schmidt")
        assert any(entry.visit_ref == visit_ref for entry in garage.engine.on_site())
    # The visitor leaves through the garage; the lobby learns it.
    with garage.using():
        garage.engine.check_out_with_badge(badge)
    pushed = garage_sync.run_once()
    pulled = lobby_sync.run_once()
    assert pushed.pushed >= 1 and pulled.pulled >= 1, (pushed, pulled)
    with lobby.using(), pytest.raises(TokenRejected) as caught:
        lobby.engine.verify_badge(badge)
    assert caught.value.reason is RejectReason.CHECKED_OUT


class FaultyTransport(httpx.BaseTransport):
    """A real HTTP transport with faults scheduled by call number."""

    def __init__(self, faults: dict[int, str]) -> None:
        self.inner = httpx.HTTPTransport()
        self.faults = faults
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        fault = self.faults.get(self.calls)
        if fault == "down":
            raise httpx.ConnectError("connection refused", request=request)
        if fault == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if fault == "500":
            return httpx.Response(500, text="Internal Server Error", request=request)
        if fault == "503":
            return httpx.Response(
                503, headers={"Retry-After": "7"}, json={"detail": "busy"}, request=request
            )
        response = self.inner.handle_request(request)
        if fault == "drop":  # the office did the work; the answer is lost on the way back
            response.read()
            raise httpx.RemoteProtocolError("connection closed mid-response", request=request)
        return response


@pytest.mark.parametrize("fault", ["down", "timeout", "500", "503", "drop"])
def test_faults_lose_nothing_and_duplicate_nothing(
    office: Office, kiosks: KioskFactory, fault: str
) -> None:
    host_ref, _ = book_with_invitation(office)
    transport = FaultyTransport({})
    kiosk, client = kiosks.new(transport=transport)
    client.run_once()
    for number in range(30):
        walk_in(kiosk, host_ref, f"Visitor {number}")
    client._batch_size = 25  # several batches, the fault in the middle of them
    transport.faults = {transport.calls + 2: fault, transport.calls + 3: fault}
    with pytest.raises(SyncError):
        client.run_once()
    status = client.status()
    assert status.failures == 1 and status.last_error and status.next_attempt
    if fault == "503":
        assert "503" in status.last_error
    assert client.run_once().skipped  # backing off: it waits as told
    while True:
        try:
            client.run_once(force=True)
            break
        except SyncError:
            continue
    assert_exactly_once(office, kiosk)
    assert client.status().failures == 0


def test_the_backoff_survives_a_restart(office: Office, kiosks: KioskFactory) -> None:
    from kiosk.sync.client import SyncClient

    kiosk, client = kiosks.new(transport=FaultyTransport({2: "down"}))  # 1 is the enrolment
    with pytest.raises(SyncError):
        client.run_once()
    restarted = SyncClient(kiosk)
    assert restarted.run_once().skipped
    assert restarted.run_once(force=True).pulled > 0


def test_a_kiosk_cut_off_for_long_tries_again_within_a_minute(
    office: Office, kiosks: KioskFactory
) -> None:
    """However long the office was out of reach, the next try is at most a minute away
    (with jitter): after a ten-minute partition the soak's kiosks catch up within two."""
    from kiosk.domain.clock import ManualClock

    clock = ManualClock(MONDAY_10AM)
    _kiosk, client = kiosks.new(
        clock=clock, transport=FaultyTransport(dict.fromkeys(range(2, 40), "down"))
    )
    waits = []
    for _ in range(20):
        with pytest.raises(SyncError):
            client.run_once(force=True)
        waits.append(datetime.fromisoformat(client.status().next_attempt or "") - clock.now())
        clock.advance(waits[-1])
    assert waits[0] <= timedelta(seconds=4)  # the first failures are retried at once
    assert all(timedelta(seconds=30) <= wait <= timedelta(seconds=60) for wait in waits[6:])


def test_idle_kiosks_do_not_move_in_step(office: Office, kiosks: KioskFactory) -> None:
    """A kiosk with nothing to send waits about the idle time, never the same time twice in
    a row, so kiosks an office stall held up together drift apart again."""
    import threading

    _kiosk, client = kiosks.new()
    client.run_once()
    waits: list[float] = []

    class CountingStop(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            waits.append(timeout or 0.0)
            if len(waits) == 12:
                self.set()
            return self.is_set()

    client.run_forever(CountingStop(), idle=5.0)
    assert all(4.0 <= wait <= 6.0 for wait in waits), waits
    assert len(set(waits)) == len(waits)


def test_three_kiosks_pushing_at_once(office: Office, kiosks: KioskFactory) -> None:
    host_ref, _ = book_with_invitation(office)
    pairs = [kiosks.new() for _ in range(3)]
    for kiosk, client in pairs:
        client.run_once()
        for number in range(40):
            walk_in(kiosk, host_ref, f"{kiosk.kiosk_id} {number}")
        client._batch_size = 20
    failures: list[BaseException] = []

    def push(client: object) -> None:
        try:
            client.run_once(force=True)  # type: ignore[attr-defined]
        except BaseException as err:
            failures.append(err)

    threads = [threading.Thread(target=push, args=(client,)) for _, client in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    for kiosk, _ in pairs:
        assert_exactly_once(office, kiosk)
    with office.store.db.connection_context():
        assert OfficeVisit.select().count() == 120
        duplicates = (
            Event.select(Event.event_id).group_by(Event.event_id).having(fn.COUNT(Event.id) > 1)
        )
        assert not duplicates.exists()


def test_a_rejected_event_is_kept_with_its_reason_and_blocks_nothing(
    office: Office, kiosks: KioskFactory
) -> None:
    host_ref, _ = book_with_invitation(office)
    kiosk, client = kiosks.new()
    client.run_once()
    walk_in(kiosk, host_ref)
    with kiosk.using():
        OutboxEvent.create(
            event_id="f" * 32,
            kind="visit.teleported",
            subject_ref="x",
            payload="{}",
            occurred_at=MONDAY_10AM,
        )
    walk_in(kiosk, host_ref, "Dave Later")
    report = client.run_once()
    assert report.rejected == 1 and report.pushed >= 6
    with kiosk.using():
        bad = OutboxEvent.get(OutboxEvent.event_id == "f" * 32)
    assert (
        bad.sent_at is None
        and bad.rejected_at is not None
        and "unknown event kind" in bad.last_error
    )
    assert client.status().rejected == 1 and client.status().backlog == 0


def test_a_skewed_kiosk_clock_is_tolerated_and_recorded(
    office: Office, kiosks: KioskFactory
) -> None:
    """The kiosk's clock says Monday 10:00 in Shanghai; the office's is the real one."""
    kiosk, client = kiosks.new()
    client.run_once()
    skew = client.status().clock_skew_seconds
    assert skew is not None
    with kiosk.using():
        kiosk_now = kiosk.clock.now()
    from datetime import UTC, datetime

    expected = (datetime.now(UTC) - kiosk_now).total_seconds()
    assert abs(skew - expected) < 60


# ------------------------------------------------------------------ security


def signed_post(office: Office, kiosk, path: str, body: dict, key_path=None) -> httpx.Response:
    from kiosk.services.keys import load_private_key

    raw = json.dumps(body).encode()
    key = load_private_key(key_path or kiosk.keys.directory / "office-auth.key")
    from datetime import UTC, datetime

    headers = sign_request(
        key, kiosk.kiosk_id, "POST", path, raw, int(datetime.now(UTC).timestamp() * 1000)
    )
    return httpx.post(office.url + path, content=raw, headers=headers)


def event(kiosk_id: str, seq: int = 1, **payload: object) -> dict:
    return {
        "event_id": f"{seq:032x}",
        "seq": seq,
        "kind": "visit.checked_in",
        "subject_ref": "aaaaaaaaaaaaaaaa",
        "occurred_at": MONDAY_10AM.isoformat(),
        "payload": {
            "visit": "aaaaaaaaaaaaaaaa",
            "state": "checked_in",
            "kiosk": kiosk_id,
            "arrived_at": MONDAY_10AM.isoformat(),
            **payload,
        },
    }


def test_unsigned_and_forged_requests_are_refused(
    office: Office, kiosks: KioskFactory, tmp_path
) -> None:
    kiosk, _ = kiosks.new()
    assert httpx.post(office.url + "/v1/events", json={"events": []}).status_code == 401
    assert httpx.get(office.url + "/v1/changes").status_code == 401
    from kiosk.services.keys import create_private_key

    create_private_key(tmp_path / "stolen.key")
    forged = signed_post(
        office, kiosk, "/v1/events", {"events": [event(kiosk.kiosk_id)]}, tmp_path / "stolen.key"
    )
    assert forged.status_code == 401


def test_a_replayed_request_is_refused(office: Office, kiosks: KioskFactory) -> None:
    kiosk, _ = kiosks.new()
    from datetime import UTC, datetime

    from kiosk.services.keys import load_private_key

    raw = json.dumps({"events": [event(kiosk.kiosk_id)]}).encode()
    key = load_private_key(kiosk.keys.directory / "office-auth.key")
    headers = sign_request(
        key, kiosk.kiosk_id, "POST", "/v1/events", raw, int(datetime.now(UTC).timestamp() * 1000)
    )
    assert httpx.post(office.url + "/v1/events", content=raw, headers=headers).status_code == 200
    again = httpx.post(office.url + "/v1/events", content=raw, headers=headers)
    assert again.status_code == 401 and "replayed" in again.json()["detail"]


def test_a_kiosk_cannot_write_another_kiosks_events(office: Office, kiosks: KioskFactory) -> None:
    mine, _ = kiosks.new()
    other, _ = kiosks.new()
    answer = signed_post(
        office, mine, "/v1/events", {"events": [event(other.kiosk_id), event(mine.kiosk_id, 2)]}
    )
    results = {r["event_id"]: r for r in answer.json()["results"]}
    assert results[f"{1:032x}"]["status"] == "rejected"
    assert "its own events" in results[f"{1:032x}"]["error"]
    assert results[f"{2:032x}"]["status"] == "stored"


def test_a_revoked_kiosk_is_refused_at_once_and_its_badges_distrusted(
    office: Office, kiosks: KioskFactory
) -> None:
    host_ref, _ = book_with_invitation(office)
    stolen, stolen_sync = kiosks.new()
    guard, guard_sync = kiosks.new()
    stolen_sync.run_once()
    visit_ref = walk_in(stolen, host_ref)
    with stolen.using():
        badge = stolen.engine.badge_content(visit_ref).token
    stolen_sync.run_once()
    office.store.revoke_kiosk(stolen.kiosk_id)
    with pytest.raises(SyncError, match="403"):
        stolen_sync.run_once(force=True)
    assert stolen_sync.status().next_attempt
    guard_sync.run_once()
    with guard.using():
        assert TrustedKey.select().where(TrustedKey.revoked_at.is_null(False)).count() == 1
        guard.engine._badges._keyring.reload()
        with pytest.raises(TokenRejected) as caught:
            guard.engine.verify_badge(badge)
    assert caught.value.reason is RejectReason.KEY_REVOKED


def test_an_enrolment_code_works_once(office: Office, kiosks: KioskFactory) -> None:
    code = office.store.enrolment_code(SITE)
    _first, first_sync = kiosks.new(enrol=False)
    _second, second_sync = kiosks.new(enrol=False)
    first_sync.enroll(office.url, code)
    with pytest.raises(SyncError, match="unknown, used or expired"):
        second_sync.enroll(office.url, code)


def test_an_enrolment_code_wins_once_among_parallel_tries(office: Office) -> None:
    code = office.store.enrolment_code(SITE)
    start = threading.Barrier(16)

    def enrol(n: int) -> int:
        body = {
            "code": code, "kiosk_id": f"kiosk-race-{n}",
            "auth_public_key": raw_public_key(Ed25519PrivateKey.generate().public_key()).hex(),
            "badge_public_key": raw_public_key(Ed25519PrivateKey.generate().public_key()).hex(),
        }  # fmt: skip
        start.wait()
        return httpx.post(f"{office.url}/v1/enrol", json=body, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = sorted(pool.map(enrol, range(16)))

    # One wins; the others are refused, or on SQLite may be told to retry (503), after
    # which they are refused.
    assert statuses.count(200) == 1 and set(statuses) <= {200, 403, 503}, statuses
    with office.store.db.connection_context():
        assert (
            OfficeKiosk.select().where(OfficeKiosk.kiosk_id.startswith("kiosk-race-")).count() == 1
        )


def test_the_sites_invitation_key_cannot_be_enrolled_as_a_badge_key(
    office: Office, kiosks: KioskFactory
) -> None:
    _, token = book_with_invitation(office)
    with office.store.db.connection_context():
        site_key = SiteKey.get(SiteKey.site == office.store.site(SITE)).public_key
    attempt = httpx.post(
        f"{office.url}/v1/enrol",
        json={
            "code": office.store.enrolment_code(SITE), "kiosk_id": "kiosk-shadow",
            "auth_public_key": raw_public_key(Ed25519PrivateKey.generate().public_key()).hex(),
            "badge_public_key": site_key,
        },
    )  # fmt: skip
    assert attempt.status_code == 403, attempt.text

    kiosk, client = kiosks.new()  # enrolled afterwards: genuine invitations still work
    client.run_once()
    with kiosk.using():
        assert kiosk.engine.check_in_with_invitation(token).outcome is Outcome.CHECKED_IN


def test_a_malformed_feed_row_is_skipped_by_the_kiosk_and_not_pulled_again(
    office: Office, kiosks: KioskFactory
) -> None:
    """A row the office's ingest would refuse today (an on-site visit without its arrival,
    an escape sequence in the name) but that is in its feed all the same: written before the
    checks, or by hand. The kiosk skips it, applies what follows it, and moves on."""
    kiosk, client = kiosks.new()
    client.run_once()
    site = office.store.site(SITE)
    with office.store.db.connection_context():
        ChangeLog.create(
            site=site,
            entity="visit",
            ref="badbadbadbadbad1",
            data=json.dumps(
                {"state": "checked_in", "visitor_name": "Eve\x1b[2J", "arrived_at": None}
            ),
        )
    host = office.store.add_host(SITE, "Maria Schmidt", email="maria@example.com")
    report = client.run_once()
    assert (report.pulled, report.refused) == (1, 1)
    with kiosk.using():
        assert Host.get(Host.ref == host.ref).name == "Maria Schmidt"
        assert not Visit.select().where(Visit.ref == "badbadbadbadbad1").exists()
        assert kiosk.engine.on_site() == []
        with office.store.db.connection_context():
            newest = ChangeLog.select(fn.MAX(ChangeLog.id)).scalar()
        assert current_cursor() == newest
    again = client.run_once()
    assert (again.pulled, again.refused) == (0, 0)
    assert client.status().last_error is None


def test_an_appointment_booked_at_a_standalone_kiosk_reaches_the_office(
    office: Office, kiosks: KioskFactory
) -> None:
    """`kiosk appointments add|import` on the kiosk: its visit.expected is taken, not refused."""
    host_ref, _ = book_with_invitation(office)
    kiosk, client = kiosks.new()
    client.run_once()
    with kiosk.using():
        booked = kiosk.directory.add_appointment(
            visitor_name="王芳", host=host_ref, starts_at=MONDAY_10AM + timedelta(hours=2)
        )
        expected = Visit.get(Visit.appointment == booked).ref
    report = client.run_once()
    assert report.rejected == 0 and report.pushed >= 1
    assert_exactly_once(office, kiosk)
    with office.store.db.connection_context():
        visit = OfficeVisit.get(OfficeVisit.ref == expected)
    assert visit.state == "expected"
